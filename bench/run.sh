#!/usr/bin/env bash
# Benchmark: compiles MobileNet V1, V2, V3-Small, V3-Large at 224, V2 0.35 at
# 96 (torchvision graphs, random weights), the pretrained int8 MobileNetV2
# (QOperator) and MobileNetV2 1.0 224 quantized to int8 QDQ by
# tools/models/quantize_qdq.py (ONNX Runtime's quantize_static layout), and
# times mnc's object against ONNX Runtime on the same model and input in
# one run: each with 1 thread and with --threads N (default 2; mnc through
# NAME_run_parallel on the pthread pool of runtime/mnc_pthread.h, ORT with
# its intra-op thread count). Prints milliseconds (median), mnc/ORT at 1
# and N threads and mnc(N)/mnc(1) (below 1: the left one is faster). With
# --max-ram BYTES, also mnc single-threaded compiled with that budget
# (blocks run patch by patch, fuse-blocks) and its ratio to layer by layer,
# the two timed in one process, rounds of ten runs of each in turn ("-"
# where the model cannot fit the budget). Then mnc's single-threaded
# time per layer kind (stem, expand, depthwise, project, tail, ...) on
# MobileNetV2 fp32 and int8, from `mnc run --profile`. Not a test: there
# is no pass/fail on time.
#
# usage: bash bench/run.sh [--runs N] [--warmup N] [--threads N]
#                          [--max-ram BYTES] [--only NAME,...]
# MNC_BUILD=DIR uses an existing build tree instead of building build/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=300 warmup=30 threads=2 maxram="" only=""
while [ $# -gt 0 ]; do
  case "$1" in
  --runs) runs=$2; shift 2 ;;
  --warmup) warmup=$2; shift 2 ;;
  --threads) threads=$2; shift 2 ;;
  --max-ram) maxram=$2; shift 2 ;;
  --only) only=$2; shift 2 ;;
  -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done

build=${MNC_BUILD:-build}
[ -n "${MNC_BUILD:-}" ] || bash scripts/build.sh >/dev/null
work=$build/bench
mkdir -p "$work/models"
models="mobilenet_v1 mobilenet_v2 mobilenet_v3_small mobilenet_v3_large mobilenet_v2_0.35_96"
/usr/bin/python3 tools/models/export_torchvision.py "$work/models" \
  --only "$(echo $models | tr ' ' ,)" >&2
cp examples/data/mobilenetv2-12-int8.onnx "$work/models/mobilenet_v2_int8.onnx"
cp examples/data/coral_grace_hopper.npy "$work/models/mobilenet_v2_int8.input.npy"
qdq=$work/models/mobilenet_v2_qdq
[ -f "$qdq.onnx" ] || /usr/bin/python3 tools/models/quantize_qdq.py \
  "$work/models/mobilenet_v2.onnx" "$qdq.onnx" --ort tools/ort/run.mjs >&2
cp "$work/models/mobilenet_v2.input.npy" "$qdq.input.npy"
models="$models mobilenet_v2_int8 mobilenet_v2_qdq"

median() { sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p'; }
# ONNX Runtime's median on $model with $1 threads.
ort() { node tools/ort/bench.mjs "$model" --input "input=$input" --threads "$1" --runs "$runs" --warmup "$warmup" | median; }

flags=$(grep -m1 '^flags' /proc/cpuinfo)
isa=AVX2
case " $flags " in *" avx512f "*) isa=AVX-512 ;; esac
case " $flags " in *" avx512_vnni "*) isa="$isa+VNNI" ;; esac
field() { grep -m1 "^$1[[:space:]]*:" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'; }
echo "CPU: $(field 'model name') (family $(field 'cpu family'), model $(field model); $isa), $(nproc) cores"
n=$threads
printf '%-22s %9s %9s %9s %9s %10s %10s %10s' model "mnc 1t" "mnc ${n}t" \
  "ORT 1t" "ORT ${n}t" "mnc/ORT 1" "mnc/ORT $n" "mnc $n/1"
[ -z "$maxram" ] || printf ' %10s %10s' "patched 1t" "patched/1t"
echo
for m in $models; do
  case ",$only," in ,, | *",$m,"*) ;; *) continue ;; esac
  dir=$work/$m
  mkdir -p "$dir"
  model=$work/models/$m.onnx input=$work/models/$m.input.npy
  "$build/bin/mnc" compile "$model" -o "$dir/net.o" --header "$dir/net.h" --name net --mcpu native
  cc -O2 -pthread -I"$dir" -Iruntime bench/bench_main.c "$dir/net.o" \
    runtime/pthread.c runtime/parallel.c -o "$dir/bench"
  mnc1=$("$dir/bench" "$input" "$runs" "$warmup" 1 | median)
  mncN=$("$dir/bench" "$input" "$runs" "$warmup" "$n" | median)
  ort1=$(ort 1)
  ortN=$(ort "$n")
  awk -v m="$m" -v a="$mnc1" -v b="$mncN" -v c="$ort1" -v d="$ortN" \
    'BEGIN { printf "%-22s %9s %9s %9s %9s %10.2f %10.2f %10.2f", m, a, b, c, d, a / c, b / d, b / a }'
  if [ -n "$maxram" ]; then
    mkdir -p "$dir/patched"
    if "$build/bin/mnc" compile "$model" -o "$dir/patched/fused.o" \
      --header "$dir/patched/fused.h" --name fused --mcpu native \
      --max-ram="$maxram" 2>/dev/null; then
      cc -O2 -pthread -DFUSED -I"$dir" -I"$dir/patched" -Iruntime bench/bench_main.c \
        "$dir/net.o" "$dir/patched/fused.o" runtime/pthread.c runtime/parallel.c \
        -o "$dir/patched/bench"
      # Layer by layer and patched in turn (bench_main.c).
      pair=$("$dir/patched/bench" "$input" "$runs" "$warmup" 1 | median)
      awk -v a="$(echo "$pair" | sed -n 1p)" -v p="$(echo "$pair" | sed -n 2p)" \
        'BEGIN { printf " %10s %10.2f", p, p / a }'
    else
      printf ' %10s %10s' - -
    fi
  fi
  echo
done
for m in mobilenet_v2 mobilenet_v2_int8 mobilenet_v2_qdq; do
  case ",$only," in ,, | *",$m,"*) ;; *) continue ;; esac
  echo
  echo "$m, 1 thread, time per layer kind (mnc run --profile, $runs runs):"
  "$build/bin/mnc" run "$work/models/$m.onnx" \
    --input "input=$work/models/$m.input.npy" --output-dir "$work/$m/profile" \
    --mcpu native --profile --profile-runs "$runs" | sed -n '/^by layer kind/,$p'
done
