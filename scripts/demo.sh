#!/usr/bin/env bash
# The demo: builds mnc, whose build also compiles the pretrained int8
# MobileNetV2 (ONNX Model Zoo) into one object and links it with the small C
# program examples/classify. Runs that program on two photos, printing its
# top-5 ImageNet labels, then ONNX Runtime's top-5 on the same input for
# comparison. Where ONNX Runtime's default int8 kernels approximate (x86-64
# CPUs without AVX-512 VNNI saturate u8 x s8 pair sums at int16), it also
# shows ONNX Runtime with its exact option, which gives mnc's numbers.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build.sh

data=examples/data
model=$data/mobilenetv2-12-int8.onnx
labels=$data/torchvision_imagenet_categories.txt
classify=build/examples/classify/classify
out=build/demo
rm -rf "$out"

# ONNX Runtime's top-5 in the format classify prints: rank, class, label,
# softmax probability.
ort_top5() {
  node --input-type=module - "$1" "$labels" <<'JS'
import { readFileSync } from 'node:fs';
import { readNpy } from './tools/ort/npy.mjs';

const [file, labelFile] = process.argv.slice(2);
const labels = readFileSync(labelFile, 'utf8').trimEnd().split('\n');
const logits = Array.from(readNpy(file).data);
const max = Math.max(...logits);
const sum = logits.reduce((s, x) => s + Math.exp(x - max), 0);
logits
  .map((x, i) => ({ i, p: Math.exp(x - max) / sum }))
  .sort((a, b) => b.p - a.p || a.i - b.i)
  .slice(0, 5)
  .forEach(({ i, p }, k) =>
    console.log(`${k + 1} ${String(i).padStart(4)} ${labels[i].padEnd(24)} ${p.toFixed(4)}`));
JS
}

# Each .npy is the torchvision ImageNet preprocessing of a photo
# (examples/data/README.md), float32 1x3x224x224.
for photo in coral_grace_hopper coral_parrot; do
  image=$data/$photo.npy
  echo "== $image"
  echo "-- mnc: $classify (the model compiled by mnc, linked into C):"
  mnc_top5=$("$classify" "$labels" "$image")
  echo "$mnc_top5"
  node tools/ort/run.mjs "$model" --input input="$image" \
    --output-dir "$out/$photo" >/dev/null
  node tools/ort/run.mjs "$model" --input input="$image" --exact-int8 \
    --output-dir "$out/$photo-exact" >/dev/null
  echo "-- ONNX Runtime on the same model and input:"
  ort_top5 "$out/$photo/output.npy"
  if ! cmp -s "$out/$photo/output.npy" "$out/$photo-exact/output.npy"; then
    echo "   (approximate: without VNNI, ONNX Runtime's u8 x s8 kernels" \
      "saturate pair sums at int16)"
    exact_top5=$(ort_top5 "$out/$photo-exact/output.npy")
    same=""
    [[ $exact_top5 == "$mnc_top5" ]] && same=", the same as mnc"
    echo "-- ONNX Runtime with its exact option (session.x64quantprecision=1)$same:"
    echo "$exact_top5"
  fi
  echo
done

# Face detection: examples/detect runs the ultraface detector mnc compiled,
# with runtime/'s preprocessing, box decoding and NMS, and draws the faces.
mkdir -p "$out"
echo "== $data/ultraface_imgs_1.jpg"
echo "-- mnc: build/examples/detect/detect (ultraface compiled by mnc, runtime/ helpers):"
faces=$(build/examples/detect/detect "$data/ultraface_imgs_1.jpg" "$out/faces.png")
echo "${faces%%$'\n'*}"
echo "   boxes drawn in $out/faces.png"
