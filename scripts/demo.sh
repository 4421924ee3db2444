#!/usr/bin/env bash
# The demo: builds mnc, runs the pretrained int8 MobileNetV2 (ONNX Model Zoo)
# on a photo of Grace Hopper with mnc, runs ONNX Runtime on the same input,
# and prints both top-5 ImageNet classes side by side.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build.sh

data=examples/data
model=$data/mobilenetv2-12-int8.onnx
image=$data/coral_grace_hopper.npy # torchvision ImageNet preprocessing, 1x3x224x224
out=build/demo
rm -rf "$out"

echo "mnc: running $model on $image"
# mnc itself: writes one .npy per model output into $out/mnc.
build/bin/mnc run "$model" --input input="$image" --output-dir "$out/mnc" --reference

node tools/ort/run.mjs "$model" --input input="$image" --output-dir "$out/ort" >/dev/null

node --input-type=module - "$out/mnc/output.npy" "$out/ort/output.npy" \
  "$data/torchvision_imagenet_categories.txt" <<'EOF'
import { readFileSync } from 'node:fs';
import { readNpy } from './tools/ort/npy.mjs';

const [mncFile, ortFile, labelFile] = process.argv.slice(2);
const labels = readFileSync(labelFile, 'utf8').trimEnd().split('\n');

function top5(file) {
  const logits = Array.from(readNpy(file).data);
  const max = Math.max(...logits);
  const sum = logits.reduce((s, x) => s + Math.exp(x - max), 0);
  return logits
    .map((x, i) => ({ i, p: Math.exp(x - max) / sum }))
    .sort((a, b) => b.p - a.p)
    .slice(0, 5);
}

const cell = ({ i, p }) => `${String(i).padStart(4)} ${labels[i].padEnd(18)} ${p.toFixed(3)}`;
const mnc = top5(mncFile);
const ort = top5(ortFile);
console.log(`     ${'mnc'.padEnd(29)}   ONNX Runtime`);
mnc.forEach((m, k) => console.log(`  ${k + 1}. ${cell(m)}   ${cell(ort[k])}`));
EOF
