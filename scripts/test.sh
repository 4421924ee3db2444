#!/usr/bin/env bash
# The project's test command: installs missing dependencies, builds mnc in
# build/ and runs every test registered with CTest (lit suites, GoogleTest,
# end-to-end and cross-target tests). Exits non-zero if anything fails, or
# if no test ran.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
trap 'echo "mnc: scripts/test.sh finished in $((SECONDS - start)) s"' EXIT

bash scripts/build.sh
# -V shows each suite's own summary (lit's counts, GoogleTest's totals).
ctest --test-dir build -V --no-tests=error
