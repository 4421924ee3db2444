#!/usr/bin/env python3
"""Writes the ONNX model given in ONNX text syntax (onnx.parser) as a binary
.onnx file. Lines starting with '#' (lit RUN/CHECK lines) are dropped."""
import sys

import onnx
import onnx.parser


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        text = "".join(l for l in f if not l.lstrip().startswith("#"))
    model = onnx.parser.parse_model(text)
    onnx.save(model, out)


if __name__ == "__main__":
    main()
