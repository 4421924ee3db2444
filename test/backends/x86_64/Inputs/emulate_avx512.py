#!/usr/bin/python3
"""Rewrites optimized LLVM IR compiled for an AVX-512 VNNI CPU so that an
AVX2 host can run it: calls to the two AVX-512 integer multiply-adds the
int8 kernels use become calls to plain-IR definitions written from Intel's
description of the instructions, and the functions are retargeted to
x86-64-v3. Any other AVX-512 intrinsic is left in place, so llc fails on
it instead of the check passing without it.

  vpdpbusd(src, a, b)[i] = src[i] + sum_{j<4} zext(a.u8[4i+j]) * sext(b.s8[4i+j])
  pmaddwd(a, b)[i]       = sext(a.i16[2i]) * sext(b.i16[2i])
                           + sext(a.i16[2i+1]) * sext(b.i16[2i+1])

usage: emulate_avx512.py IN.ll OUT.ll
"""

import re
import sys


def lanes(start, step):
    return ", ".join(f"i32 {start + step * i}" for i in range(16))


def sums(vector, width, group):
    """Lines adding the `group` interleaved sub-vectors of %p into %acc0."""
    lines = []
    for j in range(group):
        lines.append(f"  %p{j} = shufflevector <{width} x i32> %p, <{width} x i32> poison, "
                     f"<16 x i32> <{lanes(j, group)}>")
        lines.append(f"  %acc{j + 1} = add <16 x i32> %acc{j}, %p{j}")
    return "\n".join(lines)


EMULATION = f"""
define internal <16 x i32> @mnc.emulated.vpdpbusd(<16 x i32> %acc0, <16 x i32> %a, <16 x i32> %b) {{
  %ab = bitcast <16 x i32> %a to <64 x i8>
  %bb = bitcast <16 x i32> %b to <64 x i8>
  %az = zext <64 x i8> %ab to <64 x i32>
  %bs = sext <64 x i8> %bb to <64 x i32>
  %p = mul <64 x i32> %az, %bs
{sums("p", 64, 4)}
  ret <16 x i32> %acc4
}}

define internal <16 x i32> @mnc.emulated.pmaddwd(<32 x i16> %a, <32 x i16> %b) {{
  %acc0 = add <16 x i32> zeroinitializer, zeroinitializer
  %as = sext <32 x i16> %a to <32 x i32>
  %bs = sext <32 x i16> %b to <32 x i32>
  %p = mul <32 x i32> %as, %bs
{sums("p", 32, 2)}
  ret <16 x i32> %acc2
}}
"""

INTRINSICS = {
    "llvm.x86.avx512.vpdpbusd.512": "mnc.emulated.vpdpbusd",
    "llvm.x86.avx512.pmaddw.d.512": "mnc.emulated.pmaddwd",
}


def main():
    source, target = sys.argv[1:3]
    ir = open(source).read()
    for intrinsic, emulation in INTRINSICS.items():
        ir = re.sub(rf"^declare [^\n]*@{re.escape(intrinsic)}\([^\n]*\n", "", ir,
                    flags=re.M)
        ir = ir.replace(f"@{intrinsic}(", f"@{emulation}(")
    ir = re.sub(r'"target-cpu"="[^"]*"', '"target-cpu"="x86-64-v3"', ir)
    ir = re.sub(r'"target-features"="[^"]*"', '', ir)
    open(target, "w").write(ir + EMULATION)


if __name__ == "__main__":
    main()
