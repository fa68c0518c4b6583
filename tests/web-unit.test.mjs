// Unit tests (plain Node, no browser) of the page's pure modules: the decode schedulers, the
// MNIST-style preprocessing, latent maths, the backend choice, formatting, image painting,
// the state, the load path's pure parts, and the module layout of www/.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LatestScheduler, DecodeScheduler, median, pushBounded, decodeInChunks, deferWhenSlow } from '../www/lib/decode-scheduler.js';
import { mnistPreprocess, centreOfMass, boxFor, FIELD, BOX } from '../www/lib/preprocess.js';
import { timeDecodes, measureBackend, chooseBackend, describeCost, MIN_RUN_MS, MAX_REPEATS } from '../www/lib/backend-choice.js';
import { DEFAULT_IMAGE, greyRgba, imageSize } from '../www/lib/image.js';
import { fmtMs, fmtSigned, fmtPlain, errorText, sentence, capitalised, percentile } from '../www/lib/format.js';
import { Backend, backendOf, parseBackend } from '../www/lib/backends.js';
import { State, describeLatents, dimensionOrder, originZ } from '../www/state.js';
import { Emitter } from '../www/lib/emitter.js';
import { bindInactiveToggle, inactiveToggleText, visibleDims } from '../www/lib/inactive-toggle.js';
import { traversalBatch, STEPS } from '../www/traversals.js';
import * as manifold from '../www/lib/manifold.js';
import * as load from '../www/load.js';

// ---------------------------------------------------------------- scheduler

/** A scheduler with a manual frame source, a manual clock and runs resolved by hand. */
function harness(opts = {}) {
  const frames = [];
  let t = 0;
  const runs = [];
  const applied = [];
  const lat = [];
  const s = new (opts.cls ?? DecodeScheduler)({
    requestFrame: (cb) => frames.push(cb),
    now: () => t,
    run: (v, seq) => new Promise((res, rej) => runs.push({ v, seq, res, rej })),
    apply: (r, info) => applied.push([r, info.seq]),
    onLatency: (ms) => lat.push(ms),
    onError: (e) => applied.push(['err', e.message]),
    ...opts,
  });
  const frame = () => {
    const f = frames.splice(0);
    f.forEach((cb) => cb());
  };
  const tick = () => new Promise((r) => setImmediate(r));
  return { s, frames, runs, applied, lat, frame, tick, setT: (x) => { t = x; } };
}

describe('LatestScheduler / DecodeScheduler', () => {
  test('the first value goes at once, then one dispatch per frame, latest wins; latency is submit -> apply', async () => {
    const h = harness();
    h.s.submit('a', 0);
    assert.deepEqual(h.runs.map((r) => [r.v, r.seq]), [['a', 1]], 'nothing to wait for: dispatched at once');
    h.s.submit('b', 1);
    h.s.submit('c', 2);
    assert.equal(h.runs.length, 1, 'b and c wait for the next frame');
    assert.equal(h.frames.length, 1, 'one frame requested');
    h.frame();
    assert.deepEqual(h.runs.map((r) => [r.v, r.seq]), [['a', 1], ['c', 2]], 'b was superseded');
    h.frame();
    assert.equal(h.runs.length, 2, 'no dispatch without a change');
    assert.equal(h.frames.length, 0, 'no frame loop while idle');
    h.setT(10);
    h.runs[1].res('C');
    await h.tick();
    h.runs[0].res('A');
    await h.tick();
    assert.deepEqual(h.applied, [['C', 2]], 'the older result arrived late and was dropped');
    assert.deepEqual(h.lat, [8], 'latency measured from the t0 of the value that ran');
  });

  test('at most 2 in flight; the newest value waits, no queue of stale values', async () => {
    const h = harness();
    h.s.submit(1);
    h.frame();
    h.s.submit(2);
    h.frame();
    assert.equal(h.runs.length, 2);
    assert.equal(h.s.inFlight, 2);
    h.s.submit(3);
    h.s.submit(4);
    h.s.submit(5);
    assert.equal(h.frames.length, 0, 'no frame requested while saturated');
    assert.equal(h.s.hasPending, true);
    h.runs[0].res('r1');
    await h.tick();
    assert.deepEqual(h.runs.map((r) => r.v), [1, 2, 5], '3 and 4 were superseded, never run');
    assert.equal(h.s.stats.maxInFlightSeen, 2);
  });

  test('out-of-order completions: stale results dropped', async () => {
    const h = harness();
    h.s.submit(1);
    h.frame();
    h.s.submit(2);
    h.frame();
    h.runs[1].res('r2');
    await h.tick();
    h.runs[0].res('r1');
    await h.tick();
    assert.deepEqual(h.applied, [['r2', 2]]);
    assert.equal(h.s.stats.dropped, 1);
    assert.equal(h.lat.length, 1);
  });

  test('errors free the slot and are reported', async () => {
    const h = harness({ cls: LatestScheduler, maxInFlight: 1 });
    h.s.submit(1);
    h.frame();
    h.s.submit(2);
    h.frame();
    assert.equal(h.runs.length, 1);
    h.runs[0].rej(new Error('boom'));
    await h.tick();
    assert.deepEqual(h.applied, [['err', 'boom']]);
    h.frame();
    assert.equal(h.runs.length, 2);
    h.runs[1].res('ok');
    await h.tick();
    assert.deepEqual(h.applied.at(-1), ['ok', 2]);
    await h.s.idle();
    assert.equal(h.s.stats.failed, 1);
  });

  test('a synchronous throw in run() or apply() is reported, not thrown out of the frame', async () => {
    const h = harness({
      cls: LatestScheduler,
      run: (v) => {
        if (v === 'bad') throw new Error('sync');
        return Promise.resolve(v);
      },
      apply: (r) => {
        if (r === 'unpaintable') throw new Error('apply');
        h.applied.push([r]);
      },
    });
    h.s.submit('bad');
    assert.doesNotThrow(() => h.frame());
    await h.tick();
    h.s.submit('unpaintable');
    h.frame();
    await h.tick();
    h.s.submit('good');
    h.frame();
    await h.tick();
    assert.deepEqual(h.applied, [['err', 'sync'], ['err', 'apply'], ['good']]);
    assert.equal(h.s.inFlight, 0);
  });

  test('apply() returning false is not counted as applied and reports no latency', async () => {
    const h = harness({ apply: () => false });
    h.s.submit(1);
    h.frame();
    h.runs[0].res('x');
    await h.tick();
    assert.equal(h.s.stats.applied, 0);
    assert.deepEqual(h.lat, []);
  });

  test('cancelPending drops a value not yet dispatched; idle() resolves', async () => {
    const h = harness();
    h.s.submit('a');
    h.s.submit('x'); // waits for the next frame
    h.s.cancelPending();
    h.frame();
    assert.deepEqual(h.runs.map((r) => r.v), ['a']);
    let idle = false;
    h.s.idle().then(() => { idle = true; });
    await h.tick();
    assert.equal(idle, false, 'a is still running');
    h.runs[0].res('A');
    await h.tick();
    assert.equal(idle, true);
  });

  test('constructor validates its arguments', () => {
    assert.throws(() => new LatestScheduler({ run: () => {} }), TypeError);
    assert.throws(() => new LatestScheduler({ run: () => {}, apply: () => {}, maxInFlight: 0 }), RangeError);
    assert.equal(new DecodeScheduler({ run: () => {}, apply: () => {} }).maxInFlight, 2);
  });

  test('median / pushBounded', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.equal(median([10, 9, 100]), 10, 'numeric, not lexicographic, order');
    assert.ok(Number.isNaN(median([])));
    const input = [5, 1, 3];
    median(input);
    assert.deepEqual(input, [5, 1, 3], 'input not modified');
    const a = [];
    for (let i = 0; i < 2500; i++) pushBounded(a, i, 2000);
    assert.equal(a.length, 2000);
    assert.equal(a[0], 500);
    assert.equal(a.at(-1), 2499);
  });
});

// ---------------------------------------------------------------- preprocessing

const RGBA = { stride: 4, channel: 3, scale: 255 };

function canvasWithRect(W, H, x0, y0, w, h) {
  const d = new Uint8ClampedArray(W * H * 4);
  fillRect(d, W, x0, y0, w, h);
  return d;
}

function fillRect(d, W, x0, y0, w, h, alpha = 255) {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) d[(y * W + x) * 4 + 3] = alpha;
}

/** Round brush stroke through points (pad pixels), alpha = ink, like the drawing pad. */
function strokeCanvas(W, points, radius) {
  const d = new Uint8ClampedArray(W * W * 4);
  for (let k = 1; k < points.length; k++) {
    const [ax, ay] = points[k - 1];
    const [bx, by] = points[k];
    const steps = Math.ceil(Math.hypot(bx - ax, by - ay));
    for (let s = 0; s <= steps; s++) {
      const cx = ax + ((bx - ax) * s) / steps;
      const cy = ay + ((by - ay) * s) / steps;
      for (let y = Math.floor(cy - radius); y <= Math.ceil(cy + radius); y++) {
        for (let x = Math.floor(cx - radius); x <= Math.ceil(cx + radius); x++) {
          if (x >= 0 && y >= 0 && x < W && y < W && (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius) d[(y * W + x) * 4 + 3] = 255;
        }
      }
    }
  }
  return d;
}

/** Bounding box of non-zero values in a 28x28 field. */
function bbox(f) {
  let x0 = FIELD, x1 = -1, y0 = FIELD, y1 = -1;
  f.forEach((v, i) => {
    if (v > 0) {
      const x = i % FIELD;
      const y = Math.floor(i / FIELD);
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  });
  return { x0, x1, y0, y1, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

function assertField(f) {
  assert.ok(f instanceof Float32Array, 'a Float32Array');
  assert.equal(f.length, FIELD * FIELD);
  f.forEach((v, i) => assert.ok(v >= 0 && v <= 1, `value ${i} = ${v} in [0,1]`));
}

describe('mnistPreprocess', () => {
  test('empty drawing -> null (nothing to encode)', () => {
    assert.equal(mnistPreprocess(new Uint8ClampedArray(100 * 100 * 4), 100, 100, RGBA), null);
    assert.equal(mnistPreprocess(new Float32Array(0), 0, 0), null);
    // Ink below the threshold (antialiasing dust) does not count as a drawing either.
    const faint = canvasWithRect(100, 100, 10, 10, 30, 30);
    for (let i = 3; i < faint.length; i += 4) if (faint[i]) faint[i] = 10; // 4% ink
    assert.equal(mnistPreprocess(faint, 100, 100, RGBA), null);
  });

  test('short data is a RangeError', () => {
    assert.throws(() => mnistPreprocess(new Uint8ClampedArray(10), 10, 10, RGBA), RangeError);
  });

  test('tall bar ("1") -> 20 px tall, centre of mass (14,14) ±0.5, values in [0,1], mass preserved', () => {
    const d = canvasWithRect(560, 560, 30, 40, 40, 400);
    const f = mnistPreprocess(d, 560, 560, RGBA);
    assertField(f);
    const c = centreOfMass(f);
    assert.ok(Math.abs(c.x - 14) <= 0.5 && Math.abs(c.y - 14) <= 0.5, JSON.stringify(c));
    const b = bbox(f);
    assert.equal(b.h, BOX, 'longer side is 20 px');
    assert.equal(b.w, 2);
    // Mass is preserved by area averaging: area 40*400 scaled by (20/400)^2 = 40 px of ink.
    assert.ok(Math.abs(c.mass - 40) < 0.5, String(c.mass));
  });

  test('a drawn "7" (round brush): longer side 20 px, centre of mass (14,14) ±0.5, max ink 1', () => {
    const W = 280;
    const d = strokeCanvas(W, [[70, 60], [210, 60], [120, 230]], 11);
    const f = mnistPreprocess(d, W, W, RGBA);
    assertField(f);
    const b = bbox(f);
    assert.equal(Math.max(b.w, b.h), BOX, JSON.stringify(b));
    assert.ok(Math.min(b.w, b.h) < BOX);
    const c = centreOfMass(f);
    assert.ok(Math.abs(c.x - 14) <= 0.5 && Math.abs(c.y - 14) <= 0.5, JSON.stringify(c));
    assert.ok(Math.max(...f) > 0.99, 'the stroke core is full ink');
    // The top bar of the 7 is in the upper part of the field.
    const topRow = f.subarray(b.y0 * FIELD, (b.y0 + 1) * FIELD).reduce((a, v) => a + v, 0);
    assert.ok(topRow > 5, `top row carries the horizontal bar (${topRow})`);
  });

  test('a wide blob -> 20 px wide, aspect ratio kept', () => {
    const d = canvasWithRect(400, 400, 50, 150, 300, 100);
    const f = mnistPreprocess(d, 400, 400, RGBA);
    assertField(f);
    const b = bbox(f);
    assert.equal(b.w, 20);
    assert.ok(Math.abs(b.h - 20 / 3) <= 1, `height ${b.h} ~ 6.7`);
    const c = centreOfMass(f);
    assert.ok(Math.abs(c.x - 14) <= 0.5 && Math.abs(c.y - 14) <= 0.5, JSON.stringify(c));
  });

  test('position on the pad does not matter (translation invariance)', () => {
    const a = mnistPreprocess(canvasWithRect(300, 300, 10, 10, 60, 120), 300, 300, RGBA);
    const b = mnistPreprocess(canvasWithRect(300, 300, 200, 150, 60, 120), 300, 300, RGBA);
    assert.deepEqual(Array.from(a), Array.from(b));
  });

  test('wide shape with off-centre mass is clamped inside the field', () => {
    // An L: long horizontal bar with a heavy block at one end.
    const W = 300;
    const d = canvasWithRect(W, W, 10, 100, 280, 10);
    fillRect(d, W, 250, 60, 40, 80);
    const f = mnistPreprocess(d, W, W, RGBA);
    assertField(f);
    const b = bbox(f);
    assert.ok(b.x0 >= 0 && b.x1 <= 27 && b.w === 20, JSON.stringify(b));
    // Centre of mass pulled right towards the heavy block, but the patch stays whole.
    const c = centreOfMass(f);
    assert.ok(Math.abs(c.x - 14) <= 0.5, `x ${c.x}`);
  });

  test('a single inked pixel fills the 20x20 box (bounding-box normalisation, as MNIST did)', () => {
    // On the real pad a tap paints a round dot, which becomes a 20 px disc.
    const f = mnistPreprocess(canvasWithRect(100, 100, 50, 50, 1, 1), 100, 100, RGBA);
    assertField(f);
    const b = bbox(f);
    assert.deepEqual([b.x0, b.y0, b.w, b.h], [4, 4, 20, 20]);
    const c = centreOfMass(f);
    assert.ok(Math.abs(c.x - 14) <= 0.5 && Math.abs(c.y - 14) <= 0.5, JSON.stringify(c));
  });

  test('float input with stride 1', () => {
    const a = new Float32Array(50 * 50);
    for (let y = 5; y < 45; y++) a[y * 50 + 25] = 1;
    const f = mnistPreprocess(a, 50, 50);
    assertField(f);
    const c = centreOfMass(f);
    assert.ok(Math.abs(c.y - 14) <= 0.5 && Math.abs(c.x - 14) <= 0.5, JSON.stringify(c));
    assert.equal(bbox(f).h, 20);
  });
});

// ---------------------------------------------------------------- latent maths

import * as lm from '../www/lib/latent-math.js';

describe('latent-math', () => {
  const close = (a, b, tol = 1e-5) => a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]) < tol);

  test('lerp and slerp hit both ends; slerp keeps the norm on the way', () => {
    const a = Float32Array.from([3, 0, 0]);
    const b = Float32Array.from([0, 3, 0]);
    for (const f of [lm.lerp, lm.slerp]) {
      assert.ok(close(f(a, b, 0), a));
      assert.ok(close(f(a, b, 1), b));
    }
    assert.ok(Math.abs(Math.hypot(...lm.slerp(a, b, 0.5)) - 3) < 1e-5, 'slerp stays on the sphere');
    assert.ok(Math.hypot(...lm.lerp(a, b, 0.5)) < 2.2, 'lerp cuts inside it');
    assert.ok(close(lm.slerp(a, a, 0.3), a), 'identical ends');
    assert.ok(close(lm.slerp(new Float32Array(3), b, 0.5), lm.lerp(new Float32Array(3), b, 0.5)), 'a zero end falls back to lerp');
  });

  test('bilinear blends the four corners', () => {
    const [a, b, c, d] = [[0, 0], [1, 0], [0, 1], [1, 1]].map((v) => Float32Array.from(v));
    assert.ok(close(lm.bilinear(a, b, c, d, 0, 0), a));
    assert.ok(close(lm.bilinear(a, b, c, d, 1, 0), b));
    assert.ok(close(lm.bilinear(a, b, c, d, 0, 1), c));
    assert.ok(close(lm.bilinear(a, b, c, d, 1, 1), d));
    assert.ok(close(lm.bilinear(a, b, c, d, 0.25, 0.5), [0.25, 0.5]));
  });

  test('prior samples have variance T²; posterior samples centre on μ', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const s = lm.priorSamples(20000, 2, 0.5, random);
    const v = s.reduce((m, x) => m + x * x, 0) / s.length;
    assert.ok(Math.abs(v - 0.25) < 0.01, `variance ${v}`);
    const p = lm.posteriorSamples(5000, [2, -1], [0.1, 0.2], random);
    const mean0 = p.filter((_, i) => i % 2 === 0).reduce((m, x) => m + x, 0) / 5000;
    assert.ok(Math.abs(mean0 - 2) < 0.01, `mean ${mean0}`);
  });

  test('class directions point from the overall mean to each class mean', () => {
    const dirs = lm.classDirections([
      { label: 1, count: 3, mean: [1, 0] },
      { label: 7, count: 1, mean: [-3, 4] },
    ]);
    // Overall mean: (3·(1,0) + (−3,4)) / 4 = (0, 1).
    assert.ok(close(dirs.get(1), [1, -1]));
    assert.ok(close(dirs.get(7), [-3, 3]));
    assert.ok(close(lm.arithmetic([1, 1], [0, 2], [3, 0]), [4, -1]));
  });

  test('z survives the URL; bad z text is refused', () => {
    const z = Float32Array.from([0.1234, -2, 3.5]);
    assert.equal(lm.encodeZ(z), '0.123,-2,3.5');
    assert.ok(close(lm.decodeZ(lm.encodeZ(z), 3), [0.123, -2, 3.5]));
    assert.equal(lm.decodeZ('1,2', 3), null);
    assert.equal(lm.decodeZ('1,,2', 3), null);
    assert.equal(lm.decodeZ('1,x,2', 3), null);
    assert.equal(lm.decodeZ('1,Infinity,2', 3), null);
    assert.equal(lm.decodeZ(null, 3), null);
  });
});

// ---------------------------------------------------------------- auto backend choice

describe('auto: backend chosen on measured numbers (lib/backend-choice.js)', () => {
  /** An explorer whose decodes take `ms(n)` on a fake clock; records what it was asked. */
  function fakeExplorer(ms) {
    const clock = { t: 0 };
    const calls = [];
    const ex = {
      decode: async (z) => { calls.push(1); clock.t += ms(1, z); },
      decodeBatch: async (zs, n) => { calls.push(n); clock.t += ms(n, zs); },
    };
    return { ex, calls, now: () => clock.t };
  }

  test('timeDecodes returns the median and waits before every run', async () => {
    const times = [50, 10, 30, 1000, 20];
    const f = fakeExplorer(() => times.shift());
    let waits = 0;
    const m = await timeDecodes(f.ex, new Float32Array(2), 1, 5, { now: f.now, beforeEach: async () => { waits++; } });
    assert.equal(m, 30);
    assert.equal(waits, 5);
  });

  test('timeDecodes measures decodes shorter than the clock resolution by repeating them', async () => {
    // A clock rounded to 0.1 ms, as Chromium's is without cross-origin isolation, and a decode of 0.05 ms.
    const f = fakeExplorer(() => 0.05);
    const coarse = () => Math.floor(f.now() * 10) / 10;
    const m = await timeDecodes(f.ex, new Float32Array(2), 1, 5, { now: coarse });
    assert.ok(m > 0.045 && m < 0.055, `measured ${m} ms per decode`);
    assert.ok(f.calls.length >= (5 * MIN_RUN_MS) / 0.05, 'each run spans MIN_RUN_MS');
    const capped = fakeExplorer(() => 0);
    assert.equal(await timeDecodes(capped.ex, new Float32Array(2), 1, 2, { now: capped.now }), 0);
    assert.equal(capped.calls.length, 2 * MAX_REPEATS, 'a decode the clock never sees stops at MAX_REPEATS');
  });

  test('measureBackend times the image and the strips; it stops once a lower bound loses', async () => {
    const z = new Float32Array(2);
    const strips = new Float32Array(2 * 36);
    const f = fakeExplorer((n) => (n === 1 ? 2 : 10 + n / 4));
    const all = await measureBackend(f.ex, { z, strips, stripCount: 36, now: f.now });
    assert.deepEqual(all, { sliderMs: 2, stripsMs: 19, totalMs: 21 });
    assert.deepEqual(f.calls, [1, 1, 1, 1, 1, 36, 36], 'no partial batch without a rival');

    const lost = { sliderMs: 40, stripsMs: null, totalMs: null };
    const g = fakeExplorer((n) => (n === 1 ? 40 : 2000));
    assert.deepEqual(await measureBackend(g.ex, { z, strips, stripCount: 36, loseAbove: 79, now: g.now }), lost);
    assert.deepEqual(g.calls, [1, 1, 1, 1, 1], 'twice the image alone already loses: no strip batch');

    const h = fakeExplorer((n) => (n === 1 ? 40 : 2000));
    assert.deepEqual(await measureBackend(h.ex, { z, strips, stripCount: 36, loseAbove: 81, now: h.now }), lost);
    assert.deepEqual(h.calls, [1, 1, 1, 1, 1, 16], 'one partial batch of 16 settles it');

    const k = fakeExplorer((n) => (n === 1 ? 2 : n / 4));
    const won = await measureBackend(k.ex, { z, strips, stripCount: 36, loseAbove: 12, now: k.now });
    assert.deepEqual(won, { sliderMs: 2, stripsMs: 9, totalMs: 11 });
    assert.deepEqual(k.calls, [1, 1, 1, 1, 1, 16, 36, 36]);
    assert.deepEqual(await measureBackend(k.ex, { z, strips, stripCount: 0, now: k.now }), { sliderMs: 2, stripsMs: 0, totalMs: 2 });
  });

  test('chooseBackend: the lower cost per slider step wins; unmeasured or tied WebGPU keeps the CPU', () => {
    const cpu = { sliderMs: 0.6, stripsMs: 31, totalMs: 31.6 };
    const fastGpu = { sliderMs: 1.2, stripsMs: 3, totalMs: 4.2 };
    const won = chooseBackend(cpu, fastGpu);
    assert.equal(won.backend, 'webgpu');
    assert.match(won.reason, /WebGPU is faster.*WebGPU 1\.2 ms image \+ 3\.0 ms strips = 4\.2 ms, CPU 0\.60 ms image \+ 31 ms strips = 32 ms/);

    const software = { sliderMs: 43, stripsMs: null, totalMs: null };
    const lost = chooseBackend(cpu, software);
    assert.equal(lost.backend, 'cpu');
    assert.match(lost.reason, /CPU is faster.*WebGPU 43 ms for the image alone/);

    assert.equal(chooseBackend(cpu, { ...cpu }).backend, 'cpu', 'a tie keeps the CPU');
    assert.equal(chooseBackend(cpu, { sliderMs: 0.1, stripsMs: 40, totalMs: 40.1 }).backend, 'cpu', 'faster single image, slower step');
  });

  test('describeCost for a model without strips', () => {
    assert.equal(describeCost({ sliderMs: 0.5, stripsMs: 0, totalMs: 0.5 }), '0.50 ms');
  });
});

// ---------------------------------------------------------------- preprocessing for other image sizes

describe('mnistPreprocess for another image size', () => {
  const bar = () => {
    const d = new Float32Array(100 * 100);
    for (let y = 10; y < 90; y++) for (let x = 45; x < 55; x++) d[y * 100 + x] = 1;
    return d;
  };

  test('the 20×20 box scales with the field: 23 px in a 32×32 field, centred at (16, 16)', () => {
    assert.deepEqual(boxFor({ width: 32, height: 32 }), { width: 23, height: 23 });
    assert.deepEqual(boxFor({ width: 28, height: 28 }), { width: BOX, height: BOX });
    const f = mnistPreprocess(bar(), 100, 100, { field: { width: 32, height: 32 } });
    assert.equal(f.length, 32 * 32);
    let y0 = 32, y1 = -1;
    f.forEach((v, i) => {
      if (v > 0) {
        y0 = Math.min(y0, Math.floor(i / 32));
        y1 = Math.max(y1, Math.floor(i / 32));
      }
    });
    assert.equal(y1 - y0 + 1, 23);
    const c = centreOfMass(f, 32, 32);
    assert.ok(Math.abs(c.x - 16) <= 0.5 && Math.abs(c.y - 16) <= 0.5, JSON.stringify(c));
  });

  test('a non-square field keeps the aspect ratio inside its box', () => {
    const f = mnistPreprocess(bar(), 100, 100, { field: { width: 40, height: 20 } });
    assert.equal(f.length, 40 * 20);
    const c = centreOfMass(f, 40, 20);
    assert.ok(Math.abs(c.x - 20) <= 0.5 && Math.abs(c.y - 10) <= 0.5, JSON.stringify(c));
  });

  test('the default field is MNIST’s 28×28, as before', () => {
    assert.deepEqual(mnistPreprocess(bar(), 100, 100), mnistPreprocess(bar(), 100, 100, { field: { width: 28, height: 28 } }));
  });
});

// ---------------------------------------------------------------- images

describe('lib/image.js: one painting loop for every size', () => {
  test('imageSize reads the manifest and falls back to 28×28', () => {
    assert.deepEqual(imageSize({ image: { width: 32, height: 24 } }), { width: 32, height: 24 });
    assert.deepEqual(imageSize({}), DEFAULT_IMAGE);
    assert.deepEqual(imageSize({ image: { width: 0, height: 28 } }), DEFAULT_IMAGE);
    assert.deepEqual(imageSize({ image: { width: 2.5, height: 28 } }), DEFAULT_IMAGE);
  });

  test('greyRgba lays images out in a grid, clamps, maps NaN to black, alpha opaque', () => {
    // Two 2×1 images side by side: [0, 1] and [0.5, NaN], then clamped values in a 1×2 grid.
    const rgba = greyRgba(new Uint8ClampedArray(4 * 4), [0, 1, 0.5, NaN], { width: 2, height: 1, cols: 2 });
    assert.deepEqual([...rgba].filter((_, i) => i % 4 === 0), [0, 255, 128, 0]);
    assert.ok([...rgba].filter((_, i) => i % 4 === 3).every((a) => a === 255));
    const grid = greyRgba(new Uint8ClampedArray(2 * 2 * 4), [2, -1, 0.25, 1], { width: 2, height: 1, cols: 1, rows: 2 });
    assert.deepEqual([...grid].filter((_, i) => i % 4 === 0), [255, 0, 64, 255]);
  });

  test('greyRgba rows of a 3×2 cell land at the grid stride', () => {
    const values = Float32Array.from({ length: 2 * 6 }, (_, i) => (i < 6 ? 0 : 1));
    const rgba = greyRgba(new Uint8ClampedArray(6 * 2 * 4), values, { width: 3, height: 2, cols: 2 });
    const grey = [...rgba].filter((_, i) => i % 4 === 0);
    assert.deepEqual(grey, [0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]);
  });
});

// ---------------------------------------------------------------- side-panel batches

describe('decodeInChunks and deferWhenSlow', () => {
  test('chunks wait for beforeEach, keep the batch’s own latent size and fill the output in order', async () => {
    const calls = [];
    const ex = { decodeBatch: async (zs, n) => { calls.push([zs.length, n]); return Float32Array.from({ length: n * 4 }, (_, i) => zs[Math.floor(i / 4) * 2]); } };
    const zs = Float32Array.from({ length: 5 * 2 }, (_, i) => Math.floor(i / 2));
    let waits = 0;
    const out = await decodeInChunks(ex, zs, 5, { imagePixels: 4, chunk: 2, beforeEach: async () => { waits++; } });
    assert.deepEqual(calls, [[4, 2], [4, 2], [2, 1]]);
    assert.equal(waits, 3);
    assert.deepEqual([...out], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]);
  });

  test('a batch submitted in the same task as a main-image request starts after it', async () => {
    const order = [];
    const ex = { decodeBatch: async (zs, n) => { order.push('batch'); return new Float32Array(n); } };
    const done = decodeInChunks(ex, new Float32Array(2), 1, { imagePixels: 1, chunk: 4 });
    order.push('main');
    await done;
    assert.deepEqual(order, ['main', 'batch']);
  });

  test('quick batches go at once; after a slow one, only the last job goes, once z rested', () => {
    const timers = [];
    const fake = { setTimeout: (fn, ms) => timers.push({ fn, ms }) && timers.length, clearTimeout: (id) => id && (timers[id - 1].fn = null) };
    const latencies = [];
    const sent = [];
    const update = deferWhenSlow((job) => sent.push(job), latencies, { stillCurrent: (job) => job !== 'stale', timers: fake });
    update('a');
    assert.deepEqual(sent, ['a']);
    latencies.push(200);
    update('b');
    update('c');
    update('stale');
    assert.deepEqual(sent, ['a']);
    timers.forEach((t) => t.fn?.());
    assert.deepEqual(sent, ['a'], 'a job for a replaced explorer is dropped');
    update('d');
    timers.at(-1).fn();
    assert.deepEqual(sent, ['a', 'd']);
    assert.equal(timers.at(-1).ms, 300);
  });
});

// ---------------------------------------------------------------- formatting, backends

describe('lib/format.js and lib/backends.js', () => {
  test('fmtMs, fmtSigned, fmtPlain', () => {
    assert.deepEqual([fmtMs(0.25), fmtMs(12.4), fmtMs(123.6)], ['0.3', '12', '124']);
    assert.deepEqual([fmtSigned(1.234), fmtSigned(-0.5), fmtSigned(-0.001)], ['+1.23', '−0.50', ' 0.00']);
    assert.deepEqual([fmtPlain(-1.5), fmtPlain(-0.001), fmtPlain(2)], ['−1.50', '0.00', '2.00']);
  });

  test('errorText, sentence, capitalised, percentile', () => {
    assert.equal(errorText(new Error('bad thing  \n')), 'bad thing');
    assert.equal(errorText(null), 'unknown error');
    assert.equal(errorText('plain'), 'plain');
    assert.deepEqual([sentence('done'), sentence('done.'), sentence('why? '), sentence('')], ['done.', 'done.', 'why?', '']);
    assert.equal(capitalised('the device was lost.'), 'The device was lost.');
    assert.deepEqual([percentile([], 50), percentile([3, 1, 2], 50), percentile([1, 2, 3, 4], 95)], [NaN, 2, 4]);
  });

  test('backends compare through one set of names', () => {
    assert.equal(backendOf({ backend: 'WebGPU' }), Backend.WEBGPU);
    assert.equal(backendOf({ backend: 'CPU' }), Backend.CPU);
    assert.equal(backendOf(null), null);
    assert.deepEqual(parseBackend(' WebGPU '), { raw: 'webgpu', requested: Backend.WEBGPU, known: true });
    assert.deepEqual(parseBackend(null), { raw: 'auto', requested: Backend.AUTO, known: true });
    assert.deepEqual(parseBackend('metal'), { raw: 'metal', requested: Backend.AUTO, known: false });
  });
});

// ---------------------------------------------------------------- state

describe('state.js', () => {
  const manifest = {
    image: { width: 32, height: 32 },
    latent: [{ slider_min: -2.345, slider_max: 1.001, kl_nats: 0.5 }, { active: false, kl_nats: 0.01 }, { slider_min: 1, slider_max: 1, kl_nats: 3 }],
    map: { classes: [0, 1, 7, 8].map((label) => ({ label, count: 1, mean: [label, 0, 0] })) },
  };
  const model = describeLatents({ name: 'm' }, manifest, 3);

  test('describeLatents: ranges rounded outwards (±3 when missing or empty), image size, inactive dimensions', () => {
    assert.deepEqual(model.ranges, [[-2.35, 1.01], [-3, 3], [-3, 3]]);
    assert.deepEqual(model.image, { width: 32, height: 32 });
    assert.deepEqual(model.inactive, [false, true, false]);
    assert.deepEqual(dimensionOrder(model, 'kl'), [2, 0, 1]);
    assert.deepEqual(dimensionOrder(model, 'index'), [0, 1, 2]);
    assert.deepEqual(Array.from(originZ(describeLatents({}, { latent: [{ slider_min: 0.5, slider_max: 2 }] }, 1))), [0.5]);
  });

  test('events: a model resets the posterior; z moves in place and says who moved it; view reports changed keys', () => {
    const state = new State();
    const seen = [];
    for (const type of ['model', 'z', 'posterior', 'anchors', 'view']) state.on(type, (d) => seen.push([type, d]));
    state.posterior = { mu: [0], sigma: [1] };
    state.setModel(model);
    assert.equal(state.posterior, null);
    assert.deepEqual(state.anchors.map((a) => a[0]), [0, 1, 7, 8], 'default anchors: the means of 0, 1, 7, 8');
    const z = state.z;
    state.setZ([1, 2, 3], { t: 5, source: 'map' });
    state.setDim(1, -1, { t: 6, source: 'slider' });
    assert.equal(state.z, z, 'one array, changed in place');
    assert.deepEqual(Array.from(z), [1, -1, 3]);
    assert.deepEqual(state.order, [2, 0, 1], 'most informative first by default');
    state.setView({ order: 'index', interp: 'linear' });
    state.setView({ order: 'index' });
    assert.deepEqual(state.order, [0, 1, 2]);
    assert.deepEqual(seen.map(([type]) => type), ['model', 'z', 'z', 'view']);
    assert.deepEqual(seen[2][1], { t: 6, source: 'slider', dim: 1 });
    assert.deepEqual(seen[3][1], ['order']);
  });

  test('inactive dimensions: collapsed by default behind a button that says how many; the view remembers', () => {
    assert.equal(inactiveToggleText(21, false), 'Show 21 inactive dimensions');
    assert.equal(inactiveToggleText(1, false), 'Show 1 inactive dimension');
    assert.equal(inactiveToggleText(3, true), 'Hide the 3 inactive dimensions');
    assert.deepEqual(visibleDims([false, true, false], false), [true, false, true]);
    assert.deepEqual(visibleDims([false, true, false], true), [true, true, true]);

    // A button and a panel without a DOM: the rows' visibility follows state.view.inactive.
    const listeners = {};
    const attrs = { 'aria-controls': 'rows' };
    const button = {
      hidden: true,
      textContent: '',
      focused: false,
      setAttribute: (k, v) => (attrs[k] = v),
      getAttribute: (k) => attrs[k],
      addEventListener: (type, fn) => (listeners[type] = fn),
      focus() {
        this.focused = true;
      },
    };
    const panel = { contains: () => false };
    const doc = { activeElement: null, getElementById: () => panel };
    const state = new State();
    let visible = null;
    bindInactiveToggle({ button, state, doc, apply: (v) => (visible = v) });
    state.setModel(model);
    assert.equal(button.hidden, false);
    assert.equal(button.textContent, 'Show 1 inactive dimension');
    assert.equal(attrs['aria-expanded'], 'false');
    assert.deepEqual(visible, [true, false, true]);
    listeners.click();
    assert.equal(state.view.inactive, 'shown');
    assert.equal(button.textContent, 'Hide the 1 inactive dimension');
    assert.equal(attrs['aria-expanded'], 'true');
    assert.deepEqual(visible, [true, true, true]);
    state.setModel(describeLatents({}, { latent: [{}, {}] }, 2));
    assert.equal(button.hidden, true, 'no inactive dimension: no button');
  });

  test('an unsubscribed listener is not called; listeners run in subscription order', () => {
    const e = new Emitter();
    const calls = [];
    const off = e.on('x', () => calls.push('a'));
    e.on('x', () => calls.push('b'));
    e.emit('x');
    off();
    e.emit('x');
    assert.deepEqual(calls, ['a', 'b', 'b']);
  });

  test('traversalBatch sweeps each dimension across its range with the rest of z held', () => {
    const b = traversalBatch(Float32Array.from([0.5, -0.5]), [[-1, 1], [-2, 2]]);
    assert.equal(b.length, 2 * STEPS * 2);
    assert.deepEqual([b[0], b[1]], [-1, -0.5]);
    assert.deepEqual([b[(STEPS - 1) * 2], b[(STEPS - 1) * 2 + 1]], [1, -0.5]);
    assert.deepEqual([b[STEPS * 2], b[STEPS * 2 + 1]], [0.5, -2]);
  });
});

// ---------------------------------------------------------------- module layout of www/

describe('www/ module layout', () => {
  const WWW = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'www');
  const lines = (file) => fs.readFileSync(file, 'utf8').split('\n').length - 1;
  const jsFiles = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? jsFiles(p) : d.name.endsWith('.js') ? [p] : [];
  });

  test('main.js only wires things (≤ 150 lines) and no www/ module is over 450 lines', () => {
    assert.ok(lines(path.join(WWW, 'main.js')) <= 150, `main.js has ${lines(path.join(WWW, 'main.js'))} lines`);
    const long = jsFiles(WWW).map((f) => [path.relative(WWW, f), lines(f)]).filter(([, n]) => n > 450);
    assert.deepEqual(long, [], 'files over 450 lines');
  });

  test('no panel imports another panel', () => {
    const panels = path.join(WWW, 'panels');
    const offenders = [];
    for (const file of jsFiles(panels)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/\bimport\s*(?:[^'"]*?\bfrom\s*)?\(?\s*['"]([^'"]+)['"]/g)) {
        const target = path.resolve(path.dirname(file), spec);
        if (path.dirname(target) === panels || target.startsWith(panels + path.sep)) offenders.push(`${path.basename(file)} → ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  test('the pure modules load without a DOM', async () => {
    for (const name of ['lib/format.js', 'lib/image.js', 'lib/preprocess.js', 'lib/backends.js', 'lib/backend-choice.js', 'lib/decode-scheduler.js', 'lib/latent-math.js', 'lib/emitter.js', 'lib/training-data.js', 'lib/training-view.js', 'lib/streams.js', 'lib/local-db.js', 'lib/drawing-store.js', 'lib/model-store.js', 'state.js', 'load.js', 'traversals.js']) {
      await import(pathToFileURL(path.join(WWW, name)).href);
    }
  });
});

// ---------------------------------------------------------------- the load path (fetch stubbed)

describe('load.js: the model list and bundles, errors in words', () => {
  const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
  /** fetch() serving the repository's files at http://test/ (404 when missing; `big` fakes a huge weights file). */
  async function withFetch(fn, { big = false } = {}) {
    const saved = globalThis.fetch;
    globalThis.fetch = async (url) => {
      const file = path.join(ROOT, decodeURIComponent(new URL(url).pathname));
      if (big && file.endsWith('.bpk')) return new Response('x', { headers: { 'content-length': String(2 ** 30) } });
      if (!fs.existsSync(file)) return new Response('not found', { status: 404, statusText: 'Not Found' });
      return new Response(fs.readFileSync(file));
    };
    try {
      return await fn();
    } finally {
      globalThis.fetch = saved;
    }
  }

  test('fetchIndex and fetchBundle read the shipped list and a bundle; onManifest runs alongside the weights', async () => {
    await withFetch(async () => {
      const indexUrl = new URL('http://test/models/index.json');
      const models = await load.fetchIndex(indexUrl);
      assert.ok(models.length >= 1 && models.every((m) => m.name && m.path));
      const base = load.bundleBase({ path: 'x/y' }, indexUrl);
      assert.equal(base.href, 'http://test/models/x/y/');
      const b = await load.fetchBundle(new URL('http://test/tests/fixtures/conv-tiny/'), { onManifest: (m) => m.latent_dim });
      assert.equal(b.extra, b.manifest.latent_dim);
      assert.ok(b.weights instanceof Uint8Array && b.weights.length > 0);
      assert.equal(JSON.parse(b.manifestText).name, b.manifest.name);
    });
  });

  test('missing files and oversized weights are refused in words', async () => {
    await withFetch(async () => {
      await assert.rejects(load.fetchIndex(new URL('http://test/nothing/index.json')), /Could not download the model list \(\/nothing\/index\.json\): the server answered 404 Not Found/);
      await assert.rejects(load.fetchBundle(new URL('http://test/nothing/')), /Could not download the model manifest .*404/);
    });
    await withFetch(async () => {
      await assert.rejects(load.fetchBundle(new URL('http://test/tests/fixtures/conv-tiny/')), /larger than 512 MB/);
    }, { big: true });
  });
});

describe('lib/streams.js: reading a byte stream whole', () => {
  const stream = (parts) => new ReadableStream({
    start(controller) {
      for (const p of parts) controller.enqueue(Uint8Array.from(p));
      controller.close();
    },
  });

  test('joins the chunks in order and reports each with the running total', async () => {
    const { readAll } = await import('../www/lib/streams.js');
    const seen = [];
    const out = await readAll(stream([[1, 2], [3], [4, 5, 6]]), (chunk, total) => seen.push([chunk.length, total]));
    assert.deepEqual(Array.from(out), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(seen, [[2, 2], [1, 3], [3, 6]]);
    assert.deepEqual(Array.from(await readAll(stream([]))), []);
  });

  test('an error from onChunk stops the read, cancels the stream and is passed on', async () => {
    const { readAll } = await import('../www/lib/streams.js');
    let cancelled = false;
    let pulls = 0;
    const endless = new ReadableStream({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(10));
      },
      cancel() {
        cancelled = true;
      },
    });
    const limit = new Error('too big');
    await assert.rejects(readAll(endless, (_, total) => {
      if (total > 25) throw limit;
    }), (err) => err === limit);
    assert.ok(cancelled, 'the stream was cancelled');
    assert.ok(pulls < 10, `the read stopped (${pulls} pulls)`);
  });
});

// ---------------------------------------------------------------- the 2-D manifold

describe('lib/manifold.js: the quantile lattice', () => {
  test('Φ and Φ⁻¹ agree with known values and with each other', () => {
    assert.ok(Math.abs(manifold.normalQuantile(0.975) - 1.959963985) < 1e-7);
    assert.ok(Math.abs(manifold.normalQuantile(0.5)) < 1e-12);
    assert.ok(Math.abs(manifold.normalQuantile(0.001) + 3.090232306) < 1e-6);
    assert.ok(Math.abs(manifold.normalCdf(1.959963985) - 0.975) < 2e-7);
    assert.ok(Math.abs(manifold.normalCdf(-1) - 0.158655254) < 2e-7);
    for (const p of [0.01, 0.05, 0.2, 0.5, 0.77, 0.95, 0.999]) assert.ok(Math.abs(manifold.normalCdf(manifold.normalQuantile(p)) - p) < 2e-7, `p = ${p}`);
    assert.throws(() => manifold.normalQuantile(1), /strictly between 0 and 1/);
  });

  test('the lattice: equal prior mass per cell, x to the right, y upwards; zoom narrows the window around a point', () => {
    const z = manifold.latticeZ(3, manifold.FULL, manifold.FULL);
    const q = manifold.normalQuantile(0.95);
    // Top-left cell: smallest x, largest y; centre cell: the origin.
    assert.ok(Math.abs(z[0] + q) < 1e-6 && Math.abs(z[1] - q) < 1e-6);
    assert.ok(Math.abs(z[8]) < 1e-6 && Math.abs(z[9]) < 1e-6);
    assert.ok(Math.abs(z[16] - q) < 1e-6 && Math.abs(z[17] + q) < 1e-6);
    const full = manifold.zoomWindow(1);
    assert.ok(Math.abs(full.lo - 0.05) < 1e-12 && Math.abs(full.hi - 0.95) < 1e-12);
    const w = manifold.zoomWindow(3, 0.9);
    assert.ok(Math.abs(w.hi - 0.95) < 1e-12 && Math.abs(w.hi - w.lo - 0.3) < 1e-12, 'kept inside the full window');
    const m = manifold.markerPosition([0, 0], 3, manifold.FULL, manifold.FULL);
    assert.ok(Math.abs(m.x - 0.5) < 1e-6 && Math.abs(m.y - 0.5) < 1e-6, 'the origin marks the centre');
    assert.equal(manifold.markerPosition([4, 0], 20, manifold.FULL, manifold.FULL), null, 'beyond the outer cells: no marker');
  });
});
