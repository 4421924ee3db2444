#!/usr/bin/env python3
"""Schedule never changes semantics: for each model, the reference
interpreter on the module after the semantic passes (`mnc compile --emit ir
--stop-after dead-code-elimination`) and on the module after the whole
pipeline (fusion groups, kernels and arena offsets as attributes), and on
the module scheduled for a Cortex-M7 (whose smallest arena runs the early
blocks patch by patch: slices, patch convs and concats), must give
byte-identical outputs, on a seeded random input. A model written
MODEL.onnx@NAME=1x3x48x192 has its input NAME pinned to that shape.
Prints "same MODEL" or "DIFFERENT MODEL: outputs" per model; exits 1 if any
differ.

usage: schedule_semantics.py --work DIR MODEL.onnx...
"""
import argparse
import filecmp
import os
import subprocess
import sys

import numpy as np
import onnx


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
                 f"{proc.stdout}{proc.stderr}")


def random_inputs(model, pinned, work, rng):
    """A seeded standard-normal f32 input per graph input (symbolic dims 1
    unless pinned), and the --input-shape flags of the pinned ones."""
    m = onnx.load(model, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    flags, shapes = [], []
    for i, inp in enumerate(x for x in m.graph.input if x.name not in inits):
        dims = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]
        if inp.name in pinned:
            dims = [int(d) for d in pinned[inp.name].split("x")]
            shapes += ["--input-shape", f"{inp.name}={pinned[inp.name]}"]
        path = os.path.join(work, f"input{i}.npy")
        np.save(path, rng.standard_normal(dims).astype(np.float32))
        flags += ["--input", f"{inp.name}={path}"]
    return flags, shapes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--work", required=True)
    ap.add_argument("--mnc", default="mnc")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    failed = False
    for n, spec in enumerate(args.models):
        model, *pins = spec.split("@")
        pinned = dict(p.split("=", 1) for p in pins)
        work = os.path.join(args.work, str(n))
        os.makedirs(work, exist_ok=True)
        inputs, shapes = random_inputs(model, pinned, work, rng)
        outs = []
        for stage, extra in (("semantic", ["--stop-after",
                                           "dead-code-elimination"]),
                             ("scheduled", []),
                             ("patched", ["--target", "thumbv7em-none-eabihf",
                                          "--mcpu", "cortex-m7"])):
            ir = os.path.join(work, stage + ".mnir")
            run([args.mnc, "compile", model, "--emit", "ir", "-o", ir] + extra
                + shapes)
            out = os.path.join(work, stage)
            run([args.mnc, "run", ir, "--reference=imported", "--output-dir",
                 out] + inputs)
            outs.append(out)
        files = sorted(os.listdir(outs[0]))
        mismatch, errors = [], []
        for out in outs[1:]:
            _, m, e = filecmp.cmpfiles(outs[0], out, files, shallow=False)
            mismatch += m
            errors += e
        name = os.path.basename(model)
        if mismatch or errors or not files:
            print(f"DIFFERENT {name}: {mismatch + errors}")
            failed = True
        else:
            print(f"same {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
