#!/usr/bin/env python3
"""Runs the ONNX backend node tests through `mnc run --reference`.

For every test directory: the model is in scope unless mnc reports it as
unsupported (exit code 2, the same diagnostic users see), so the in-scope
set is derived from mnc itself, never listed by hand. A graph input that
mnc reports as needing to be constant (its diagnostic names the --bind
flag that freezes it) is bound to the test data with --bind, and the model
is tried again. Each test_data_set is run and compared with its expected
outputs: f32 elementwise within |a - b| <= 1e-4 * |b| + 1e-5 (NaN matches
NaN), integers exactly.

With --compiled the models are compiled (for the host, or --target/--mcpu)
and run instead. The scope is still the reference interpreter's: a model the
compiled run reports as unsupported fails unless the reference run reports
it too, so nothing in scope drops out. Tests known to fail compiled are
listed in XFAIL with a reason; each is reported, and passing one is a
failure so the list cannot go stale.

Prints each failure and expected failure and a final
"N passed, M failed, X expected failures, K out of scope" line; exits 1 if
anything in scope failed.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from compare_ort import sanitize

UNSUPPORTED = 2
# mnc's diagnostic for a graph input that an op needs as a constant.
BIND_HINT = re.compile(r"which --bind (.+?)=FILE\.npy freezes$", re.M)

# Node tests in scope that fail when compiled: name -> reason.
XFAIL_COMPILED = {
}


def graph_io(model_path):
    model = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    return inputs, [o.name for o in model.graph.output]


def compare(name, got, want):
    if got.shape != want.shape:
        return f"{name}: shape {got.shape}, expected {want.shape}"
    if want.dtype == np.float32:
        if got.dtype != np.float32:
            return f"{name}: dtype {got.dtype}, expected float32"
        nan = np.isnan(want)
        if not np.array_equal(nan, np.isnan(got)):
            return f"{name}: NaN positions differ"
        g, w = got[~nan].astype(np.float64), want[~nan].astype(np.float64)
        err = np.abs(g - w) - (1e-4 * np.abs(w) + 1e-5)
        if err.size and not (err <= 0).all() and not np.array_equal(g, w):
            i = int(np.argmax(err))
            return (f"{name}: max excess error at flat index {i}: got "
                    f"{g.flat[i]!r}, expected {w.flat[i]!r}")
        return None
    if want.dtype == np.bool_ and got.dtype == np.uint8:
        # mnc holds ONNX bool as u8 0/1 and writes it so.
        got = got.astype(np.bool_) if np.isin(got, (0, 1)).all() else got
    if got.dtype != want.dtype or not np.array_equal(got, want):
        return f"{name}: {got.dtype} values differ from expected {want.dtype}"
    return None


def run_mnc(mnc, model, inputs, binds, ds_dir, out_dir, run_flags):
    """Runs mnc on one data set; inputs in `binds` are given with --bind.
    While mnc reports more graph inputs that must be constant, they join
    `binds` and mnc runs again."""
    while True:
        cmd = [mnc, "run", model, "--output-dir", out_dir] + run_flags
        for i, inp in enumerate(inputs):
            flag = "--bind" if inp in binds else "--input"
            cmd += [flag, f"{inp}={os.path.join(ds_dir, f'input_{i}.pb')}"]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=300)
        wanted = set(BIND_HINT.findall(proc.stderr)) & set(inputs) - binds
        if proc.returncode != UNSUPPORTED or not wanted:
            return proc
        binds |= wanted


def run_test(mnc, test_dir, work, run_flags):
    """Returns ("pass" | "fail" | "skip", message)."""
    name = os.path.basename(test_dir)
    model = os.path.join(test_dir, "model.onnx")
    inputs, outputs = graph_io(model)
    sets = sorted(d for d in os.listdir(test_dir)
                  if d.startswith("test_data_set_"))
    binds = set()
    for ds in sets:
        ds_dir = os.path.join(test_dir, ds)
        out_dir = os.path.join(work, name, ds)
        try:
            proc = run_mnc(mnc, model, inputs, binds, ds_dir, out_dir,
                           run_flags)
            if (proc.returncode == UNSUPPORTED
                    and "--reference" not in run_flags):
                ref = run_mnc(mnc, model, inputs, set(binds), ds_dir,
                              out_dir + ".ref", ["--reference"])
                if ref.returncode != UNSUPPORTED:
                    return "fail", (f"{name}/{ds}: unsupported compiled but "
                                    f"not by the reference: "
                                    f"{proc.stderr.strip()}")
        except subprocess.TimeoutExpired:
            return "fail", f"{name}/{ds}: timed out"
        if proc.returncode == UNSUPPORTED:
            return "skip", f"{name}: {proc.stderr.strip().splitlines()[0]}"
        if proc.returncode != 0:
            return "fail", (f"{name}/{ds}: exit {proc.returncode}: "
                            f"{proc.stderr.strip()}")
        for i, out in enumerate(outputs):
            want = numpy_helper.to_array(onnx.load_tensor(
                os.path.join(ds_dir, f"output_{i}.pb")))
            try:
                got = np.load(os.path.join(out_dir, sanitize(out) + ".npy"))
            except (OSError, ValueError) as e:
                return "fail", f"{name}/{ds}: {out}: unreadable output: {e}"
            problem = compare(out, got, want)
            if problem:
                return "fail", f"{name}/{ds}: {problem}"
    return "pass", name


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnc", default="mnc")
    ap.add_argument("--root", default="/usr/share/libonnx-testdata/data/node")
    ap.add_argument("--work", required=True, help="scratch folder")
    ap.add_argument("--filter", default="", help="regex on test names")
    ap.add_argument("--show-skipped", action="store_true")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--compiled", action="store_true",
                    help="compile and run the models instead of interpreting")
    ap.add_argument("--target", help="triple for --compiled (default: host)")
    ap.add_argument("--mcpu", help="CPU for --compiled")
    args = ap.parse_args()
    args.mnc = shutil.which(args.mnc) or args.mnc
    if (args.target or args.mcpu) and not args.compiled:
        ap.error("--target and --mcpu need --compiled")
    run_flags = ["--reference"]
    xfail = {}
    if args.compiled:
        run_flags = []
        xfail = dict(XFAIL_COMPILED)
        if args.target:
            run_flags += ["--target", args.target]
        if args.mcpu:
            run_flags += ["--mcpu", args.mcpu]

    tests = sorted(d for d in os.listdir(args.root)
                   if re.search(args.filter, d)
                   and os.path.isfile(os.path.join(args.root, d, "model.onnx")))
    results = {"pass": [], "fail": [], "skip": []}
    with concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        futures = [pool.submit(run_test, args.mnc,
                               os.path.join(args.root, t), args.work,
                               run_flags)
                   for t in tests]
        for t, f in zip(tests, futures):
            kind, message = f.result()
            if t in xfail:
                if kind == "fail":
                    kind, message = "xfail", f"{t}: {xfail[t]}"
                elif kind == "pass":
                    kind, message = "fail", f"{t}: XFAIL but passes"
            results.setdefault(kind, []).append(message)
    for message in results["fail"]:
        print("FAIL:", message)
    for message in results.get("xfail", []):
        print("XFAIL:", message)
    if args.show_skipped:
        for message in results["skip"]:
            print("OUT OF SCOPE:", message)
    print(f"{len(results['pass'])} passed, {len(results['fail'])} failed, "
          f"{len(results.get('xfail', []))} expected failures, "
          f"{len(results['skip'])} out of scope")
    return 1 if results["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
