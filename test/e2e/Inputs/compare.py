"""Compares the .npy outputs of two `mnc run` output folders.

Floats must agree within --rtol relative plus --atol absolute (scaled by
the largest magnitude in the reference); integers within --int-tol. Exits
non-zero and names the first mismatching output otherwise.
"""
import argparse
import pathlib
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("actual")
    p.add_argument("expected")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--atol", type=float, default=1e-5)
    p.add_argument("--int-tol", type=int, default=0)
    args = p.parse_args()
    expected = sorted(pathlib.Path(args.expected).glob("*.npy"))
    if not expected:
        sys.exit(f"no .npy files in {args.expected}")
    for e in expected:
        a = np.load(pathlib.Path(args.actual) / e.name)
        b = np.load(e)
        if a.shape != b.shape or a.dtype != b.dtype:
            sys.exit(f"{e.name}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}")
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        if np.issubdtype(b.dtype, np.floating):
            scale = max(float(np.abs(b).max(initial=0)), 1.0)
            limit = args.rtol * np.abs(b) + args.atol * scale
        else:
            limit = np.full(b.shape, args.int_tol)
        if (diff > limit).any():
            i = np.unravel_index(np.argmax(diff - limit), b.shape)
            sys.exit(f"{e.name}: element {i} is {a[i]}, expected {b[i]}")
        print(f"{e.name}: {b.dtype}{list(b.shape)} matches, max diff {diff.max(initial=0):.3g}")


if __name__ == "__main__":
    main()
