// What run.mjs and bench.mjs share: command-line parsing, opening an ONNX
// Runtime session configured the way mnc is compared against (all graph
// optimizations, a fixed number of intra-op threads, optionally exact int8
// arithmetic), and turning `--input NAME=FILE.npy` /
// `--shape NAME=1x3x224x224` into feeds.

import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { readNpy } from './npy.mjs';

/** Help text for the options every command accepts besides --input. */
export const commonUsage = `--threads N sets ONNX Runtime's intra-op threads (default 1).
--exact-int8 sets the session option session.x64quantprecision=1: on x86-64
CPUs without AVX-512 VNNI, ONNX Runtime's default u8 x s8 kernels add pairs
of products in int16 (vpmaddubsw), which saturates; this option picks its
exact kernels, so QOperator int8 models give the exact ONNX integer results.`;

/** Parses argv with node's parseArgs: one positional MODEL.onnx plus the
 *  given options (repeatable `input` and `shape`, `threads` and
 *  `exact-int8` are always accepted). Prints `usage` and exits on --help or a bad command line. */
export function parseCommandLine(usage, extraOptions = {}) {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        input: { type: 'string', multiple: true, default: [] },
        shape: { type: 'string', multiple: true, default: [] },
        threads: { type: 'string', default: '1' },
        'exact-int8': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
        ...extraOptions,
      },
    });
  } catch (e) {
    fail(`${e.message}\n${usage}`);
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (parsed.positionals.length !== 1) fail(`expected one MODEL.onnx\n${usage}`);
  return { model: parsed.positionals[0], ...parsed.values };
}

export function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

export function positiveInt(text, flag) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`${flag} expects a positive integer, got '${text}'`);
  return n;
}

function splitAssignment(text, flag) {
  const eq = text.lastIndexOf('=');
  if (eq <= 0 || eq === text.length - 1) fail(`${flag} expects NAME=VALUE, got '${text}'`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function parseShape(text) {
  const dims = text.split('x').map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0))
    fail(`bad shape '${text}' (expected e.g. 1x3x224x224)`);
  return dims;
}

/** 1x3x224x224, as on mnc's command line. */
export const shapeText = (dims) => (dims.length ? dims.join('x') : 'scalar');

/** Opens MODEL with intraOpNumThreads = `threads` (and, with `exact-int8`,
 *  session.x64quantprecision=1), reads every `--input`,
 *  reshapes by `--shape`, and checks names, dtypes and static dimensions
 *  against the model. Symbolic dimensions of an input given a `--shape` are
 *  pinned with freeDimensionOverrides, as mnc's --input-shape pins them.
 *  Returns { session, feeds }. */
export async function openSession({ model, input, shape, threads, 'exact-int8': exactInt8 }) {
  const options = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: positiveInt(threads, '--threads'),
    interOpNumThreads: 1,
    logSeverityLevel: 3, // errors only: some exporters' models trigger a warning per initializer
  };
  // Session config entries travel as `extra`, nested at each '.' of the key
  // (onnxruntime-node flattens it back to "session.x64quantprecision").
  if (exactInt8) options.extra = { session: { x64quantprecision: '1' } };
  const create = (opts) =>
    ort.InferenceSession.create(model, opts).catch((e) => fail(`${model}: ${e.message}`));
  let session = await create(options);
  const metadata = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const listInputs = () =>
    session.inputMetadata
      .map((m) => `  ${m.name} ${m.type} ${m.shape.map((d) => d ?? '?').join('x')}`)
      .join('\n');

  const shapes = new Map(shape.map((s) => splitAssignment(s, '--shape')));
  const feeds = {};
  for (const arg of input) {
    const [name, file] = splitAssignment(arg, '--input');
    if (!metadata.has(name)) fail(`model has no input '${name}'; its inputs are:\n${listInputs()}`);
    let tensor;
    try {
      tensor = readNpy(file);
    } catch (e) {
      fail(e.message);
    }
    if (shapes.has(name)) {
      const dims = parseShape(shapes.get(name));
      if (dims.reduce((a, b) => a * b, 1) !== tensor.data.length)
        fail(`--shape ${name}=${shapeText(dims)} does not match the ${tensor.data.length} ` +
          `elements of ${file} (${shapeText(tensor.shape)})`);
      tensor.shape = dims;
    }
    feeds[name] = tensor;
  }
  const missing = session.inputNames.filter((n) => !(n in feeds));
  if (missing.length)
    fail(`no --input for ${missing.map((n) => `'${n}'`).join(', ')}; the model's inputs are:\n` +
      listInputs());
  for (const name of shapes.keys())
    if (!(name in feeds)) fail(`--shape for '${name}', which has no --input`);

  const overrides = {};
  for (const [name, t] of Object.entries(feeds)) {
    const m = metadata.get(name);
    if (m.type !== t.dtype) fail(`input '${name}' is ${m.type} but the .npy holds ${t.dtype}`);
    const ok = m.shape.length === t.shape.length &&
      m.shape.every((d, i) => typeof d !== 'number' || d === t.shape[i]);
    if (!ok)
      fail(`input '${name}' has shape ${m.shape.map((d) => d ?? '?').join('x')}, ` +
        `given ${shapeText(t.shape)}`);
    if (shapes.has(name))
      m.shape.forEach((d, i) => {
        if (typeof d === 'string' && d) overrides[d] = t.shape[i];
      });
    feeds[name] = new ort.Tensor(t.dtype, t.data, t.shape);
  }
  if (Object.keys(overrides).length) {
    await session.release();
    session = await create({ ...options, freeDimensionOverrides: overrides });
  }
  return { session, feeds };
}
