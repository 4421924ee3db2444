#!/usr/bin/env python3
"""Runs one model with `mnc run --reference` and with ONNX Runtime
(tools/ort/run.mjs) on the same inputs and compares every output.

fp32: outputs pass when max|a - b| <= 1e-4 * max|b| + 1e-5 over the whole
tensor (b = ONNX Runtime).

--int8: ONNX Runtime runs with --exact-int8 (session.x64quantprecision=1).
Without it, on x86-64 CPUs lacking AVX-512 VNNI, its u8 x s8 kernels add
pairs of products in int16 (vpmaddubsw), which saturates. Tolerances are in
quantization steps: the scale of the DequantizeLinear producing an output,
or 1 for integer outputs.
- QOperator models (QLinearConv, QLinearMatMul, ...; no float Conv, Gemm or
  MatMul) are integer arithmetic that ONNX defines exactly, so the outputs
  must be equal (0 steps). mnc's compiled code (`mnc run`) must also give
  the reference interpreter's bytes. Measured on the int8 MobileNetV2 of
  examples/data, six photos: 0 on an AVX-512 VNNI host and on emulated
  AVX2 (qemu-x86_64 -cpu EPYC-Milan, Zen 3); without the option, on AVX2,
  up to 8.3 off on the logits (52 steps), though top-1 held.
- QDQ models run partly in f32 under ONNX Runtime (its own fusions and
  summation order), so they pass within --steps (default 1), compared
  with mnc's interpreter on the graph as imported (`--reference=imported`:
  dequantize, f32 op, quantize, the meaning ONNX Runtime computes). mnc
  compiles their integer form (fold-qdq), so the compiled code must give
  the bytes of `--reference` (the module after the pipeline); the two
  reference forms differ where f32 rounding moves a value across a step,
  and such flips compound from layer to layer. Measured
  with the option, bit-identical on both CPU kinds: MobileNetV2 1.0 from
  tools/models/quantize_qdq.py, six photos, up to 5 logit steps; 0.35 at
  96x96, 5 logit steps, and with every activation exposed at most 1 step
  per activation and 0 on the logits. Without the option, on emulated
  AVX2: up to 53 and 67 logit steps, and a different top-1 on one photo of
  six and on the 0.35 model.

--top1 also requires equal argmax. Inputs are .npy files or, with --random
NAME=1x3x8x8, seeded standard-normal tensors written to the work folder.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def sanitize(name):
    """The file name (without .npy) `mnc run` writes output `name` to: bytes
    outside [A-Za-z0-9_.-] and a leading '.' as %XX."""
    if not name:
        return "%"
    return "".join(
        chr(b) if re.fullmatch(r"[A-Za-z0-9_-]", chr(b)) or (b == 46 and i)
        else "%%%02X" % b for i, b in enumerate(name.encode()))


def output_steps(model_path):
    """Quantization step of each graph output made by DequantizeLinear."""
    model = onnx.load(model_path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    steps = {}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[1] in inits:
            steps[node.output[0]] = float(np.max(inits[node.input[1]]))
    return [(o.name, steps.get(o.name)) for o in model.graph.output]


QOPERATOR_OPS = {"ConvInteger", "MatMulInteger"}
FLOAT_COMPUTE_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul"}


def is_qoperator(model_path):
    """True for integer-only quantized graphs (ONNX Runtime's QOperator
    format), whose results ONNX defines exactly."""
    ops = {n.op_type for n in onnx.load(model_path).graph.node}
    quantized = any(op.startswith("QLinear") or op in QOPERATOR_OPS
                    for op in ops)
    return quantized and not ops & FLOAT_COMPUTE_OPS


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
                 f"{proc.stdout}{proc.stderr}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--mnc", default="mnc")
    ap.add_argument("--ort", required=True, help="path of tools/ort/run.mjs")
    ap.add_argument("--input", action="append", default=[],
                    help="NAME=FILE.npy")
    ap.add_argument("--random", action="append", default=[],
                    help="NAME=DIMS: seeded random input")
    ap.add_argument("--work", required=True)
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--steps", type=int, default=1,
                    help="QDQ tolerance in quantization steps")
    ap.add_argument("--top1", action="store_true")
    args = ap.parse_args()
    exact = args.int8 and is_qoperator(args.model)

    os.makedirs(args.work, exist_ok=True)
    inputs, shapes = list(args.input), []
    rng = np.random.default_rng(0)
    for spec in args.random:
        name, dims = spec.rsplit("=", 1)
        shape = [int(d) for d in dims.split("x")]
        path = os.path.join(args.work, sanitize(name) + ".input.npy")
        np.save(path, rng.standard_normal(shape).astype(np.float32))
        inputs.append(f"{name}={path}")
        shapes.append(spec)

    mnc_dir, ort_dir, compiled_dir, integer_dir = (
        os.path.join(args.work, d)
        for d in ("mnc", "ort", "compiled", "integer"))
    qdq = args.int8 and not exact
    mnc = [shutil.which(args.mnc) or args.mnc, "run", args.model]
    ort = ["node", args.ort, args.model, "--output-dir", ort_dir]
    if args.int8:
        ort.append("--exact-int8")
    for spec in inputs:
        mnc += ["--input", spec]
        ort += ["--input", spec]
    for spec in shapes:
        mnc += ["--input-shape", spec]
        ort += ["--shape", spec]
    run(mnc + ["--reference=imported" if qdq else "--reference",
               "--output-dir", mnc_dir])
    run(ort)
    if args.int8:
        run(mnc + ["--output-dir", compiled_dir])
    if qdq:
        run(mnc + ["--reference", "--output-dir", integer_dir])

    failed = False
    for name, step in output_steps(args.model):
        got = np.load(os.path.join(mnc_dir, sanitize(name) + ".npy"))
        want = np.load(os.path.join(ort_dir, sanitize(name) + ".npy"))
        if got.shape != want.shape:
            print(f"FAIL {name}: shape {got.shape}, ONNX Runtime {want.shape}")
            failed = True
            continue
        # An output of data-dependent length may be empty.
        err = float(np.max(np.abs(got.astype(np.float64) - want), initial=0))
        if exact:
            tol = 0.0
        elif args.int8:
            tol = args.steps * (step if step is not None else 1.0)
        else:
            tol = 1e-4 * float(np.max(np.abs(want), initial=0)) + 1e-5
        ok = err <= tol
        line = f"{name}: max abs error {err:.3g}, tolerance {tol:.3g}"
        if args.top1:
            a, b = int(np.argmax(got)), int(np.argmax(want))
            ok = ok and a == b
            line += f", top-1 {a} (ONNX Runtime {b})"
        print(("OK " if ok else "FAIL ") + line)
        failed |= not ok
        if args.int8:
            failed |= not same_bytes(name, compiled_dir,
                                     integer_dir if qdq else mnc_dir)
    return 1 if failed else 0


def same_bytes(name, compiled_dir, reference_dir):
    """Compiled output file `name` against the reference interpreter's."""
    file = sanitize(name) + ".npy"
    with open(os.path.join(compiled_dir, file), "rb") as f:
        compiled = f.read()
    with open(os.path.join(reference_dir, file), "rb") as f:
        same = f.read() == compiled
    print(("OK " if same else "FAIL ") + f"{name}: compiled "
          f"{'equals' if same else 'differs from'} the reference byte for byte")
    return same


if __name__ == "__main__":
    sys.exit(main())
