#!/usr/bin/env bash
# Benchmark for ARM cores without ARM hardware, two measures:
# 1. qemu: MobileNetV2 0.35 96 (torchvision graph, random weights) in fp32
#    and quantized to int8 QDQ by tools/models/quantize_qdq.py, compiled for
#    Cortex-M4 (mps2-an386), M7 (mps2-an500) and M55 (mps3-an547), linked
#    with backends/cortex-m and test/backends/cortex-m/model_driver.c built
#    with -DSYSTICK_TICKS (examples/firmware/systick.c counts the ticks),
#    run under qemu-system-arm -icount shift=0: one
#    instruction is 1 ns of virtual time, so the SysTick ticks around
#    model_run give the instructions per inference (instructions, not
#    cycles: no pipeline or memory model). Divided by the MACs that
#    `mnc inspect` counts: instructions per MAC. With --profile, the
#    models are compiled with --profile, the driver with -DSYSTICK_PROFILE,
#    and the instructions and MACs of every kernel call are summed per
#    kernel (per op kind for ops without one) after the table; the table's
#    totals then include the clock reads around each call (about 0.1 %).
# 2. mca: the pretrained int8 MobileNetV2 (QOperator) compiled for Cortex-A76,
#    M7 and M55; bench/hot_loop.py takes, among the 1x1 convs
#    (i8_conv1x1), the innermost loop with the most int8
#    multiply-accumulates (sdot, smlad, MVE vmla*) and llvm-mca-19
#    gives its steady-state cycles per iteration (Total Cycles/Iterations;
#    A76 on the neoverse-n1 model: LLVM 19 has none for A76). MACs per
#    cycle against the core's peak. Not a test: no pass/fail on numbers.
#
# usage: bash bench/arm.sh [--only qemu|mca] [--profile]
# MNC_BUILD=DIR uses an existing build tree instead of building build/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

only="" profile=""
while [ $# -gt 0 ]; do
  case "$1" in
  --only) only=$2; shift 2 ;;
  --profile) profile=1; shift ;;
  -h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done
case "$only" in "" | qemu | mca) ;; *) echo "bench: --only qemu or mca" >&2; exit 1 ;; esac

build=${MNC_BUILD:-build}
[ -n "${MNC_BUILD:-}" ] || bash scripts/build.sh >/dev/null
mnc=$build/bin/mnc
work=$build/bench/arm
mkdir -p "$work"
echo "mnc $(git rev-parse --short HEAD), $(qemu-system-arm --version | head -1)," \
  "$(llvm-mca-19 --version | grep -o 'LLVM version [0-9.]*')"

# The board of each core: qemu machine, SysTick period under -icount
# shift=0 (ns, i.e. instructions, per tick of the processor clock: 25 MHz on
# mps2, 32 MHz on mps3-an547, qemu hw/arm/mps2.c and mps2-tz.c), triple,
# gcc flags, and where weights and RAM go (backends/cortex-m/firmware.ld).
board() {
  case $1 in
  m4) machine=mps2-an386 period=40 triple=thumbv7em-none-eabihf
    gccflags="-mcpu=cortex-m4 -mfpu=fpv4-sp-d16"
    layout=WEIGHTS=0x21000000,WEIGHTS_SIZE=16M,DATA=0x20000000,DATA_SIZE=4M ;;
  m7) machine=mps2-an500 period=40 triple=thumbv7em-none-eabihf
    gccflags="-mcpu=cortex-m7 -mfpu=fpv5-d16"
    layout=WEIGHTS=0x60000000,WEIGHTS_SIZE=16M,DATA=0x20000000,DATA_SIZE=4M ;;
  m55) machine=mps3-an547 period=31.25 triple=thumbv8.1m.main-none-eabihf
    gccflags="-mcpu=cortex-m55"
    layout=WEIGHTS=0x60000000,WEIGHTS_SIZE=16M,DATA=0x21000000,DATA_SIZE=4M ;;
  esac
}

macs() {
  "$mnc" inspect "$@" --format json |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["macs"])'
}

qemu() {
  local models=$build/bench/models net=mobilenet_v2_0.35_96
  /usr/bin/python3 tools/models/export_torchvision.py "$models" --only $net >&2
  [ -f "$models/${net}_qdq.onnx" ] || /usr/bin/python3 tools/models/quantize_qdq.py \
    "$models/$net.onnx" "$models/${net}_qdq.onnx" --ort tools/ort/run.mjs >&2
  echo
  echo "$net under qemu-system-arm -icount shift=0 (instructions per inference)"
  printf '%-6s %-5s %-11s %10s %13s %10s\n' model core board MACs instructions instr/MAC
  for kind in int8 fp32; do
    local model=$models/$net.onnx
    [ $kind = fp32 ] || model=$models/${net}_qdq.onnx
    for core in m4 m7 m55; do
      local dir=$work/$kind-$core
      mkdir -p "$dir"
      board $core
      "$mnc" compile "$model" --target "$triple" --mcpu "cortex-$core" --name model \
        -o "$dir/model.o" --header "$dir/model.h" ${profile:+--profile}
      # shellcheck disable=SC2086
      arm-none-eabi-gcc -mthumb -mfloat-abi=hard $gccflags --specs=rdimon.specs \
        -nostartfiles -O1 -std=c99 -I"$dir" -Iexamples/firmware -DSYSTICK_TICKS \
        ${profile:+-DSYSTICK_PROFILE} \
        -DINPUT_PATH="\"$models/$net.input.npy\"" -DOUTPUT_PATH="\"$dir/output.bin\"" \
        backends/cortex-m/startup.c test/backends/cortex-m/model_driver.c \
        examples/firmware/systick.c "$dir/model.o" \
        -T backends/cortex-m/firmware.ld -Wl,--no-warn-execstack,--defsym="${layout//,/,--defsym=}" \
        -o "$dir/model.elf"
      qemu-system-arm -display none -monitor none -serial null \
        -semihosting-config enable=on,target=native -icount shift=0 \
        -M "$machine" -kernel "$dir/model.elf" >"$dir/run.txt"
      grep -qx ok "$dir/run.txt" || { cat "$dir/run.txt" >&2; exit 1; }
      local ticks n
      ticks=$(sed -n 's/^ticks //p' "$dir/run.txt")
      n=$(macs "$model" --target "$triple" --mcpu "cortex-$core")
      awk -v k=$kind -v c=$core -v b="$machine" -v m="$n" -v t="$ticks" -v p="$period" \
        'BEGIN { printf "%-6s %-5s %-11s %10d %13.0f %10.2f\n", k, c, b, m, t * p, t * p / m }'
    done
  done
  [ -z "$profile" ] || for kind in int8 fp32; do
    for core in m4 m7 m55; do
      board $core
      echo
      echo "$kind $core, per kernel (--profile): calls, instructions, share, MACs, instr/MAC"
      # "step TICKS MACS #op mnemonic kernel-or-type ...": kernel names
      # contain "__"; other ops go by mnemonic.
      awk -v p="$period" '$1 == "step" {
          key = index($6, "__") ? $6 : $5
          n[key]++; t[key] += $2 * p; m[key] += $3; total += $2 * p }
        END { for (k in n) printf "  %-30s %5d %13.0f %5.1f%% %10d %8s\n", k, n[k],
                t[k], 100 * t[k] / total, m[k], m[k] ? sprintf("%.2f", t[k] / m[k]) : "-" }' \
        "$work/$kind-$core/run.txt" | sort -k3,3nr
    done
  done
}

mca() {
  local model=examples/data/mobilenetv2-12-int8.onnx
  echo
  echo "int8 MobileNetV2 (QOperator) hot loop under llvm-mca-19 (cycles per iteration)"
  printf '%-4s %-12s %-11s %-22s %6s %9s %11s %10s %5s\n' \
    core mca-model mac loop instrs MACs/iter cycles/iter MACs/cycle peak
  # core, triple, --mcpu, llvm-mca -mcpu, multiply-accumulate mnemonic
  # (regular expression), peak int8 MACs per cycle (A76: 2 sdot pipes x 16;
  # M7: one or two smlad x 2; M55: 64-bit MVE beats, 8).
  while read -r core triple cpu model_cpu mnemonic peak; do
    local dir=$work/mca-$core
    mkdir -p "$dir"
    "$mnc" compile "$model" --target "$triple" --mcpu "$cpu" --name model --emit asm \
      -o "$dir/model.s" </dev/null
    "$mnc" compile "$model" --target "$triple" --mcpu "$cpu" --name model --emit ir \
      -o "$dir/model.mnir" </dev/null
    local info
    info=$(/usr/bin/python3 bench/hot_loop.py "$dir/model.s" "$dir/loop.s" "$mnemonic" \
      "$dir/model.mnir" i8_conv1x1)
    echo "$info" >"$dir/loop.txt"
    llvm-mca-19 -mtriple="$triple" -mcpu="$model_cpu" -iterations=500 \
      -skip-unsupported-instructions=lack-sched "$dir/loop.s" >"$dir/mca.txt" 2>"$dir/mca.err"
    local iterations cycles
    iterations=$(sed -n 's/^Iterations: *//p' "$dir/mca.txt")
    cycles=$(sed -n 's/^Total Cycles: *//p' "$dir/mca.txt")
    awk -v c="$core" -v mc="$model_cpu" -v info="$info" -v it="$iterations" \
      -v cy="$cycles" -v p="$peak" 'BEGIN {
        n = split(info, kv, " ")
        for (i = 1; i <= n; i++) { split(kv[i], f, "="); v[f[1]] = f[2] }
        sub(/^model_run\./, "", v["function"])
        per = cy / it
        printf "%-4s %-12s %-11s %-22s %6d %9d %11.2f %10.2f %5s\n", c, mc,
          v["mac_instructions"], v["function"] " " v["loop"], v["instructions"],
          v["macs"], per, v["macs"] / per, p
      }'
  done <<'EOF'
a76 aarch64-linux-gnu cortex-a76 neoverse-n1 sdot 32
m7 thumbv7em-none-eabihf cortex-m7 cortex-m7 smlad 2-4
m55 thumbv8.1m.main-none-eabihf cortex-m55 cortex-m55 vml[a-z]*\.[isu](8|16|32) 8
EOF
}

[ "$only" = mca ] || qemu
[ "$only" = qemu ] || mca
