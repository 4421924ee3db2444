#!/usr/bin/env bash
# Sanitizer and fuzz regression runs, kept out of scripts/test.sh because
# they take several times as long as the normal build:
#   build-asan: the whole tree with AddressSanitizer + UndefinedBehavior-
#               Sanitizer (gcc), then every CTest test (lit and unit).
#   build-fuzz: the importer fuzzer (clang-19, libFuzzer), run once over the
#               committed corpus; skipped with a note if clang-19 is missing.
# Usage: scripts/test-sanitizers.sh [-jN]   (default -j1)
# Extra: FUZZ_SECONDS=600 also fuzzes for that long (crashers land in
#        build-fuzz/crashes/), seeded with the committed corpus, the ONNX
#        backend node-test models (libonnx-testdata) and the real models
#        under 1.1 MB in examples/data. Inputs that add coverage beyond the
#        corpus are committed under fuzz/corpus/found/ (see
#        fuzz/make_corpus.py).
# A failing test does not stop the later steps: every step runs, and the
# script exits non-zero at the end if any failed. A failing build stops it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=${1:--j1}
start=$SECONDS
trap 'echo "mnc: scripts/test-sanitizers.sh finished in $((SECONDS - start)) s"' EXIT

# -O1 keeps sanitized binaries fast enough for the real-model tests.
opt=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g"
     -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g")
# Leaks in one-shot tools are not worth failing on; the rest is.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

cmake -G Ninja -S . -B build-asan -DMNC_SANITIZE=ON "${opt[@]}"
ninja -C build-asan "$jobs"
status=0
ctest --test-dir build-asan -V --no-tests=error || status=1

if ! command -v clang++-19 > /dev/null; then
  echo "mnc: clang++-19 not found; skipping the fuzzer build"
  exit "$status"
fi
cmake -G Ninja -S . -B build-fuzz -DMNC_FUZZ=ON -DCMAKE_C_COMPILER=clang-19 \
  -DCMAKE_CXX_COMPILER=clang++-19 "${opt[@]}"
ninja -C build-fuzz "$jobs" mnc-import-fuzzer
ctest --test-dir build-fuzz -V -R '^fuzz-corpus$' --no-tests=error || status=1
if [[ -n ${FUZZ_SECONDS:-} ]]; then
  seeds=build-fuzz/seeds
  mkdir -p build-fuzz/corpus build-fuzz/crashes "$seeds"
  for model in /usr/share/libonnx-testdata/data/*/*/model.onnx; do
    [[ -f $model ]] || continue
    dir=$(dirname "$model")
    cp "$model" "$seeds/$(basename "$(dirname "$dir")")-$(basename "$dir").onnx"
  done
  find examples/data -name '*.onnx' -size -1100k -exec cp {} "$seeds" ';'
  build-fuzz/bin/mnc-import-fuzzer build-fuzz/corpus fuzz/corpus "$seeds" \
    -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix=build-fuzz/crashes/ || status=1
fi
exit "$status"
