"""Compares two raw little-endian tensors written by model_driver.c.

float32: every element within --rtol relative plus --atol absolute (scaled
by the largest magnitude in the expected tensor), as test/e2e/Inputs/
compare.py does for .npy files. Exits non-zero naming the first mismatch.
"""
import argparse
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("actual")
    p.add_argument("expected")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--atol", type=float, default=1e-5)
    args = p.parse_args()
    a = np.fromfile(args.actual, "<f4").astype(np.float64)
    b = np.fromfile(args.expected, "<f4").astype(np.float64)
    if a.shape != b.shape or b.size == 0:
        sys.exit(f"{a.size} elements vs {b.size}")
    diff = np.abs(a - b)
    limit = args.rtol * np.abs(b) + args.atol * max(np.abs(b).max(), 1.0)
    if (diff > limit).any():
        i = int(np.argmax(diff - limit))
        sys.exit(f"element {i} is {a[i]}, expected {b[i]}")
    print(f"{b.size} floats match, max diff {diff.max():.3g}")


if __name__ == "__main__":
    main()
