"""Checks runtime/'s helpers, run through the test driver (driver.c),
against independent implementations: torch and torchvision for resizing,
cropping, anchors, box decoding and NMS, numpy for the rest, and the
ultraface repository's own prior and decoding formulas written in numpy.

usage: check.py CHECK[,CHECK...] WORKDIR DRIVER...
       (CHECK: preprocess, dequantize, topk, priors, decode, nms)

Inputs are random with a fixed seed. Prints one line per case and exits 1
on the first mismatch."""
import math
import subprocess
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as TF
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator

work, driver = sys.argv[2], sys.argv[3:]
rng = np.random.default_rng(12)
case = 0


def f32(v):
    """v rounded to float32 in C99's hexadecimal form, which every strtof
    reads exactly (newlib's decimal parsing rounds twice)."""
    return float.hex(float(np.float32(v)))


def run(*args):
    subprocess.run(driver + [str(a) for a in args], check=True)


def path(name):
    global case
    case += 1
    return f"{work}/{case}-{name}.npy"


def report(name, ok, detail):
    print(f"{name}: {'matches' if ok else 'MISMATCH'} ({detail})")
    if not ok:
        sys.exit(1)


# --- preprocessing -------------------------------------------------------

BT601 = np.array([0.299, 0.587, 0.114], np.float32)


def reference_preprocess(img, in_fmt, out_fmt, size, resize=None,
                         region=None, pixel_scale=1.0, mean=(0, 0, 0),
                         std=(1, 1, 1), dtype="f32", quant=(1.0, 0),
                         layout="nchw"):
    """torch bilinear (align_corners=False) resize and torchvision's
    Resize + CenterCrop; channels converted in numpy first."""
    x = img.astype(np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    if in_fmt != "gray" and out_fmt == "gray":
        rgb = x if in_fmt == "rgb" else x[:, :, ::-1]
        x = (rgb * BT601).sum(axis=2, keepdims=True, dtype=np.float32)
    elif in_fmt == "gray" and out_fmt != "gray":
        x = np.repeat(x, 3, axis=2)
    elif in_fmt != out_fmt:
        x = x[:, :, ::-1]
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    w, h = size
    if resize is not None:
        t = TF.resize(t, resize, antialias=False)
        t = TF.center_crop(t, [h, w])
    elif region is not None:
        # The whole image scaled by w / region width, then cropped (the
        # region's corner lands on a whole pixel of the scaled image).
        rx, ry, rw, rh = region
        f = w / rw
        t = torch.nn.functional.interpolate(t, scale_factor=f,
                                            mode="bilinear",
                                            align_corners=False,
                                            recompute_scale_factor=False)
        t = t[:, :, round(ry * f):round(ry * f) + h,
              round(rx * f):round(rx * f) + w]
    else:
        t = torch.nn.functional.interpolate(t, size=(h, w), mode="bilinear",
                                            align_corners=False)
    v = t[0].numpy()
    c = v.shape[0]
    mean = np.array(mean[:c], np.float32)[:, None, None]
    std = np.array(std[:c], np.float32)[:, None, None]
    v = (v * np.float32(pixel_scale) - mean) / std
    if dtype != "f32":
        lo, hi = (-128, 127) if dtype == "i8" else (0, 255)
        v = np.clip(np.rint(v / np.float32(quant[0])) + quant[1], lo, hi)
    if layout == "nhwc":
        v = v.transpose(1, 2, 0)
    return v


def check_preprocess(name, img, in_fmt, out_fmt, size, resize=None,
                     region=None, pixel_scale=1.0, mean=(0, 0, 0),
                     std=(1, 1, 1), dtype="f32", quant=(1.0, 0),
                     layout="nchw", exact=False):
    src, out = path("image"), path("out")
    np.save(src, img)
    args = [f"in={in_fmt}", f"out={out_fmt}", f"size={size[0]}x{size[1]}",
            f"layout={layout}", f"dtype={dtype}",
            f"pixel_scale={f32(pixel_scale)}",
            "mean=" + ",".join(f32(m) for m in mean),
            "std=" + ",".join(f32(s) for s in std),
            f"quant={f32(quant[0])},{quant[1]}"]
    if resize is not None:
        args.append(f"resize={resize}")
    if region is not None:
        args.append("region=" + ",".join(str(r) for r in region))
    run("preprocess", src, out, *args)
    got = np.load(out)
    want = reference_preprocess(img, in_fmt, out_fmt, size, resize, region,
                                pixel_scale, mean, std, dtype, quant, layout)
    if got.shape != want.shape:
        report(name, False, f"shape {got.shape}, reference {want.shape}")
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    if dtype == "f32":
        tol = 1e-5 if exact else 2e-3
        report(name, diff.max() <= tol,
               f"{got.dtype}{list(got.shape)}, max |diff| {diff.max():.2e}")
    else:
        off = int((diff > 0).sum())
        ok = diff.max() == 0 if exact else (diff.max() <= 1 and
                                            off <= diff.size // 1000)
        report(name, ok, f"{got.dtype}{list(got.shape)}, {off} of "
               f"{diff.size} one step off")


def preprocess():
    photo = rng.integers(0, 256, (97, 131, 3), dtype=np.uint8)
    gray = rng.integers(0, 256, (61, 45), dtype=np.uint8)
    imagenet = dict(pixel_scale=1 / 255, mean=(0.485, 0.456, 0.406),
                    std=(0.229, 0.224, 0.225))
    check_preprocess("resize down, RGB, ImageNet, NCHW f32", photo, "rgb",
                     "rgb", (64, 48), **imagenet)
    check_preprocess("resize up, RGB to BGR, NHWC f32", photo, "rgb", "bgr",
                     (200, 150), mean=(127, 127, 127),
                     std=(128, 128, 128), layout="nhwc")
    check_preprocess("Resize(64) + CenterCrop(56), torchvision", photo,
                     "rgb", "rgb", (56, 56), resize=64, **imagenet)
    check_preprocess("Resize(40) + CenterCrop(40x24), portrait gray", gray,
                     "gray", "gray", (24, 40), resize=40)
    check_preprocess("region 30x20 at (8,12) to 45x30, BGR to RGB", photo,
                     "bgr", "rgb", (45, 30), region=(8, 12, 30, 20))
    check_preprocess("RGB to gray, BT.601", photo, "rgb", "gray", (50, 40))
    check_preprocess("BGR to gray", photo, "bgr", "gray", (131, 97),
                     exact=True)
    check_preprocess("gray to RGB", gray, "gray", "rgb", (30, 20))
    check_preprocess("same size, int8, halves round to even", photo,
                     "rgb", "rgb", (131, 97), mean=(127.5,) * 3,
                     quant=(1.0, 0), std=(1.0,) * 3, dtype="i8", exact=True)
    check_preprocess("same size, uint8 ImageNet-quantized", photo, "rgb",
                     "rgb", (131, 97), dtype="u8", quant=(0.0186584, 114),
                     exact=True, **imagenet)
    check_preprocess("resize, int8 NHWC (scale 0.0078125, zero point -1)",
                     photo, "rgb", "rgb", (64, 48), mean=(127,) * 3,
                     std=(128,) * 3, dtype="i8", quant=(0.0078125, -1),
                     layout="nhwc")


def dequantize():
    cases = [("int8", rng.integers(-128, 128, 500).astype(np.int8), 0.0473, -3),
             ("uint8", rng.integers(0, 256, 500).astype(np.uint8), 0.0186584,
              114),
             ("f32 (a copy)", rng.standard_normal(50).astype(np.float32), 1, 0)]
    for name, x, scale, zp in cases:
        src, out = path("q"), path("deq")
        np.save(src, x)
        run("dequantize", src, f32(scale), zp, out)
        got = np.load(out)
        want = (x.astype(np.float32) - np.float32(zp)) * np.float32(scale)
        report(f"dequantize {name}", np.array_equal(got, want),
               f"{got.size} values, scale {scale}, zero point {zp}")


# --- top-k ---------------------------------------------------------------

def topk():
    cases = [
        ("f32, 1000 values, k 5", rng.standard_normal(1000).astype(np.float32), 5),
        ("f32 with NaN, k 4", np.array([0.5, np.nan, 2.0, -1.0, 2.0, 7.0],
                                       np.float32), 4),
        ("int8, 1001 values (ties), k 10",
         rng.integers(-128, 128, 1001).astype(np.int8), 10),
        ("uint8, 300 values (ties), k 300",
         rng.integers(0, 256, 300).astype(np.uint8), 300),
        ("f32, k 1", rng.standard_normal(17).astype(np.float32), 1),
    ]
    for name, x, k in cases:
        src, out = path("x"), path("topk")
        np.save(src, x)
        run("topk", src, k, out)
        got = np.load(out).astype(np.int64)
        # Stable descending order: ties keep the lower index first, NaN last.
        want = np.argsort(-x.astype(np.float64), kind="stable")[:k]
        report(name, np.array_equal(got, want), f"first {list(got[:5])}")


# --- SSD priors ----------------------------------------------------------

def ultraface_priors(image_size, strides, min_boxes):
    """generate_priors of Ultra-Light-Fast-Generic-Face-Detector-1MB
    (vision/utils/box_utils.py), in numpy."""
    fmaps = [[math.ceil(size / s) for s in strides] for size in image_size]
    priors = []
    for index in range(len(fmaps[0])):
        scale_w = image_size[0] / strides[index]
        scale_h = image_size[1] / strides[index]
        for j in range(fmaps[1][index]):
            for i in range(fmaps[0][index]):
                x_center = (i + 0.5) / scale_w
                y_center = (j + 0.5) / scale_h
                for min_box in min_boxes[index]:
                    priors.append([x_center, y_center, min_box / image_size[0],
                                   min_box / image_size[1]])
    return np.clip(np.array(priors, np.float32), 0.0, 1.0), fmaps


def priors():
    # ultraface slim 320: strides 8, 16, 32, 64 on 320x240.
    strides = [8, 16, 32, 64]
    min_boxes = [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]]
    want, fmaps = ultraface_priors((320, 240), strides, min_boxes)
    layers = [",".join(str(v) for v in [fmaps[0][k], fmaps[1][k], s, s] +
                       [m for b in min_boxes[k] for m in (b, b)])
              for k, s in enumerate(strides)]
    out = path("priors")
    run("priors", 320, 240, 0.5, 1, out, *layers)
    got = np.load(out)
    report("ultraface 320x240 priors", got.shape == want.shape and
           np.allclose(got, want, rtol=1e-6, atol=1e-7),
           f"{got.shape[0]} priors, max |diff| "
           f"{np.abs(got - want).max() if got.shape == want.shape else '-'}")

    # torchvision's SSDLite320 default boxes (ssdlite320_mobilenet_v3_large):
    # six maps, aspect ratios 2 and 3, min_ratio 0.2, max_ratio 0.95.
    gen = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2,
                              max_ratio=0.95)
    grids = [[20, 20], [10, 10], [5, 5], [3, 3], [2, 2], [1, 1]]
    want = gen._grid_default_boxes(grids, [320, 320]).numpy()
    layers = []
    for (fh, fw), wh in zip(grids, gen._wh_pairs):
        pairs = (wh.clamp(0, 1).numpy().astype(np.float64) * 320).reshape(-1)
        layers.append(",".join(f32(v) for v in
                               [fw, fh, 320 / fw, 320 / fh] + list(pairs)))
    out = path("priors")
    run("priors", 320, 320, 0.5, 1, out, *layers)
    got = np.load(out)
    report("torchvision SSDLite320 default boxes",
           got.shape == want.shape and np.allclose(got, want, rtol=1e-6,
                                                   atol=1e-7),
           f"{got.shape[0]} priors")


# --- box decoding --------------------------------------------------------

def decode():
    n = 2000
    pri = np.concatenate([rng.uniform(0, 1, (n, 2)), rng.uniform(0.02, 0.9,
                                                                 (n, 2))],
                         axis=1).astype(np.float32)
    loc = rng.standard_normal((n, 4)).astype(np.float32) * 2
    src_l, src_p, out = path("loc"), path("priors"), path("boxes")
    np.save(src_l, loc)
    np.save(src_p, pri)
    run("decode", src_l, src_p, f32(0.1), f32(0.2), out)
    got = np.load(out)

    # ultraface's convert_locations_to_boxes + center_form_to_corner_form.
    centre = loc[:, :2] * np.float32(0.1) * pri[:, 2:] + pri[:, :2]
    size = np.exp(loc[:, 2:] * np.float32(0.2)) * pri[:, 2:]
    want = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    report("ultraface decoding, 2000 boxes",
           np.allclose(got, want, rtol=1e-5, atol=1e-6),
           f"max |diff| {np.abs(got - want).max():.1e}")

    # torchvision's BoxCoder(10, 10, 5, 5) on the corner-form priors.
    corner = torch.from_numpy(np.concatenate(
        [pri[:, :2] - pri[:, 2:] / 2, pri[:, :2] + pri[:, 2:] / 2], axis=1))
    want = BoxCoder((10.0, 10.0, 5.0, 5.0)).decode_single(
        torch.from_numpy(loc), corner).numpy()
    report("torchvision BoxCoder decoding, 2000 boxes",
           np.allclose(got, want, rtol=1e-5, atol=1e-5),
           f"max |diff| {np.abs(got - want).max():.1e}")


# --- NMS -----------------------------------------------------------------

def reference_nms(boxes, scores, score_t, iou_t, max_det, first):
    keep_boxes, keep_scores, keep_labels, keep_idx = [], [], [], []
    for c in range(first, scores.shape[1]):
        idx = np.nonzero(scores[:, c] > np.float32(score_t))[0]
        keep_idx.append(idx)
        keep_labels.append(np.full(len(idx), c))
    idx = np.concatenate(keep_idx)
    labels = np.concatenate(keep_labels)
    s = torch.from_numpy(scores[idx, labels])
    b = torch.from_numpy(boxes[idx])
    keep = torchvision.ops.batched_nms(b, s, torch.from_numpy(labels),
                                       float(np.float32(iou_t)))
    keep = keep[:max_det].numpy()
    return idx[keep], labels[keep], scores[idx[keep], labels[keep]]


def nms_case(name, boxes, scores, score_t, iou_t, max_det, first):
    src_b, src_s, out = path("boxes"), path("scores"), path("nms")
    np.save(src_b, boxes)
    np.save(src_s, scores)
    run("nms", src_b, src_s, f32(score_t), f32(iou_t), max_det, first, out)
    got = np.load(out).reshape(-1, 7)
    idx, labels, sc = reference_nms(boxes, scores, score_t, iou_t, max_det,
                                    first)
    ok = (len(got) == len(idx) and
          np.array_equal(got[:, 6].astype(np.int64), idx) and
          np.array_equal(got[:, 5].astype(np.int64), labels) and
          np.array_equal(got[:, 4], sc) and
          np.array_equal(got[:, :4], boxes[idx]))
    report(name, ok, f"{len(got)} kept, torchvision {len(idx)}")


def clustered_boxes(n, clusters):
    centres = rng.uniform(0.1, 0.9, (clusters, 2))
    c = centres[rng.integers(0, clusters, n)] + rng.normal(0, 0.02, (n, 2))
    wh = rng.uniform(0.05, 0.3, (n, 2))
    return np.concatenate([c - wh / 2, c + wh / 2], axis=1).astype(np.float32)


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def nms():
    boxes = clustered_boxes(1000, 25)
    scores = softmax(rng.standard_normal((1000, 4)) * 2)
    nms_case("4 classes (background skipped), IoU 0.5", boxes, scores, 0.3,
             0.5, 1000, 1)
    nms_case("same, capped at 20 detections", boxes, scores, 0.3, 0.5, 20, 1)
    nms_case("same, IoU 0.3, capped at 7", boxes, scores, 0.3, 0.3, 7, 1)
    one = rng.uniform(0, 1, (1000, 1)).astype(np.float32)
    nms_case("1 class (torchvision.ops.nms), IoU 0.45", boxes, one, 0.05,
             0.45, 1000, 0)
    nms_case("nothing above the threshold", boxes, one, 2.0, 0.45, 10, 0)


checks = {"preprocess": preprocess, "dequantize": dequantize, "topk": topk,
          "priors": priors, "decode": decode, "nms": nms}
for name in sys.argv[1].split(","):
    checks[name]()
