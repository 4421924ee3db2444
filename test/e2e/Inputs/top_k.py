"""Prints the K largest scores of a classifier output (.npy, one row) as
`rank index label` lines, largest first, equal scores in index order (as
runtime/'s mnc_topk orders them), labels from a file of one per line.

usage: top_k.py SCORES.npy LABELS.txt K
"""
import sys

import numpy as np


def main():
    scores, labels, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x = np.load(scores).reshape(-1)
    names = open(labels).read().splitlines()
    for rank, i in enumerate(np.argsort(-x, kind="stable")[:k], 1):
        print(rank, i, names[i])


if __name__ == "__main__":
    main()
