#!/usr/bin/env bash
# Installs everything mnc needs to build and test on Debian 12: the LLVM 19
# toolchain and libraries, ONNX/protobuf, GoogleTest, the cross toolchains and
# qemu for the AArch64 and Cortex-M tests, Debian's torch for exporting test
# models, and ONNX Runtime (npm onnxruntime-node) as the reference runtime.
#
# Run as root (or with sudo available). Idempotent: it asks dpkg what is
# missing first and touches apt and npm only when something is, so a second
# run on a ready machine takes about a second.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  # build
  cmake ninja-build g++ git
  # LLVM 19 backend, clang for runtime bitcode, lit/FileCheck (llvm-19-tools)
  llvm-19-dev llvm-19-tools clang-19 libclang-rt-19-dev
  zlib1g-dev libzstd-dev libedit-dev libxml2-dev libffi-dev libcurl4-openssl-dev
  # ONNX import and the ONNX backend node tests
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  libfmt-dev libgtest-dev
  # image files in examples/detect
  libstb-dev
  # model export and test scripts
  python3 python3-onnx python3-numpy python3-torch python3-torchvision
  # cross targets: AArch64 Linux under qemu-user, Cortex-M under qemu-system-arm
  qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi
  binutils-arm-none-eabi
)
# Keep a Node.js that is already there (e.g. a newer one from another
# archive); only a machine without one gets Debian's.
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

# One dpkg-query for all names; unknown packages are simply not listed.
declare -A installed=()
while read -r name state; do
  [ "$state" = "installed" ] && installed[$name]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for p in "${packages[@]}"; do
  [ -n "${installed[$p]:-}" ] || missing+=("$p")
done

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  elif [ ${#missing[@]} -gt 0 ]; then
    echo "mnc: missing Debian packages: ${missing[*]}" >&2
    echo "mnc: run this script as root to install them" >&2
    exit 1
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "mnc: installing ${#missing[@]} Debian packages: ${missing[*]}"
  # Wait for another apt/dpkg run rather than failing on its lock.
  apt_opts=(-o DPkg::Lock::Timeout=600 -q)
  "${as_root[@]}" apt-get "${apt_opts[@]}" update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime for Node.js, at the version package-lock.json pins. Its
# install script would download GPU libraries, which fails without general
# internet access; the CPU library ships inside the package. The skip flag is
# also given as the environment variable that script reads, for npm versions
# that no longer pass unknown flags through.
ort="$root/tools/ort"
ort_installed() {
  node -e '
    const fs = require("fs");
    const read = (f) => JSON.parse(fs.readFileSync(process.argv[1] + f));
    const want = read("/package-lock.json").packages["node_modules/onnxruntime-node"];
    const have = read("/node_modules/onnxruntime-node/package.json");
    process.exit(want.version === have.version ? 0 : 1);
  ' "$ort" 2>/dev/null
}
if ! ort_installed; then
  echo "mnc: installing onnxruntime-node into tools/ort/node_modules..."
  (cd "$ort" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --onnxruntime-node-install=skip \
    --no-audit --no-fund --loglevel=error)
fi

echo "mnc: dependencies ready"
