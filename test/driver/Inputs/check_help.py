"""For each help text: under 45 lines for `mnc --help` (the first file) and
60 for a subcommand's (the shared input and quantization options included), no option LLVM registers for itself (recognized by
the prefixes of its internal flags), and a description on every option
line. Prints "ok" or the problems per file."""
import re
import sys

LLVM_PREFIXES = ("--aarch64-", "--amdgpu-", "--arm-", "--x86-", "--polly",
                 "--time-passes", "--stats", "--debug",
                 "--enable-", "--disable-", "--mir-", "--regalloc")

for i, path in enumerate(sys.argv[1:]):
    lines = open(path).read().splitlines()
    problems = []
    if len(lines) >= (45 if i == 0 else 60):
        problems.append(f"{len(lines)} lines")
    for line in lines:
        m = re.match(r"  (-{1,2}[\w-]+)", line)
        if not m:
            continue
        if m.group(1).startswith(LLVM_PREFIXES):
            problems.append(f"LLVM option {m.group(1)}")
        if not re.search(r" - \S", line):
            problems.append(f"no description: {line.strip()}")
    print("ok" if not problems else f"{path}: " + "; ".join(problems))
