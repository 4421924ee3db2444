"""Accuracy of quantized models against their fp32 original.

Reads `mnc run` output folders laid out as ROOT/MODEL/INPUT/NAME.npy and
prints, for each MODEL other than the reference, the logits' SQNR in dB
against the reference over all inputs (10 log10(sum x^2 / sum (x - y)^2))
and how many inputs keep the reference's top-1 class (for [N,C,H,W]
outputs: the share of pixels whose argmax over C agrees). With --baseline B,
fails unless every other model keeps the top-1 class on all inputs and has
an SQNR at least B's.
"""
import argparse
import pathlib
import sys

import numpy as np


def outputs(root, model):
    folder = pathlib.Path(root) / model
    return {d.name: np.load(next(d.glob("*.npy"))).astype(np.float64)
            for d in sorted(folder.iterdir())}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("reference")
    p.add_argument("models", nargs="+")
    p.add_argument("--baseline")
    args = p.parse_args()
    ref = outputs(args.root, args.reference)
    scores = {}
    for model in args.models:
        got = outputs(args.root, model)
        if got.keys() != ref.keys():
            sys.exit(f"{model}: inputs {sorted(got)} vs {sorted(ref)}")
        signal = sum(np.sum(ref[k] ** 2) for k in ref)
        noise = sum(np.sum((ref[k] - got[k]) ** 2) for k in ref)
        same = sum(int(np.argmax(ref[k]) == np.argmax(got[k])) for k in ref)
        sqnr = 10 * np.log10(signal / noise)
        scores[model] = (sqnr, same)
        line = f"{model}: sqnr {sqnr:.2f} dB, top-1 {same}/{len(ref)}"
        if next(iter(ref.values())).ndim == 4:
            # Segmentation: the class map is the argmax over channels.
            pixels = np.mean([np.mean(np.argmax(ref[k], 1) ==
                                      np.argmax(got[k], 1)) for k in ref])
            line = (f"{model}: sqnr {sqnr:.2f} dB, argmax agreement "
                    f"{100 * pixels:.2f} % of pixels")
        print(line)
    if args.baseline:
        floor = scores[args.baseline][0]
        for model, (sqnr, same) in scores.items():
            if model != args.baseline and (sqnr < floor or same < len(ref)):
                sys.exit(f"FAIL: {model} has {sqnr:.2f} dB and top-1 "
                         f"{same}/{len(ref)}; needs {floor:.2f} dB "
                         f"({args.baseline}) and {len(ref)}/{len(ref)}")


if __name__ == "__main__":
    main()
