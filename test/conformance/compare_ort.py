#!/usr/bin/env python3
"""Runs one model with `mnc run --reference` and with ONNX Runtime
(tools/ort/run.mjs) on the same inputs and compares every output.

Tolerances: fp32 outputs pass when max|a - b| <= 1e-4 * max|b| + 1e-5 over
the whole tensor (b = ONNX Runtime). With --int8, outputs pass within one
quantization step: the scale of the DequantizeLinear producing the output,
or 1 for integer outputs. --top1 also requires equal argmax. Inputs are
.npy files or, with --random NAME=1x3x8x8, seeded standard-normal tensors
written to the work folder.
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
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def output_steps(model_path):
    """Quantization step of each graph output made by DequantizeLinear."""
    model = onnx.load(model_path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    steps = {}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[1] in inits:
            steps[node.output[0]] = float(np.max(inits[node.input[1]]))
    return [(o.name, steps.get(o.name)) for o in model.graph.output]


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
    ap.add_argument("--top1", action="store_true")
    args = ap.parse_args()

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

    mnc_dir, ort_dir = (os.path.join(args.work, d) for d in ("mnc", "ort"))
    cmd = [shutil.which(args.mnc) or args.mnc, "run", args.model,
           "--reference", "--output-dir", mnc_dir]
    ort = ["node", args.ort, args.model, "--output-dir", ort_dir]
    for spec in inputs:
        cmd += ["--input", spec]
        ort += ["--input", spec]
    for spec in shapes:
        cmd += ["--input-shape", spec]
        ort += ["--shape", spec]
    run(cmd)
    run(ort)

    failed = False
    for name, step in output_steps(args.model):
        got = np.load(os.path.join(mnc_dir, sanitize(name) + ".npy"))
        want = np.load(os.path.join(ort_dir, sanitize(name) + ".npy"))
        if got.shape != want.shape:
            print(f"FAIL {name}: shape {got.shape}, ONNX Runtime {want.shape}")
            failed = True
            continue
        err = float(np.max(np.abs(got.astype(np.float64) - want)))
        if args.int8:
            tol = step if step is not None else 1.0
        else:
            tol = 1e-4 * float(np.max(np.abs(want))) + 1e-5
        ok = err <= tol
        line = f"{name}: max abs error {err:.3g}, tolerance {tol:.3g}"
        if args.top1:
            a, b = int(np.argmax(got)), int(np.argmax(want))
            ok = ok and a == b
            line += f", top-1 {a} (ONNX Runtime {b})"
        print(("OK " if ok else "FAIL ") + line)
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
