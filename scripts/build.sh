#!/usr/bin/env bash
# Installs missing dependencies and builds mnc in build/ (Release, Ninja).
# Configures only when build/ has no build.ninja yet; ninja re-runs cmake
# by itself when a CMakeLists.txt changes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release
fi
ninja -C build
