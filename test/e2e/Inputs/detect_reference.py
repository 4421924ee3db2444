"""Checks examples/detect's faces against ONNX Runtime's.

usage: detect_reference.py PHOTO DETECT_OUTPUT.txt INPUT.npy ORT_DIR OUT.png

Applies the ultraface repository's postprocessing, written here in numpy
(generate_priors, convert_locations_to_boxes, center_form_to_corner_form),
and torchvision's NMS to ONNX Runtime's scores and boxes on the input tensor
detect saved, and compares the faces with the ones detect printed: the same
number, each matched one to one within 0.5 pixel and 1e-3 in score. Also
checks detect's preprocessing against Pillow's JPEG decoding and torch's
bilinear resize (decoders round differently: mean difference only), and
that every face is outlined in green in the picture detect wrote."""
import math
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

photo, printed, input_npy, ort_dir, picture = sys.argv[1:]
W, H = 320, 240

# Ultra-Light-Fast-Generic-Face-Detector-1MB, vision/ssd/config/fd_config.py
# and run_video_face_detect_onnx.py: priors, variances and thresholds.
strides = [8, 16, 32, 64]
min_boxes = [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]]
priors = []
for k, s in enumerate(strides):
    scale_w, scale_h = W / s, H / s
    for j in range(math.ceil(H / s)):
        for i in range(math.ceil(W / s)):
            for m in min_boxes[k]:
                priors.append([(i + 0.5) / scale_w, (j + 0.5) / scale_h,
                               m / W, m / H])
priors = np.clip(np.array(priors, np.float32), 0, 1)

scores = np.load(f"{ort_dir}/scores.npy")[0]
loc = np.load(f"{ort_dir}/boxes.npy")[0]
centre = loc[:, :2] * np.float32(0.1) * priors[:, 2:] + priors[:, :2]
size = np.exp(loc[:, 2:] * np.float32(0.2)) * priors[:, 2:]
boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
idx = np.nonzero(scores[:, 1] > 0.7)[0]
keep = torchvision.ops.nms(torch.from_numpy(boxes[idx]),
                           torch.from_numpy(scores[idx, 1]), 0.3)[:200]
img = Image.open(photo).convert("RGB")
pw, ph = img.size
ref = boxes[idx[keep]] * np.array([pw, ph, pw, ph], np.float32)
ref_scores = scores[idx[keep], 1]

lines = open(printed).read().split("\n")
count = int(lines[0].split()[1])
got = np.array([[float(v) for v in line.split()] for line in lines[1:]
                if line], np.float32).reshape(-1, 5)
print(f"faces: {count}, ONNX Runtime: {len(ref)}")
failed = count != len(ref) or len(got) != count

# One-to-one matching: near-equal scores may come in another order.
unmatched = list(range(len(got)))
worst_box = worst_score = 0.0
for r, s in zip(ref, ref_scores):
    if not unmatched:
        failed = True
        break
    d = [np.abs(got[u, :4] - r).max() for u in unmatched]
    best = int(np.argmin(d))
    u = unmatched.pop(best)
    worst_box = max(worst_box, d[best])
    worst_score = max(worst_score, abs(got[u, 4] - s))
failed |= worst_box > 0.5 or worst_score > 1e-3
print(f"matched one to one: max box difference {worst_box:.3f} px, "
      f"max score difference {worst_score:.1e}")

x = torch.from_numpy(np.asarray(img, np.float32).transpose(2, 0, 1).copy())
x = torch.nn.functional.interpolate(x[None], size=(H, W), mode="bilinear",
                                    align_corners=False)
want = ((x - 127) / 128).numpy()
mine = np.load(input_npy)
mean_diff = float(np.abs(mine - want).mean())
print(f"input vs Pillow + torch: mean |diff| {mean_diff:.4f}")
failed |= mine.shape != want.shape or mean_diff > 0.01

out = np.asarray(Image.open(picture).convert("RGB"))
green = [tuple(out[int(b[1]), int(b[0])]) == (0, 255, 0) for b in got]
print(f"picture: {out.shape[1]}x{out.shape[0]}, "
      f"{sum(green)} of {len(got)} boxes outlined")
failed |= out.shape[:2] != (ph, pw) or not all(green)
sys.exit(1 if failed else 0)
