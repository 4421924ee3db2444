// Times ONNX Runtime on MODEL.onnx, the way mnc's benchmarks measure peers:
// in-process wall clock around session.run after warm-up, median of R runs.
// Prints one JSON line: {"median_ms":...,"min_ms":...,"threads":N,"runs":R}.

import { commonUsage, fail, openSession, parseCommandLine, positiveInt } from './session.mjs';

const usage = `usage: node tools/ort/bench.mjs MODEL.onnx --input NAME=FILE.npy... [--threads N]
                             [--exact-int8] [--runs R] [--warmup W]
                             [--shape NAME=1x3x224x224]...
Defaults: 100 runs, 10 warm-up runs.
${commonUsage}`;

const args = parseCommandLine(usage, {
  runs: { type: 'string', default: '100' },
  warmup: { type: 'string', default: '10' },
});
const threads = positiveInt(args.threads, '--threads');
const runs = positiveInt(args.runs, '--runs');
const warmup = Number(args.warmup);
if (!Number.isInteger(warmup) || warmup < 0) fail(`--warmup expects an integer >= 0`);

const { session, feeds } = await openSession(args);
try {
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  const round = (ms) => Math.round(ms * 1e4) / 1e4;
  console.log(JSON.stringify({ median_ms: round(median), min_ms: round(times[0]), threads, runs }));
} catch (e) {
  fail(`${args.model}: ${e.message}`);
}
