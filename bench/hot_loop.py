#!/usr/bin/python3
"""Extracts the hottest int8 multiply-accumulate loop from `mnc compile
--emit asm` output, for llvm-mca (bench/arm.sh).

Without profiles, "hottest" is decided statically: the function with the
most instructions whose mnemonic matches the regular expression MNEMONIC
(sdot, smlad, vmla.*: the ISA's int8 multiply-accumulate, which the 1x1
conv kernels use), and in it the innermost loop with the most. A loop is
a label and the last instruction after it that branches back to it
(AArch64 b.ne/cbnz, Thumb bne/le, ...); innermost means it contains no
other loop. The loop body, label to back-branch, is written to OUT without
directives or comments; one line on stdout describes it:

  function=NAME loop=LABEL instructions=N macs=M mac_instructions=MNEMONIC:COUNT,...

where M is the int8 multiply-accumulates one iteration performs, counted
from the instructions' lanes (MACS below). With IR (`mnc compile --emit ir`
of the same model) and KERNEL, only the functions of ops whose `ukernel`
starts with KERNEL count (conv2d %N is function NAME_run.conv2d.N).

usage: bench/hot_loop.py ASM OUT MNEMONIC [IR KERNEL]
"""

import re
import sys

LABEL = re.compile(r"^([.\w$]+):")
FUNCTION = re.compile(r"^\s*\.type\s+([.\w$]+),\s*[@%]function", re.M)


def lanes(operands):
    """Lanes of a vector destination: v0.4s -> 4, q0 with .s8 -> 16."""
    m = re.match(r"v\d+\.(\d+)[bhsd]", operands)
    return int(m.group(1)) if m else 0


def macs(mnemonic, operands):
    """Multiply-accumulates of one instruction (0: not one)."""
    if mnemonic in ("sdot", "udot"):  # 4 products per i32 lane
        return 4 * lanes(operands)
    if mnemonic in ("smlad", "smladx", "smlald", "smlaldx"):  # 2 s16 pairs
        return 2
    if re.fullmatch(r"smla(bb|bt|tb|tt|wb|wt)", mnemonic):
        return 1
    if mnemonic in ("mla", "smlal", "smlal2", "umlal", "umlal2"):
        return lanes(operands)  # vector forms only: scalar mla is addressing
    # MVE (Helium): lanes from the element size of a 128-bit q register.
    m = re.fullmatch(r"vml(a|as|av|ava|adav|adava|aldav|aldava)\.[isu](8|16|32)",
                     mnemonic)
    if m and re.search(r"\bq\d", operands):
        return 128 // int(m.group(2))
    return 0


def instructions(lines):
    """(mnemonic, operands) of the instruction lines."""
    for line in lines:
        line = re.split(r"\s(//|@|;)", line)[0].strip()
        if not line or line.startswith(".") or LABEL.match(line):
            continue
        parts = line.split(None, 1)
        yield parts[0], parts[1] if len(parts) > 1 else ""


def functions(text):
    """{name: lines} of every function in the assembly."""
    names = set(FUNCTION.findall(text))
    result, current = {}, None
    for line in text.splitlines():
        m = LABEL.match(line)
        if m and m.group(1) in names:
            current = result.setdefault(m.group(1), [])
        elif current is not None and line.startswith(".Lfunc_end"):
            current = None
        elif current is not None:
            current.append(line)
    return result


def loops(lines):
    """(label, first, last) of each loop: first is the label's line index,
    last the back-branch's."""
    where = {}
    found = {}
    for i, line in enumerate(lines):
        m = LABEL.match(line)
        if m:
            where[m.group(1)] = i
            continue
        target = line.replace(",", " ").split()[-1:]
        if target and target[0] in where:
            found[target[0]] = (target[0], where[target[0]], i)
    return list(found.values())


def innermost(all_loops):
    return [a for a in all_loops
            if not any(b is not a and a[1] <= b[1] and b[2] <= a[2]
                       for b in all_loops)]


def kernel_ops(ir, kernel):
    """Suffixes ".op.N" of the functions of ops %N that run `kernel`."""
    op = re.compile(r"^\s*%(\d+) = (\w+) .*ukernel=\"" + re.escape(kernel))
    return {f".{m.group(2)}.{m.group(1)}"
            for m in map(op.match, open(ir)) if m}


def count(lines, mnemonic):
    return sum(1 for m, _ in instructions(lines) if re.fullmatch(mnemonic, m))


def main():
    if len(sys.argv) not in (4, 6):
        sys.exit(__doc__.strip().splitlines()[-1])
    asm, out, mnemonic = sys.argv[1:4]
    funcs = functions(open(asm).read())
    if len(sys.argv) == 6:
        suffixes = kernel_ops(*sys.argv[4:])
        funcs = {f: body for f, body in funcs.items()
                 if any(f.endswith(s) for s in suffixes)}
    name = max(sorted(funcs), key=lambda f: count(funcs[f], mnemonic),
               default=None)
    body = funcs.get(name, [])
    candidates = innermost(loops(body))
    if not count(body, mnemonic) or not candidates:
        sys.exit(f"{asm}: no loop with {mnemonic}")
    label, first, last = max(
        candidates, key=lambda l: count(body[l[1]:l[2] + 1], mnemonic))
    loop = list(instructions(body[first:last + 1]))
    counts = {}
    for m, o in loop:
        if macs(m, o):
            counts[m] = counts.get(m, 0) + 1
    with open(out, "w") as f:
        f.write(f"{label}:\n")
        f.writelines(f"\t{m}\t{o}\n" for m, o in loop)
    print(f"function={name} loop={label} instructions={len(loop)} "
          f"macs={sum(macs(m, o) for m, o in loop)} mac_instructions="
          + ",".join(f"{m}:{n}" for m, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
