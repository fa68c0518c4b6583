// Every shipped model, and a small convolutional bundle, decode the same on WebGPU and on the
// CPU backend in the browser; the convolutional one also matches the native golden values
// (tests/fixtures/conv-tiny/golden.json, checked by `cargo test` on the native side).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, startServer, launchBrowser, openPage, sliders, directoryRoute } from './harness.mjs';

const LOAD = { timeout: 180_000 };
const T = { timeout: 180_000 };
const FIXTURE = path.join(ROOT, 'tests', 'fixtures', 'conv-tiny');

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Serves tests/fixtures/conv-tiny/ at /fixtures/conv-tiny/ inside the page. */
const fixtureRoute = directoryRoute('**/fixtures/conv-tiny/*', FIXTURE);

/** In the page: decode `zs` (and 2 encodings) on both backends; the largest differences. */
async function compareBackends(page, base, zs) {
  return page.evaluate(
    async ({ base, zs }) => {
      const { openBundle } = await import('/load.js');
      const { module: mod, manifestText: mt, weights: w } = await openBundle({ module: 'webgpu', path: base });
      const cpu = await mod.Explorer.create(mt, w, 'cpu');
      const gpu = await mod.Explorer.create(mt, w, 'webgpu');
      try {
        const D = cpu.latentDim;
        const n = zs ? zs.length / D : 6;
        const flat = zs
          ? Float32Array.from(zs)
          : Float32Array.from({ length: n * D }, (_, i) => 2 * Math.sin(0.9 * i + 0.4));
        const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
        const a = await cpu.decodeBatch(flat, n);
        const g = await gpu.decodeBatch(flat, n);
        const one = await gpu.decode(flat.subarray(0, D));
        const ring = new Float32Array(784);
        for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) ring[y * 28 + x] = Math.abs(Math.hypot(x - 13.5, y - 13.5) - 7) < 1.5 ? 1 : 0;
        const ea = await cpu.encode(ring);
        const eg = await gpu.encode(ring);
        return {
          D,
          backends: [cpu.backend, gpu.backend],
          kernels: [cpu.decoderKernels, gpu.decoderKernels],
          cpu: Array.from(a),
          decode: maxAbs(a, g),
          single: maxAbs(one, a.subarray(0, 784)),
          mu: maxAbs(ea.mu, eg.mu),
          logVar: maxAbs(ea.logVar, eg.logVar),
          lo: Math.min(...a, ...g),
          hi: Math.max(...a, ...g),
        };
      } finally {
        cpu.free();
        gpu.free();
      }
    },
    { base, zs },
  );
}

describe('models on both backends (--enable-unsafe-webgpu)', () => {
  let browser;
  let session;
  let index;

  before(async () => {
    browser = await launchBrowser({ webgpu: true });
    session = await openPage(browser, server, '?backend=cpu', { routes: [fixtureRoute] });
    index = JSON.parse(await readFile(path.join(ROOT, 'models', 'index.json'), 'utf8'));
  }, LOAD);
  after(async () => {
    await browser?.close();
  });

  test('every shipped model decodes and encodes the same on WebGPU and CPU', T, async () => {
    assert.ok(index.models.length >= 2, 'a 2-D and an N-D model are listed');
    for (const m of index.models) {
      const r = await compareBackends(session.page, `/models/${m.path}`, null);
      assert.deepEqual(r.backends, ['CPU', 'WebGPU'], m.name);
      assert.deepEqual(r.kernels, ['packed', 'fused'], `${m.name}: the packed CPU layers and the fused WebGPU kernels`);
      assert.ok(r.lo >= 0 && r.hi <= 1, `${m.name}: values in [0, 1]: [${r.lo}, ${r.hi}]`);
      assert.ok(r.decode <= 1e-4, `${m.name}: max |cpu - webgpu| = ${r.decode}`);
      assert.ok(r.single <= 1e-4, `${m.name}: decode vs decodeBatch ${r.single}`);
      assert.ok(r.mu <= 1e-3 && r.logVar <= 1e-3, `${m.name}: encode differs (${r.mu}, ${r.logVar})`);
    }
  });

  test('a convolutional bundle matches the native golden values on both backends', T, async () => {
    const golden = JSON.parse(await readFile(path.join(FIXTURE, 'golden.json'), 'utf8'));
    const r = await compareBackends(session.page, '/fixtures/conv-tiny/', golden.z);
    assert.equal(r.cpu.length, golden.images.length);
    const vsGolden = r.cpu.reduce((m, v, i) => Math.max(m, Math.abs(v - golden.images[i])), 0);
    assert.ok(vsGolden <= 1e-4, `wasm CPU vs native: ${vsGolden}`);
    assert.ok(r.decode <= 1e-4, `WebGPU vs CPU: ${r.decode}`);
    // The packed and fused kernels are for fully connected decoders; this one runs burn's ops.
    assert.deepEqual(r.kernels, ['burn', 'burn']);
    assert.ok(r.mu <= 1e-3 && r.logVar <= 1e-3, `encode differs (${r.mu}, ${r.logVar})`);
  });

  test('?model= opens the 2-D model with two sliders', T, async () => {
    const two = index.models.find((m) => /-2$/.test(m.name));
    assert.ok(two, 'a model named …-2');
    const s = await openPage(browser, server, `?backend=cpu&model=${two.name}`);
    try {
      assert.equal(await s.page.evaluate(() => document.body.dataset.ready), 'true');
      assert.equal((await sliders(s.page)).length, 2);
      assert.equal(await s.page.getByLabel('Model', { exact: true }).inputValue(), two.name);
    } finally {
      await s.close();
    }
  });
});
