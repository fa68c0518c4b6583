// The decoder benchmark's own correctness, on the runtimes that need no benchmark packages:
// ours (WebGPU and CPU), the hand-written WGSL decoder and plain JS, each checked by
// bench/run.mjs against the float64 reference. Short budget: this tests the numbers, not speed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './harness.mjs';

test('make bench: every runtime without npm extras decodes the shipped weights correctly', { timeout: 600_000 }, () => {
  const model = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'index.json'), 'utf8')).models[0].name;
  execFileSync('cargo', ['build', '--quiet', '--profile', 'native', '--bin', 'vae'], { cwd: ROOT, stdio: 'inherit' });
  fs.mkdirSync(path.join(ROOT, 'bench', 'out'), { recursive: true });
  execFileSync(path.join(ROOT, 'target', 'native', 'vae'), ['export-decoder', '--model', `models/${model}`, '--out', 'bench/out/decoder.json'], { cwd: ROOT });
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'results.json');
  execFileSync(process.execPath, ['bench/run.mjs', '--only', 'ours,wgsl,js', '--batches', '1,16', '--budget-ms', '200', '--out', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const { results, targets } = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(results.filter((r) => r.error), [], 'no runtime failed');
  const runs = new Set(results.map((r) => `${r.runtime}/${r.backend}/${r.batch}`));
  for (const run of ['ours/webgpu', 'ours/cpu', 'wgsl/webgpu', 'js/cpu']) {
    for (const b of [1, 16]) assert.ok(runs.has(`${run}/${b}`), `${run} batch ${b} measured`);
  }
  for (const r of results) {
    assert.ok(r.max_abs_err < 1e-4, `${r.runtime}/${r.backend} batch ${r.batch}: max abs error ${r.max_abs_err}`);
    // A single call can be shorter than the browser's clock resolution (its median then reads 0);
    // the back-to-back loop's mean cannot.
    assert.ok(r.median_ms >= 0 && r.p95_ms >= r.median_ms && r.samples >= 5, `${r.runtime}/${r.backend}: timings recorded`);
    assert.ok(r.loop_mean_ms > 0 && r.loops >= 3, `${r.runtime}/${r.backend}: loop timed`);
  }
  // The ratio against the hand-WGSL floor is computed from this run's medians.
  assert.ok(targets.find((t) => t.target.includes('hand WGSL')).ratio > 0);
});
