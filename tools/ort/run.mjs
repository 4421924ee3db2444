// ONNX Runtime reference runner: runs MODEL.onnx on .npy inputs and writes
// each output to DIR/<output name>.npy, the files mnc's numerics tests and
// `mnc run --reference` compare against.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from './npy.mjs';
import { commonUsage, fail, openSession, parseCommandLine, shapeText } from './session.mjs';

const usage = `usage: node tools/ort/run.mjs MODEL.onnx --input NAME=FILE.npy... --output-dir DIR
                           [--threads N] [--exact-int8] [--shape NAME=1x3x224x224]...
Runs MODEL with ONNX Runtime (all graph optimizations), writes each output
as DIR/<name>.npy (bytes outside [A-Za-z0-9_.-] in the name, and a leading '.', become %XX)
and prints "name dtype shape" per output.
--shape reshapes an input and pins the model's symbolic dimensions to it.
${commonUsage}`;

const args = parseCommandLine(usage, { 'output-dir': { type: 'string' } });
const outDir = args['output-dir'];
if (!outDir) fail(`--output-dir is required\n${usage}`);

const { session, feeds } = await openSession(args);
let results;
try {
  results = await session.run(feeds);
} catch (e) {
  fail(`${args.model}: ${e.message}`);
}

// The file name mnc run gives an output: bytes outside [A-Za-z0-9_.-] and a
// leading '.' as %XX.
function fileName(name) {
  if (name === '') return '%';
  return [...Buffer.from(name, 'utf8')].map((b, i) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_-]/.test(c) || (c === '.' && i > 0)
      ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }).join('');
}

mkdirSync(outDir, { recursive: true });
const written = new Map();
for (const name of session.outputNames) {
  const file = fileName(name) + '.npy';
  if (written.has(file)) fail(`outputs '${written.get(file)}' and '${name}' both map to ${file}`);
  written.set(file, name);
  const t = results[name];
  writeNpy(join(outDir, file), { dtype: t.type, shape: t.dims, data: t.data });
  console.log(`${name} ${t.type} ${shapeText(t.dims)}`);
}
