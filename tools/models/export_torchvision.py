#!/usr/bin/python3
"""Exports MobileNet-family test models from torchvision to ONNX.

Uses Debian's python3-torch / python3-torchvision, offline: pretrained weights
cannot be downloaded, so every model has seeded random weights. Timing does
not depend on the weights, and numerics tests compare mnc against ONNX
Runtime on the same file, so random weights serve both.

To make the random networks behave like trained ones (activations of order 1
at every layer rather than vanishing or exploding, non-zero conv biases after
BatchNorm folding), each model's BatchNorm affine parameters are randomized
and its running statistics are then measured on a batch of random inputs.

Per model NAME this writes OUT_DIR/NAME.onnx (static batch 1, input "input",
output "output"; the detectors have several outputs, see --list) and OUT_DIR/NAME.input.npy (float32, standard normal,
seeded). Existing files are kept unless --force is given (whatever --opset
they were exported with): delete the folder or use --force after changing it.

usage: /usr/bin/python3 tools/models/export_torchvision.py OUT_DIR
           [--opset 13] [--only NAME,...] [--force] [--list]
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
import torch
from torch import nn
import torchvision
from torchvision.models import detection, segmentation

SEED = 0


class MobileNetV1(nn.Module):
    """MobileNetV1 1.0 (Howard et al. 2017, Table 1): a 3x3 stem, 13
    depthwise-separable blocks, global average pool, fully connected.
    ReLU6 as in the TF-slim reference implementation."""

    # (output channels, stride) of each depthwise-separable block
    BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2),
              (1024, 1)]

    def __init__(self, num_classes=1000, width=1.0):
        super().__init__()

        def conv_bn(cin, cout, kernel, stride, groups=1):
            return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2,
                              groups=groups, bias=False),
                    nn.BatchNorm2d(cout), nn.ReLU6(inplace=True)]

        cin = int(32 * width)
        layers = conv_bn(3, cin, 3, 2)
        for cout, stride in self.BLOCKS:
            cout = int(cout * width)
            layers += conv_bn(cin, cin, 3, stride, groups=cin)  # depthwise
            layers += conv_bn(cin, cout, 1, 1)  # pointwise
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


class SegmentationOut(nn.Module):
    """Returns only the "out" tensor of a torchvision segmentation model."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


class SSDHead(nn.Module):
    """An SSD detector without its pre- and post-processing: backbone and
    head only, giving raw per-anchor box regressions and class logits (the
    shape of graph mnc compiles; anchor decoding and NMS run in the app)."""

    def __init__(self, model):
        super().__init__()
        self.backbone = model.backbone
        self.head = model.head

    def forward(self, x):
        features = list(self.backbone(x).values())
        out = self.head(features)
        return out["bbox_regression"], out["cls_logits"]


class SSDFull(nn.Module):
    """The whole torchvision SSD detector on a batch of one image: its
    transform (normalize, resize), backbone, head and postprocessing (box
    decoding, score threshold, per-class NMS, top-k), with outputs whose
    length depends on the data."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        detections = self.model([x[0]])[0]
        return detections["boxes"], detections["scores"], detections["labels"]

    def calibration_forward(self, x):
        """In training mode the detector wants targets; the head does not."""
        return SSDHead(self.model)(x)


# name -> (constructor, input height/width, output names, note)
MODELS = {
    "mobilenet_v1": (lambda: MobileNetV1(), 224, ["output"], ""),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None),
                     224, ["output"], ""),
    "mobilenet_v2_0.35_96": (
        lambda: torchvision.models.mobilenet_v2(weights=None, width_mult=0.35),
        96, ["output"], ""),
    "mobilenet_v3_small": (
        lambda: torchvision.models.mobilenet_v3_small(weights=None),
        224, ["output"], ""),
    "mobilenet_v3_large": (
        lambda: torchvision.models.mobilenet_v3_large(weights=None),
        224, ["output"], ""),
    "lraspp_mobilenet_v3_large": (
        lambda: SegmentationOut(segmentation.lraspp_mobilenet_v3_large(
            weights=None, weights_backbone=None)),
        224, ["output"], "segmentation, 21 classes, the 'out' tensor"),
    "deeplabv3_mobilenet_v3_large": (
        lambda: SegmentationOut(segmentation.deeplabv3_mobilenet_v3_large(
            weights=None, weights_backbone=None, aux_loss=False)),
        224, ["output"], "segmentation, 21 classes, the 'out' tensor"),
    # The detector as backbone + head only (raw regressions and logits), and
    # whole: its postprocessing has data-dependent lengths (NonZero, TopK,
    # NonMaxSuppression inside an If), which mnc holds at a static capacity
    # plus a count.
    "ssdlite320_mobilenet_v3_large": (
        lambda: SSDHead(detection.ssdlite320_mobilenet_v3_large(
            weights=None, weights_backbone=None)),
        320, ["boxes", "scores"],
        "backbone + head, no pre/postprocessing: boxes [1,3234,4] are raw "
        "anchor regressions, scores [1,3234,91] raw logits"),
    "ssdlite320_mobilenet_v3_large_full": (
        lambda: SSDFull(detection.ssdlite320_mobilenet_v3_large(
            weights=None, weights_backbone=None)),
        320, ["boxes", "scores", "labels"],
        "whole detector incl. NMS; dynamic output length (boxes [N,4], "
        "scores [N], labels [N] int64)"),
}


def calibrate_batchnorm(model, size, generator):
    """Randomizes BatchNorm affine parameters, then sets each BatchNorm's
    running mean/variance to the statistics of its input over a random batch,
    as training would. Call before model.eval()."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not norms:
        return
    with torch.no_grad():
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5, generator=generator)
            bn.bias.normal_(0.0, 0.2, generator=generator)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the batches seen
        model.train()
        run = getattr(model, "calibration_forward", model)
        run(torch.randn(8, 3, size, size, generator=generator))


def export(name, out_dir, opset):
    build, size, output_names, _ = MODELS[name]
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    model = build()
    calibrate_batchnorm(model, size, generator)
    model.eval()

    x = torch.randn(1, 3, size, size, generator=generator)
    onnx_path = os.path.join(out_dir, name + ".onnx")
    npy_path = os.path.join(out_dir, name + ".input.npy")
    # Write under temporary names unique to this process, then rename: an
    # interrupted export is not cached, and tests exporting the same model
    # at once never see a half-written file. The input goes first, since the
    # model file marks the pair as cached.
    tmp = ".{}.tmp".format(os.getpid())
    with open(npy_path + tmp, "wb") as f:
        np.save(f, x.numpy().astype(np.float32))
    os.replace(npy_path + tmp, npy_path)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings on shape arithmetic
        torch.onnx.export(model, (x,), onnx_path + tmp, opset_version=opset,
                          input_names=["input"], output_names=output_names,
                          do_constant_folding=True)
    os.replace(onnx_path + tmp, onnx_path)


def main():
    parser = argparse.ArgumentParser(
        description="Export torchvision MobileNet-family models to ONNX "
                    "with seeded random weights.")
    parser.add_argument("out_dir", nargs="?", help="output directory")
    parser.add_argument("--opset", type=int, default=13,
                        help="ONNX opset (default 13)")
    parser.add_argument("--only", default="",
                        help="comma-separated model names (default: all)")
    parser.add_argument("--force", action="store_true",
                        help="export again even if the files exist")
    parser.add_argument("--list", action="store_true",
                        help="list the model names and exit")
    args = parser.parse_args()

    if args.list:
        for name, (_, size, outputs, note) in MODELS.items():
            print(f"{name}\t{size}x{size}\t{','.join(outputs)}\t{note}")
        return 0
    if not args.out_dir:
        parser.error("OUT_DIR is required")
    names = [n for n in args.only.split(",") if n] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; "
                     f"known: {', '.join(MODELS)}")

    os.makedirs(args.out_dir, exist_ok=True)
    failed = []
    start = time.monotonic()
    for name in names:
        files = [os.path.join(args.out_dir, name + ext)
                 for ext in (".onnx", ".input.npy")]
        if not args.force and all(os.path.exists(f) for f in files):
            print(f"mnc: {name}: up to date", flush=True)
            continue
        t = time.monotonic()
        print(f"mnc: {name}: exporting (opset {args.opset})...", end="",
              flush=True)
        try:
            export(name, args.out_dir, args.opset)
            print(f" {time.monotonic() - t:.1f} s", flush=True)
        except Exception as e:  # report every model, then fail
            print(f" FAILED: {type(e).__name__}: {e}", flush=True)
            failed.append(name)
    print(f"mnc: exported to {args.out_dir} in {time.monotonic() - start:.1f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
