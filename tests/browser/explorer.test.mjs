// The page in headless Chromium, on WebGPU (SwiftShader, --enable-unsafe-webgpu) and on the
// CPU fallback (no flag: no adapter). One browser per describe block, shared by its tests.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer,
  launchBrowser,
  openPage,
  waitForReadyOrError,
  waitForAlert,
  decodedPixels,
  sliders,
  sliderValues,
  decodeCount,
  waitForDecodesAfter,
  settle,
  pixelStats,
  pixelDiff,
  drawStrokes,
  ONE,
  SEVEN,
} from './harness.mjs';

const LOAD = { timeout: 180_000 };
const T = { timeout: 120_000 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------- helpers

const parseSigned = (text) => Number(String(text).trim().replace('−', '-').replace(/^\+/, ''));

/** Index (0-based) of the dimension with the largest KL in the manifest: moving it changes the image most. */
function mostActive(manifest) {
  let best = 0;
  manifest.latent.forEach((l, i) => {
    if ((l.kl_nats ?? 0) > (manifest.latent[best].kl_nats ?? 0)) best = i;
  });
  return best;
}

function slider(page, i) {
  return page.getByRole('slider', { name: `Latent dimension ${i + 1}`, exact: true });
}

/** Clears the drawing and resets z to 0, then waits for the decoder to settle. */
async function reset(page) {
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  const n = await decodeCount(page);
  await page.getByRole('button', { name: 'Reset z to 0', exact: true }).click();
  await waitForDecodesAfter(page, n);
  const values = await sliderValues(page);
  assert.ok(values.every((v) => v === 0), `reset: all sliders at 0 (${values})`);
}

/** The posterior (±σ) text next to each slider. */
/** The "μ … ± σ" texts next to the sliders, in dimension order (the page shows them by KL). */
function posteriorTexts(page) {
  return page.evaluate(() => [...document.querySelectorAll('.slider-posterior')].sort((a, b) => Number(a.id.split('-')[1]) - Number(b.id.split('-')[1])).map((e) => e.textContent));
}

/** A pixel canvas by accessible name as 0..255 grey levels, or the alpha channel. */
function canvasChannel(page, name, channel) {
  return page.getByRole('img', { name, exact: true }).evaluate((c, ch) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const out = new Uint8Array(c.width * c.height);
    for (let i = 0; i < out.length; i++) out[i] = d[i * 4 + ch];
    return Array.from(out);
  }, channel);
}

/**
 * In the page: an Explorer on `backend` built from the same bundle the page loaded
 * (force-cache: the browser's cached copy, even if the model files were replaced since).
 */
async function encodeInPage(page, pixels, backend = 'cpu') {
  return page.evaluate(
    async ({ pixels, backend }) => {
      if (!window.__testExplorers) window.__testExplorers = {};
      if (!window.__testExplorers[backend]) {
        const { openModel } = await import('/load.js');
        window.__testExplorers[backend] = (await openModel({ backend, module: 'webgpu', cache: 'force-cache' })).explorer;
      }
      const r = await window.__testExplorers[backend].encode(Float32Array.from(pixels));
      return { mu: Array.from(r.mu), logVar: Array.from(r.logVar) };
    },
    { pixels, backend },
  );
}

function centreOfMass(values, size = 28) {
  let m = 0;
  let mx = 0;
  let my = 0;
  values.forEach((v, i) => {
    m += v;
    mx += v * ((i % size) + 0.5);
    my += v * (Math.floor(i / size) + 0.5);
  });
  return { x: mx / m, y: my / m, mass: m };
}


// ---------------------------------------------------------------- shared checks

async function checkLoaded(session, backend) {
  const { page, log } = session;
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true');
  assert.equal(await page.evaluate(() => performance.getEntriesByName('first-decode').length), 1, 'first-decode mark');
  const status = (await page.locator('#status-main').textContent()).trim();
  assert.match(status, new RegExp(`^Backend: ${backend}\\b`), status);
  assert.match(status, /decode [\d.]+ ms/, status);
  assert.equal(await page.evaluate(() => window.vaeStats.backend), backend);
  assert.match(await page.getByRole('status').textContent(), new RegExp(backend));
  assert.equal(await page.getByRole('alert').isVisible(), false, 'no error shown');

  const manifest = await log.manifest();
  assert.ok(manifest && manifest.latent_dim > 0, 'the page received a manifest');
  const n = manifest.latent_dim;
  const all = await sliders(page);
  assert.equal(all.length, n, 'one slider per latent dimension');
  // Inactive dimensions start collapsed behind one button; shown, every dimension has its slider.
  const inactive = manifest.latent.filter((l) => l.active === false).length;
  assert.equal(await page.getByRole('slider', { name: /^Latent dimension \d+$/ }).count(), n - inactive);
  if (inactive > 0) {
    const show = page.getByRole('button', { name: `Show ${inactive} inactive dimension${inactive === 1 ? '' : 's'}` });
    assert.equal(await show.count(), 2, 'one button under the sliders, one under the traversals');
    await show.first().click();
    assert.equal(await page.getByRole('slider', { name: /^Latent dimension \d+$/ }).count(), n);
  }
  for (let i = 0; i < n; i++) {
    const s = slider(page, i);
    assert.equal(await s.count(), 1, `slider "Latent dimension ${i + 1}"`);
    const [min, max] = await s.evaluate((el) => [Number(el.min), Number(el.max)]);
    const { slider_min: lo, slider_max: hi } = manifest.latent[i];
    // The page rounds the range outwards to its 0.01 step.
    assert.ok(min <= lo + 1e-9 && lo - min < 0.01 + 1e-9, `dimension ${i + 1}: min ${min} vs manifest ${lo}`);
    assert.ok(max >= hi - 1e-9 && max - hi < 0.01 + 1e-9, `dimension ${i + 1}: max ${max} vs manifest ${hi}`);
    assert.equal(await s.isEnabled(), true);
  }
  assert.equal(await slider(page, n).count(), 0, `no "Latent dimension ${n + 1}"`);
  if (inactive > 0) await page.getByRole('button', { name: /^Hide the \d+ inactive dimension/ }).first().click();

  const stats = pixelStats(await decodedPixels(page));
  assert.ok(stats.max - stats.min >= 30 && stats.distinct >= 10 && stats.std >= 3, `decoded image not blank/uniform: ${JSON.stringify(stats)}`);
  return manifest;
}

async function checkSliderMouse(page, manifest) {
  await reset(page);
  const i = mostActive(manifest);
  const s = slider(page, i);
  await s.scrollIntoViewIfNeeded();
  const box = await s.boundingBox();
  const [min, max] = await s.evaluate((el) => [Number(el.min), Number(el.max)]);
  const before = await decodedPixels(page);
  const n = await decodeCount(page);
  const y = box.y + box.height / 2;
  const x0 = box.x + (box.width * (0 - min)) / (max - min); // the thumb, at 0
  await page.mouse.move(x0, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.9, y, { steps: 12 });
  await page.mouse.up();
  await waitForDecodesAfter(page, n);
  const value = Number(await s.inputValue());
  assert.ok(value > 0.5 * max, `dragged right: value ${value} (max ${max})`);
  const shown = await page.locator(`output[for="z-${i + 1}"]`).textContent();
  assert.ok(Math.abs(parseSigned(shown) - value) < 0.006, `displayed value "${shown}" vs ${value}`);
  const after = await decodedPixels(page);
  assert.ok(pixelDiff(before, after) > 200, `the image changed: sum |Δ| = ${pixelDiff(before, after)}`);
  // The other sliders did not move.
  const values = await sliderValues(page);
  assert.deepEqual(values.filter((_, k) => k !== i), values.map(() => 0).slice(1));
}

async function checkSliderKeyboard(page, manifest) {
  await reset(page);
  const i = mostActive(manifest);
  const s = slider(page, i);
  const step = Number(await s.getAttribute('step'));
  const before = await decodedPixels(page);
  const n = await decodeCount(page);
  await s.focus();
  for (let k = 0; k < 10; k++) await page.keyboard.press('ArrowRight');
  await waitForDecodesAfter(page, n);
  const value = Number(await s.inputValue());
  assert.ok(Math.abs(value - 10 * step) < 1e-9, `10 × ArrowRight: ${value} = 10 × ${step}`);
  assert.equal((await page.locator(`output[for="z-${i + 1}"]`).textContent()).trim(), `+${(10 * step).toFixed(2)}`);
  const after = await decodedPixels(page);
  const changed = after.filter((v, k) => v !== before[k]).length;
  assert.ok(changed >= 5, `the image changed: ${changed} pixels, sum |Δ| = ${pixelDiff(before, after)}`);
  // The z readout follows.
  const readout = await page.locator('#z-readout .z-value').nth(i).textContent();
  assert.ok(Math.abs(parseSigned(readout) - value) < 0.006, `z readout ${readout}`);
}

/** Draws `strokes`, waits for the encoding; returns the slider values. */
async function drawAndCheck(page, strokes) {
  await reset(page);
  const before = await decodedPixels(page);
  const n = await decodeCount(page);
  await drawStrokes(page, strokes);
  // The encoder's μ ± σ shows next to every slider, then the decoder repaints.
  await page.waitForFunction(() => [...document.querySelectorAll('.slider-posterior')].every((e) => e.textContent.includes('±')), null, T);
  await waitForDecodesAfter(page, n);
  await page.waitForFunction(() => window.vaeStats.encodeMs.length > 0);

  const values = await sliderValues(page);
  assert.ok(values.some((v) => Math.abs(v) >= 0.1), `the encoding moved the sliders: ${values}`);

  // The encoder input (28x28) is the MNIST-style preprocessed drawing: ink, centred by mass.
  const input = await canvasChannel(page, 'Encoder input (28×28)', 0);
  const com = centreOfMass(input);
  assert.ok(Math.max(...input) > 200, 'the encoder input shows the drawing');
  assert.ok(Math.abs(com.x - 14) <= 1 && Math.abs(com.y - 14) <= 1, `centre of mass ${JSON.stringify(com)}`);

  // The sliders sit at μ of that input, and the ±σ text shows σ = exp(logVar / 2). (On a
  // software GPU the last encode of the stroke can land a while after the first ones.)
  const enc = await encodeInPage(page, input.map((v) => v / 255));
  await page.waitForFunction(
    (mu) => mu.every((m, k) => { const el = document.getElementById(`z-${k + 1}`); return Math.abs(Number(el.value) - Math.min(Number(el.max), Math.max(Number(el.min), m))) < 0.03; }),
    Array.from(enc.mu),
    { timeout: 60_000 },
  ).catch(() => {}); // the assertions below say what differs
  values.splice(0, values.length, ...(await sliderValues(page)));
  const texts = await posteriorTexts(page);
  const all = await sliders(page);
  for (let k = 0; k < values.length; k++) {
    const mu = Math.min(all[k].max, Math.max(all[k].min, enc.mu[k]));
    // 0.01 slider step + the 8-bit rounding of the encoder-input canvas.
    assert.ok(Math.abs(values[k] - mu) < 0.03, `dimension ${k + 1}: slider ${values[k]} vs μ ${enc.mu[k]}`);
    const m = /^μ ([−-]?\d+\.\d\d) ± (\d+\.\d\d)$/.exec(texts[k].trim());
    assert.ok(m, `±σ text of dimension ${k + 1}: "${texts[k]}"`);
    const sigma = Math.exp(enc.logVar[k] / 2);
    assert.ok(Math.abs(Number(m[2]) - sigma) < 0.03, `dimension ${k + 1}: σ ${m[2]} vs ${sigma}`);
    assert.ok(Math.abs(parseSigned(m[1]) - enc.mu[k]) < 0.03, `dimension ${k + 1}: μ ${m[1]} vs ${enc.mu[k]}`);
  }
  const after = await decodedPixels(page);
  assert.ok(pixelDiff(before, after) > 200, `the decoded image changed: sum |Δ| = ${pixelDiff(before, after)}`);
  assert.equal(await page.getByRole('button', { name: 'Sample from posterior' }).isEnabled(), true);
  assert.equal(await page.getByRole('alert').isVisible(), false);
  return values;
}

async function checkClear(page) {
  await reset(page);
  const n = await decodeCount(page);
  await drawStrokes(page, SEVEN);
  await page.waitForFunction(() => document.querySelector('.slider-posterior').textContent.includes('±'), null, T);
  await waitForDecodesAfter(page, n);
  const padInk = await canvasChannel(page, 'Drawing pad', 3);
  assert.ok(padInk.some((v) => v > 0), 'the pad has ink before Clear');
  const z = await sliderValues(page);

  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  assert.ok((await canvasChannel(page, 'Drawing pad', 3)).every((v) => v === 0), 'the pad is empty');
  assert.ok((await canvasChannel(page, 'Encoder input (28×28)', 0)).every((v) => v === 0), 'the encoder input is empty');
  assert.ok((await posteriorTexts(page)).every((t) => t === ''), 'no ±σ after Clear');
  assert.equal(await page.getByRole('button', { name: 'Sample from posterior' }).isEnabled(), false);
  assert.deepEqual(await sliderValues(page), z, 'Clear keeps z');

  // An encode still running when Clear is pressed must not bring the posterior back. The
  // stroke and the click happen in the page so that Clear lands while the encode is in
  // flight: the encoder dispatches on the next animation frame, and its result needs at
  // least a GPU read-back (on the CPU backend it may finish within the frame).
  const dispatched = await page.evaluate(async () => {
    const pad = document.querySelector('canvas[aria-label="Drawing pad"]');
    const r = pad.getBoundingClientRect();
    const ev = (type, fx, fy) =>
      new PointerEvent(type, { pointerId: 7, pointerType: 'mouse', button: 0, buttons: type === 'pointerup' ? 0 : 1, bubbles: true, cancelable: true, isPrimary: true, clientX: r.left + fx * r.width, clientY: r.top + fy * r.height });
    const before = window.vaeStats.encodeMs.length;
    pad.dispatchEvent(ev('pointerdown', 0.5, 0.15));
    for (let k = 1; k <= 10; k++) pad.dispatchEvent(ev('pointermove', 0.5, 0.15 + 0.07 * k));
    pad.dispatchEvent(ev('pointerup', 0.5, 0.85));
    await new Promise((res) => requestAnimationFrame(res)); // the encoder's frame runs first
    const inFlight = window.vaeStats.encodeMs.length === before;
    document.getElementById('clear').click();
    return inFlight;
  });
  await page.waitForTimeout(300);
  await settle(page);
  assert.ok((await posteriorTexts(page)).every((t) => t === ''), `a late encode result was dropped (in flight at Clear: ${dispatched})`);
  assert.ok((await canvasChannel(page, 'Encoder input (28×28)', 0)).every((v) => v === 0), 'encoder input still empty');
  return dispatched;
}

async function checkSamplePrior(page) {
  await reset(page);
  const before = await decodedPixels(page);
  const button = page.getByRole('button', { name: 'Sample from prior', exact: true });
  let n = await decodeCount(page);
  await button.click();
  await waitForDecodesAfter(page, n);
  const a = await sliders(page);
  const nonZero = a.filter((s) => s.value !== 0).length;
  assert.ok(nonZero >= a.length / 2, `a prior sample moves the sliders (${nonZero} of ${a.length} non-zero)`);
  for (const s of a) assert.ok(s.value >= s.min && s.value <= s.max, `${s.name}: ${s.value} in [${s.min}, ${s.max}]`);
  const outputs = await page.evaluate(() => [...document.querySelectorAll('output.slider-value')].sort((a, b) => Number(a.htmlFor.value.slice(2)) - Number(b.htmlFor.value.slice(2))).map((e) => e.textContent));
  a.forEach((s, k) => assert.ok(Math.abs(parseSigned(outputs[k]) - s.value) < 0.006, `${s.name} shows ${outputs[k]}`));
  const img1 = await decodedPixels(page);
  assert.ok(pixelDiff(before, img1) > 200, `the image changed: sum |Δ| = ${pixelDiff(before, img1)}`);

  n = await decodeCount(page);
  await button.click();
  await waitForDecodesAfter(page, n);
  const b = await sliderValues(page);
  assert.notDeepEqual(b, a.map((s) => s.value), 'two samples differ');
  assert.ok(pixelDiff(img1, await decodedPixels(page)) > 0, 'and so do their images');
}

/** Load, slide, draw, sample in a fresh page; returns the page's problem log. */
async function normalSession(browser, query) {
  const session = await openPage(browser, server, query);
  try {
    const { page, log } = session;
    assert.equal(await waitForReadyOrError(page), 'ready');
    const manifest = await log.manifest();
    const s = slider(page, mostActive(manifest));
    await s.focus();
    for (let k = 0; k < 5; k++) await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('PageUp');
    const n = await decodeCount(page);
    await drawStrokes(page, SEVEN);
    await waitForDecodesAfter(page, n);
    await page.getByRole('button', { name: 'Sample from posterior' }).click();
    await page.getByRole('button', { name: 'Sample from prior' }).click();
    await page.getByRole('button', { name: 'Clear' }).click();
    await settle(page);
    assert.ok((await decodeCount(page)) >= 4, 'several images were decoded');
    return log;
  } finally {
    await session.close();
  }
}

function assertCleanLog(log, { allowWarnings = true } = {}) {
  assert.deepEqual(log.pageErrors, [], 'no uncaught page errors');
  assert.deepEqual(log.consoleErrors, [], 'no console errors');
  assert.deepEqual(log.failedRequests, [], 'no failed requests');
  assert.deepEqual(log.foreignRequests, [], 'no requests to other origins');
  assert.deepEqual(log.dialogs, [], 'no alert()/confirm() dialogs');
  if (!allowWarnings) assert.deepEqual(log.consoleWarnings, []);
  assert.ok(log.requests.length >= 5, 'requests were recorded');
}

// ---------------------------------------------------------------- broken bundles

const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255));

function manifestRoute(edit) {
  return [
    '**/manifest.json',
    async (route) => {
      const real = await route.fetch();
      const manifest = JSON.parse(await real.text());
      await route.fulfill({ response: real, body: JSON.stringify(edit(manifest)), contentType: 'application/json' });
    },
  ];
}

const BROKEN = [
  {
    name: 'garbage weights',
    routes: [['**/weights.bpk', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: garbage })]],
    expect: /weights/i,
  },
  {
    name: 'format_version 99',
    routes: [manifestRoute((m) => ({ ...m, format_version: 99 }))],
    expect: /format version\b.*\b99\b/i,
  },
  {
    name: 'latent_dim 8 with 32-D weights',
    routes: [manifestRoute((m) => ({ ...m, latent_dim: 8, latent: m.latent.slice(0, 8), map: undefined }))],
    expect: /weights do(?: not|n['’]t) fit/i,
  },
];

async function checkBroken(browser, query, c, { noFallbackNotice }) {
  const session = await openPage(browser, server, query, { routes: c.routes, waitReady: false });
  try {
    const { page, log } = session;
    const text = await waitForAlert(page);
    assert.match(text, c.expect, text);
    assert.doesNotMatch(text, /unreachable|panicked|RuntimeError|wasm-function|\n\s+at /i, `a readable message, not a trap or stack: ${text}`);
    assert.notEqual(await page.evaluate(() => document.body.dataset.ready), 'true');
    assert.match(await page.locator('#status-main').textContent(), /not loaded/);
    await page.waitForTimeout(200); // let late errors surface
    assert.deepEqual(log.pageErrors, [], 'no uncaught page error');
    assert.deepEqual(log.dialogs, []);
    const all = [...log.consoleErrors, ...log.consoleWarnings].join('\n');
    assert.doesNotMatch(all, /unreachable|panicked at|RuntimeError/i, 'no wasm trap or panic');
    if (noFallbackNotice) {
      // The bundle is broken, not WebGPU: the page must not claim WebGPU is unavailable.
      assert.equal(await page.locator('#notice').isVisible(), false, `notice: ${await page.locator('#notice').textContent()}`);
    }
  } finally {
    await session.close();
  }
}

// ================================================================ WebGPU

describe('WebGPU backend (--enable-unsafe-webgpu, ?backend=webgpu)', () => {
  let browser;
  let session;
  let manifest;
  let oneEncoding = null;

  before(async () => {
    browser = await launchBrowser({ webgpu: true });
    session = await openPage(browser, server, '?backend=webgpu');
  }, LOAD);
  after(async () => {
    await browser?.close();
  });

  test('page becomes ready on WebGPU with one slider per latent dimension and a real image', T, async () => {
    manifest = await checkLoaded(session, 'WebGPU');
    assert.equal(await session.page.locator('#notice').isVisible(), false, 'no fallback notice');
    assert.match(await session.page.locator('#status-reason').textContent(), /Adapter: \S/);
  });

  test('WebGPU and CPU backends agree (decode, decodeBatch, encode)', T, async () => {
    const r = await session.page.evaluate(async () => {
      const { openBundle } = await import('/load.js');
      const { module: mod, manifestText: mt, weights: w } = await openBundle({ module: 'webgpu' });
      const cpu = await mod.Explorer.create(mt, w, 'cpu');
      const gpu = await mod.Explorer.create(mt, w, 'webgpu');
      try {
        const D = cpu.latentDim;
        const P = 784;
        const zs = Array.from({ length: 8 }, (_, k) =>
          Float32Array.from({ length: D }, (_, i) => (k === 0 ? 0 : 2.5 * Math.sin(1.7 * k + 0.9 * i + 0.3 * k * i))),
        );
        const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
        const out = { D, backends: [cpu.backend, gpu.backend], decode: 0, batch: 0, batchVsSingle: 0, mu: 0, logVar: 0, lo: 1, hi: 0, finite: true, minPairDiff: Infinity, lengths: [] };
        const singles = [];
        for (const z of zs) {
          const a = await cpu.decode(z);
          const g = await gpu.decode(z);
          out.lengths.push(a.length, g.length);
          out.decode = Math.max(out.decode, maxAbs(a, g));
          for (const v of [...a, ...g]) {
            if (!Number.isFinite(v)) out.finite = false;
            out.lo = Math.min(out.lo, v);
            out.hi = Math.max(out.hi, v);
          }
          singles.push(a);
        }
        for (let i = 0; i < singles.length; i++) {
          for (let j = i + 1; j < singles.length; j++) out.minPairDiff = Math.min(out.minPairDiff, maxAbs(singles[i], singles[j]));
        }
        const flat = new Float32Array(8 * D);
        zs.forEach((z, k) => flat.set(z, k * D));
        const ba = await cpu.decodeBatch(flat, 8);
        const bg = await gpu.decodeBatch(flat, 8);
        out.lengths.push(ba.length, bg.length);
        out.batch = maxAbs(ba, bg);
        for (let k = 0; k < 8; k++) {
          out.batchVsSingle = Math.max(out.batchVsSingle, maxAbs(ba.subarray(k * P, (k + 1) * P), singles[k]));
        }
        for (const v of [...ba, ...bg]) {
          if (!Number.isFinite(v)) out.finite = false;
          out.lo = Math.min(out.lo, v);
          out.hi = Math.max(out.hi, v);
        }
        // Two images: a "1" (vertical bar) and a "0" (ring).
        const bar = new Float32Array(P);
        const ring = new Float32Array(P);
        for (let y = 0; y < 28; y++) {
          for (let x = 0; x < 28; x++) {
            if (y >= 4 && y < 24 && x >= 13 && x < 16) bar[y * 28 + x] = 1;
            const r = Math.hypot((x - 13.5) / 6, (y - 13.5) / 9);
            ring[y * 28 + x] = Math.max(0, 1 - Math.abs(r - 1) * 4);
          }
        }
        const encs = [];
        for (const img of [bar, ring]) {
          const a = await cpu.encode(img);
          const g = await gpu.encode(img);
          out.mu = Math.max(out.mu, maxAbs(a.mu, g.mu));
          out.logVar = Math.max(out.logVar, maxAbs(a.logVar, g.logVar));
          out.lengths.push(a.mu.length, a.logVar.length, g.mu.length, g.logVar.length);
          encs.push(a.mu);
        }
        out.encDiff = maxAbs(encs[0], encs[1]);
        out.kernels = [cpu.decoderKernels, gpu.decoderKernels];
        return out;
      } finally {
        cpu.free();
        gpu.free();
      }
    });
    assert.deepEqual(r.backends, ['CPU', 'WebGPU']);
    // This MLP decodes through the packed CPU layers and the fused WebGPU kernels, not a
    // silent fallback to burn's ops.
    assert.deepEqual(r.kernels, ['packed', 'fused']);
    const D = r.D;
    assert.deepEqual(r.lengths, [...Array(16).fill(784), 8 * 784, 8 * 784, D, D, D, D, D, D, D, D]);
    assert.ok(r.finite, 'all values finite');
    assert.ok(r.lo >= 0 && r.hi <= 1, `decoded values in [0,1]: [${r.lo}, ${r.hi}]`);
    assert.ok(r.minPairDiff > 0.01, `the 8 decodes differ from each other (${r.minPairDiff})`);
    assert.ok(r.encDiff > 0.01, `the two encodings differ (${r.encDiff})`);
    // Tolerance: float32 summation order differs between the backends (and between batched
    // and single matmuls); measured ~1e-7 on decodes. 1e-4 still catches any real mismatch.
    assert.ok(r.decode <= 1e-4, `decode: max |cpu - webgpu| = ${r.decode}`);
    assert.ok(r.batch <= 1e-4, `decodeBatch: max |cpu - webgpu| = ${r.batch}`);
    assert.ok(r.batchVsSingle <= 1e-4, `decodeBatch vs decode: ${r.batchVsSingle}`);
    // mu/logVar are unbounded linear outputs of a 784-wide input: 1e-3.
    assert.ok(r.mu <= 1e-3, `encode mu: max |cpu - webgpu| = ${r.mu}`);
    assert.ok(r.logVar <= 1e-3, `encode logVar: max |cpu - webgpu| = ${r.logVar}`);
  });

  test('wasm API errors reject with readable Errors and the explorer keeps working', T, async () => {
    const r = await session.page.evaluate(async () => {
      const { openBundle } = await import('/load.js');
      const { module: mod, manifestText: mt, weights: w } = await openBundle({ module: 'webgpu' });
      const results = {};
      for (const backend of ['cpu', 'webgpu']) {
        const ex = await mod.Explorer.create(mt, w, backend);
        const D = ex.latentDim;
        const z = Float32Array.from({ length: D }, (_, i) => Math.cos(i));
        const reference = await ex.decode(z);
        const nan = new Float32Array(D);
        nan[3] = NaN;
        const calls = {
          short: () => ex.decode(new Float32Array(D - 1)),
          nan: () => ex.decode(nan),
          encode100: () => ex.encode(new Float32Array(100)),
          batch0: () => ex.decodeBatch(new Float32Array(0), 0),
        };
        const errors = {};
        for (const [name, call] of Object.entries(calls)) {
          try {
            const v = await call();
            errors[name] = { resolved: true, length: v?.length };
          } catch (e) {
            errors[name] = { isError: e instanceof Error, message: String(e?.message ?? e) };
          }
        }
        const after = await ex.decode(z);
        const enc = await ex.encode(new Float32Array(784).fill(0.25));
        results[backend] = {
          D,
          errors,
          afterLength: after.length,
          afterDiff: after.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), 0),
          encLengths: [enc.mu.length, enc.logVar.length],
        };
        ex.free();
      }
      return results;
    });
    for (const [backend, res] of Object.entries(r)) {
      const { D, errors } = res;
      for (const [name, e] of Object.entries(errors)) {
        assert.ok(!e.resolved, `${backend} ${name}: rejected (resolved with ${e.length} values)`);
        assert.ok(e.isError, `${backend} ${name}: an Error`);
        assert.doesNotMatch(e.message, /unreachable|panicked|RuntimeError/i, `${backend} ${name}: ${e.message}`);
      }
      assert.match(errors.short.message, new RegExp(`\\b${D}\\b.*\\bgot ${D - 1}\\b`), errors.short.message);
      assert.match(errors.nan.message, /NaN/, errors.nan.message);
      assert.match(errors.nan.message, /\b3\b/, `names the bad index: ${errors.nan.message}`);
      assert.match(errors.encode100.message, /\b784\b.*\b100\b/, errors.encode100.message);
      assert.match(errors.batch0.message, /batch size.*\b0\b/i, errors.batch0.message);
      assert.equal(res.afterLength, 784, `${backend}: decode works after the errors`);
      assert.equal(res.afterDiff, 0, `${backend}: and gives the same result as before them`);
      assert.deepEqual(res.encLengths, [D, D]);
    }
  });

  test('dragging a slider with the mouse changes its value, its readout and the image', T, async () => {
    await checkSliderMouse(session.page, manifest ?? (await session.log.manifest()));
  });

  test('keyboard: 10 × ArrowRight on a focused slider changes it and the image', T, async () => {
    await checkSliderKeyboard(session.page, manifest ?? (await session.log.manifest()));
  });

  test('drawing a "1" encodes it: sliders at μ, ±σ shown, new image', T, async () => {
    oneEncoding = await drawAndCheck(session.page, ONE);
  });

  test('drawing a "7" encodes it differently from a "1"', T, async () => {
    const seven = await drawAndCheck(session.page, SEVEN);
    if (oneEncoding) {
      const d = Math.hypot(...seven.map((v, k) => v - oneEncoding[k]));
      assert.ok(d > 0.3, `"7" and "1" encode to different z (distance ${d})`);
    }
  });

  test('Clear empties the pad and the encoder input and drops the posterior', T, async () => {
    const inFlight = await checkClear(session.page);
    // On WebGPU the encode's read-back is asynchronous, so Clear really raced an encode.
    assert.equal(inFlight, true, 'the encode was still in flight when Clear was clicked');
  });

  test('Sample from prior moves the sliders within their ranges and changes the image', T, async () => {
    await checkSamplePrior(session.page);
  });

  test('no console errors and no requests to other origins during a normal session', T, async () => {
    const log = await normalSession(browser, '?backend=webgpu');
    assertCleanLog(log, { allowWarnings: false });
  });

  for (const c of BROKEN) {
    test(`broken bundle (${c.name}): readable alert, no trap, no WebGPU blame`, T, async () => {
      await checkBroken(browser, '?backend=webgpu', c, { noFallbackNotice: true });
    });
  }

  test('WebGPU failing after start-up (reads rejected): the page switches to the CPU, keeps z, says so', T, async () => {
    const s = await openPage(browser, server, '?backend=webgpu');
    try {
      const { page } = s;
      const slider = page.getByRole('slider', { name: 'Latent dimension 1', exact: true });
      await slider.focus();
      for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
      await settle(page);
      const before = await decodedPixels(page);
      const value = await slider.inputValue();
      // What a lost device looks like to burn: every GPU read fails.
      await page.evaluate(() => {
        GPUBuffer.prototype.mapAsync = () => Promise.reject(new DOMException('device lost (simulated)', 'OperationError'));
      });
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction(() => document.body.dataset.backend === 'CPU', null, { timeout: 30_000 });
      await settle(page);
      assert.match(await page.getByRole('status').innerText(), /CPU/);
      const notice = page.locator('#notice');
      assert.equal(await notice.isVisible(), true);
      assert.match(await notice.innerText(), /WebGPU stopped working.*could not be read back.*kept/s);
      assert.equal(await page.getByRole('alert').isVisible(), false, 'no error left behind');
      const now = Number(await slider.inputValue());
      assert.ok(Math.abs(now - (Number(value) + 0.01)) < 1e-6, `z was kept and the last step applied: ${value} → ${now}`);
      // Still live on the CPU: another step changes the image.
      const mid = await decodedPixels(page);
      assert.ok(pixelDiff(before, mid) > 0, 'the image moved with the slider');
      for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
      await settle(page);
      assert.ok(pixelDiff(mid, await decodedPixels(page)) > 0, 'decoding continues on the CPU');
      assert.deepEqual(s.log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});

// ================================================================ CPU fallback

describe('CPU fallback (no WebGPU adapter)', () => {
  let browser;
  let session;
  let manifest;

  before(async () => {
    browser = await launchBrowser({ webgpu: false });
    session = await openPage(browser, server, '?backend=auto');
  }, LOAD);
  after(async () => {
    await browser?.close();
  });

  test('?backend=auto: the status line says CPU and why, quietly (no warning box)', T, async () => {
    manifest = await checkLoaded(session, 'CPU');
    assert.equal(await session.page.locator('#notice').isVisible(), false, 'auto chose the CPU: nothing failed');
    assert.match(await session.page.locator('#status-reason').textContent(), /no WebGPU adapter; using the CPU backend/);
    assert.doesNotMatch(await session.page.locator('#status-main').textContent(), /WebGPU/);
  });

  test('?backend=webgpu without an adapter falls back to CPU with a notice, no alert', T, async () => {
    const s = await openPage(browser, server, '?backend=webgpu');
    try {
      await checkLoaded(s, 'CPU');
      const notice = s.page.locator('#notice');
      assert.equal(await notice.isVisible(), true);
      assert.match(await notice.textContent(), /WebGPU is unavailable/);
      assert.match(await notice.textContent(), /CPU backend instead/);
      assert.match(await s.page.locator('#status-reason').textContent(), /fell back to the CPU/);
      assert.equal(await s.page.getByRole('alert').isVisible(), false);
      assert.deepEqual(s.log.dialogs, []);
      assert.deepEqual(s.log.pageErrors, []);
      assert.deepEqual(s.log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });

  test('dragging a slider with the mouse changes its value, its readout and the image', T, async () => {
    await checkSliderMouse(session.page, manifest ?? (await session.log.manifest()));
  });

  test('keyboard: 10 × ArrowRight on a focused slider changes it and the image', T, async () => {
    await checkSliderKeyboard(session.page, manifest ?? (await session.log.manifest()));
  });

  test('drawing a "1" and a "7" encodes them: sliders at μ, ±σ shown, new image', T, async () => {
    const one = await drawAndCheck(session.page, ONE);
    const seven = await drawAndCheck(session.page, SEVEN);
    const d = Math.hypot(...seven.map((v, k) => v - one[k]));
    assert.ok(d > 0.3, `"7" and "1" encode to different z (distance ${d})`);
  });

  test('Clear empties the pad and the encoder input and drops the posterior', T, async () => {
    await checkClear(session.page);
  });

  test('Sample from prior moves the sliders within their ranges and changes the image', T, async () => {
    await checkSamplePrior(session.page);
  });

  test('the "Backend" select offers auto/webgpu/cpu and navigates to ?backend=', T, async () => {
    const s = await openPage(browser, server, '?backend=auto');
    try {
      const { page } = s;
      const select = page.getByLabel('Backend', { exact: true });
      assert.equal(await select.evaluate((el) => el.tagName), 'SELECT');
      assert.deepEqual(await select.evaluate((el) => [...el.options].map((o) => o.value)), ['auto', 'webgpu', 'cpu']);
      assert.equal(await select.inputValue(), 'auto');

      await select.selectOption('cpu');
      await page.waitForURL(/[?&]backend=cpu(&|$)/);
      assert.equal(await waitForReadyOrError(page), 'ready');
      assert.equal(await page.getByLabel('Backend', { exact: true }).inputValue(), 'cpu');
      assert.match(await page.locator('#status-main').textContent(), /^Backend: CPU/);
      assert.equal(await page.locator('#notice').isVisible(), false, 'CPU chosen: no fallback notice');

      await page.getByLabel('Backend', { exact: true }).selectOption('webgpu');
      await page.waitForURL(/[?&]backend=webgpu(&|$)/);
      assert.equal(await waitForReadyOrError(page), 'ready');
      assert.equal(await page.getByLabel('Backend', { exact: true }).inputValue(), 'webgpu');
      assert.equal(await page.locator('#notice').isVisible(), true, 'no adapter here: fallback notice');
      assert.deepEqual(s.log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('no console errors and no requests to other origins during a normal session', T, async () => {
    const log = await normalSession(browser, '?backend=auto');
    assertCleanLog(log);
    // The only warning allowed is Chromium's own "no adapter" message.
    assert.deepEqual(log.consoleWarnings.filter((w) => !/adapter/i.test(w)), []);
  });

  for (const c of BROKEN) {
    test(`broken bundle (${c.name}): readable alert, no trap`, T, async () => {
      await checkBroken(browser, '?backend=auto', c, { noFallbackNotice: false });
    });
  }
});
