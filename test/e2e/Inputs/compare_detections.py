"""Compares the detections (boxes [N,4], scores [N], labels [N]) two runs
wrote as .npy files into two folders: `mnc run` output, or ONNX Runtime's.

They match when both have the same number of detections in the same order,
with equal labels, boxes within --box-rtol of max(|coordinate|, 1) and
scores within --score-rtol. Two detections whose expected scores are that
close are a tie the two runs' float rounding may break either way (the
backbone sums in different orders): such runs of near-equal scores may come
in any order, and are counted and reported. Exits non-zero on a mismatch.
"""
import argparse
import pathlib
import sys

import numpy as np


def load(folder):
    d = pathlib.Path(folder)
    return [np.load(d / f"{k}.npy") for k in ("boxes", "scores", "labels")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("actual")
    p.add_argument("expected")
    p.add_argument("--box-rtol", type=float, default=1e-3)
    p.add_argument("--score-rtol", type=float, default=1e-4)
    args = p.parse_args()
    (ab, as_, al), (eb, es, el) = load(args.actual), load(args.expected)
    if len(es) != len(as_) or ab.shape != eb.shape or al.shape != el.shape:
        sys.exit(f"{len(as_)} detections, expected {len(es)}")
    if len(es) == 0:
        sys.exit("no detections: the check would be empty")
    score_tol = args.score_rtol * max(float(np.abs(es).max()), 1e-30)

    def box_error(i, j):
        return float(np.max(np.abs(ab[i] - eb[j]) /
                            np.maximum(np.abs(eb[j]), 1.0)))

    def same(i, j):
        return (al[i] == el[j] and abs(float(as_[i]) - float(es[j])) <=
                score_tol and box_error(i, j) <= args.box_rtol)

    worst, reordered, start = 0.0, 0, 0
    while start < len(es):
        end = start + 1  # [start, end): a run of near-equal expected scores
        while end < len(es) and abs(float(es[end - 1]) - float(es[end])) <= score_tol:
            end += 1
        free = list(range(start, end))
        for j in range(start, end):
            match = next((i for i in free if same(i, j)), None)
            if match is None:
                sys.exit(f"detection {j} (label {el[j]}, score {es[j]}, box "
                         f"{eb[j].tolist()}) is not among entries "
                         f"{start}..{end - 1}: label {al[start:end].tolist()}, "
                         f"score {as_[start:end].tolist()}")
            reordered += match != j
            worst = max(worst, box_error(match, j))
            free.remove(match)
        start = end
    print(f"{len(es)} detections match, labels equal, max box error "
          f"{worst:.2g} relative, {reordered} near-tied detections reordered")


if __name__ == "__main__":
    main()
