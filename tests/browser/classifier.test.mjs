// What the decoder draws: the bundle's digit classifier, run in wasm, reads every decoded image
// ("looks like a 7 · 92 %") and tints the latent map by its reading of the images decoded over
// the plane. Checked against independent computations in the page: a Classifier of our own,
// made from the same files, reads the 10,000 test images (the bundle's IDX copy) with the
// accuracy the CLI stored; the readout equals its reading of the decoded image's pixels; the
// tint around the 7s' mean is the colour of the class it reads in the image decoded there.
// A bundle without a classifier hides the readout; a missing classifier file is said in words
// and the page keeps decoding.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, startServer, browserForSuite, openPage, settle, decodedPixels, decodeCount, waitForDecodesAfter, waitForAlert, pixelDiff } from './harness.mjs';
import { TINT, tintOverWhite } from '../../www/lib/classify.js';
import { CLASS_COLOURS } from '../../www/latent-map.js';

const T = { timeout: 240_000 };
const MODELS = ['mnist-mlp-32', 'mnist-mlp-2'];

let server;
const manifests = {};
before(async () => {
  server = await startServer();
  for (const name of MODELS) manifests[name] = JSON.parse(await readFile(path.join(ROOT, 'models', name, 'manifest.json'), 'utf8'));
});
after(async () => {
  await server?.stop();
});

const classMean = (name, label) => manifests[name].map.classes.find((c) => c.label === label).mean;
const readout = (page) => page.getByRole('group', { name: 'Classifier', exact: true });
const toggle = (page) => page.getByRole('checkbox', { name: 'Class regions', exact: true });
const mapCanvas = (page) => page.getByRole('application', { name: 'Latent map' });

/** The readout's sentence, parsed: {label, pct}. */
async function reading(page) {
  const text = await readout(page).locator('.classifier-reading').textContent();
  const m = /^looks like an? (\S+) · (\d+) %$/.exec(text);
  assert.ok(m, `the readout says “${text}”`);
  return { label: m[1], pct: Number(m[2]) };
}

/** Moves z with the sliders (every one, shown or folded) and waits for the image. */
async function moveZ(page, z) {
  const n = await decodeCount(page);
  await page.evaluate((values) => {
    values.forEach((v, i) => {
      const el = document.getElementById(`z-${i + 1}`);
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
  }, z);
  await waitForDecodesAfter(page, n);
}

/**
 * In the page, independently of it: a Classifier made here from the bundle's manifest and
 * classifier file, reading `images` (grey levels 0..255, `n` of them end to end); and, with
 * `zs`, those latent vectors decoded first by an explorer of our own. Returns rows of
 * probabilities.
 */
function independent(page, model, { images = null, zs = null, n }) {
  return page.evaluate(async ({ model, images, zs, n }) => {
    const { loadModule, openModel } = await import('/load.js');
    const mod = await loadModule('cpu');
    const base = `/models/${model}/`;
    const manifestText = await (await fetch(`${base}manifest.json`, { cache: 'no-store' })).text();
    const file = JSON.parse(manifestText).classifier.weights;
    const weights = new Uint8Array(await (await fetch(base + file, { cache: 'no-store' })).arrayBuffer());
    const classifier = mod.Classifier.create(manifestText, weights);
    try {
      let x;
      if (zs) {
        const { explorer } = await openModel({ backend: 'cpu', model, cache: 'no-store' });
        try {
          x = await explorer.decode(Float32Array.from(zs));
        } finally {
          explorer.free();
        }
      } else {
        x = Float32Array.from(images, (v) => v / 255);
      }
      return Array.from(classifier.classify(x, n));
    } finally {
      classifier.free();
    }
  }, { model, images, zs, n });
}

const argmax = (row) => row.indexOf(Math.max(...row));

/** The map canvas's pixels (RGBA) once the next frame is drawn. */
async function mapPixels(page) {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return mapCanvas(page).evaluate((c) => ({ w: c.width, h: c.height, d: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) }));
}

/** The class whose tint (at any strength) is nearest to an RGB colour. */
function nearestTint(rgb) {
  let best = { k: -1, d: Infinity };
  CLASS_COLOURS.forEach((colour, k) => {
    for (let a = TINT.min; a <= TINT.max + 1e-9; a += (TINT.max - TINT.min) / 8) {
      const t = tintOverWhite(colour, a);
      const d = Math.hypot(rgb[0] - t[0], rgb[1] - t[1], rgb[2] - t[2]);
      if (d < best.d) best = { k, d };
    }
  });
  return best;
}

/**
 * Turns the class regions on for the page's model (off first if they were on) and checks what
 * they paint: most of the background changes, and around z (set to the 7s' mean) the tint is
 * the class our own Classifier reads in the image decoded at that point of the plane.
 * Returns that class.
 */
async function checkRegions(page, model, t) {
  const manifest = manifests[model];
  const mean7 = classMean(model, 7);
  await moveZ(page, mean7);
  await page.waitForFunction(() => !document.getElementById('map-regions').disabled, null, { timeout: 60_000 });
  if (await toggle(page).isChecked()) await toggle(page).uncheck();
  await settle(page);
  const off = await mapPixels(page);
  await toggle(page).check();
  await page.waitForFunction(() => /tinted by the digit/.test(document.getElementById('map-regions-hint').textContent), null, { timeout: 90_000 });
  await settle(page);
  const on = await mapPixels(page);
  const { w, h } = on;

  const changed = [];
  let white = 0;
  for (let i = 0; i < w * h; i++) {
    const isWhite = off.d[4 * i] === 255 && off.d[4 * i + 1] === 255 && off.d[4 * i + 2] === 255;
    if (!isWhite) continue;
    white++;
    if (on.d[4 * i] !== 255 || on.d[4 * i + 1] !== 255 || on.d[4 * i + 2] !== 255) changed.push(i);
  }
  assert.ok(changed.length > 0.9 * white, `${model}: the background is tinted (${changed.length} of ${white} background pixels)`);

  // The cross marks z: the centre of its red pixels.
  let sx = 0;
  let sy = 0;
  let count = 0;
  for (let i = 0; i < w * h; i++) {
    if (on.d[4 * i] > 170 && on.d[4 * i + 1] < 60 && on.d[4 * i + 2] < 60) {
      sx += i % w;
      sy += Math.floor(i / w);
      count++;
    }
  }
  assert.ok(count > 20, `${model}: the cross is drawn (${count} red pixels)`);
  const [cx, cy] = [sx / count, sy / count];
  const votes = new Array(10).fill(0);
  for (let y = Math.floor(cy - 20); y <= cy + 20; y++) {
    for (let x = Math.floor(cx - 20); x <= cx + 20; x++) {
      const r = Math.hypot(x - cx, y - cy);
      if (r < 13 || r > 20 || x < 0 || y < 0 || x >= w || y >= h) continue;
      const i = y * w + x;
      if (off.d[4 * i] !== 255 || off.d[4 * i + 1] !== 255 || off.d[4 * i + 2] !== 255) continue; // a dot, an axis
      votes[nearestTint(on.d.slice(4 * i, 4 * i + 3)).k]++;
    }
  }
  const tinted = argmax(votes);

  // Independently: the point of the plane under the cross, decoded and read by our own classifier.
  const { origin, axes } = manifest.map;
  const rel = mean7.map((v, i) => v - origin[i]);
  const [px, py] = axes.map((a) => a.reduce((s, ai, i) => s + ai * rel[i], 0));
  const zPlane = origin.map((o, i) => o + px * axes[0][i] + py * axes[1][i]);
  const probs = await independent(page, model, { zs: zPlane, n: 1 });
  const read = argmax(probs);
  t.diagnostic(`${model}: around the 7s' mean the map is tinted as class ${tinted} (votes ${votes.join(' ')}); the image decoded there reads as class ${read} (${Math.round(100 * probs[read])} %)`);
  assert.equal(tinted, read, `${model}: the tint around z is the colour of the class read in the image decoded there`);
  return read;
}

describe('Classifier (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('the classifier reads the 10,000 test images with the accuracy the CLI stored, for both shipped models', T, async (t) => {
    const s = await openPage(browser(), server, '?backend=cpu');
    try {
      const { page } = s;
      for (const model of MODELS) {
        const r = await page.evaluate(async (model) => {
          const { loadModule } = await import('/load.js');
          const mod = await loadModule('cpu');
          const base = `/models/${model}/`;
          const get = async (name) => new Uint8Array(await (await fetch(base + name, { cache: 'no-store' })).arrayBuffer());
          const manifestText = await (await fetch(`${base}manifest.json`, { cache: 'no-store' })).text();
          const classifier = mod.Classifier.create(manifestText, await get(JSON.parse(manifestText).classifier.weights));
          const [images, labels] = await Promise.all([get('neighbours-images.idx'), get('neighbours-labels.idx')]);
          // IDX: a big-endian magic (0x803 images, 0x801 labels), the sizes, then u8 values.
          const head = (bytes, k) => Array.from({ length: k }, (_, i) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(4 * i));
          const [magic, n, rows, cols] = head(images, 4);
          const [labelMagic, labelCount] = head(labels, 2);
          if (magic !== 0x803 || labelMagic !== 0x801 || labelCount !== n) throw new Error(`unexpected IDX headers ${magic} ${labelMagic} ${n} ${labelCount}`);
          const size = rows * cols;
          const k = classifier.classes.length;
          let right = 0;
          const t0 = performance.now();
          for (let i = 0; i < n; i += 4096) {
            const m = Math.min(4096, n - i);
            const x = Float32Array.from(images.subarray(16 + i * size, 16 + (i + m) * size), (v) => v / 255);
            const p = classifier.classify(x, m);
            for (let j = 0; j < m; j++) {
              let best = 0;
              for (let c = 1; c < k; c++) if (p[j * k + c] > p[j * k + best]) best = c;
              if (String(classifier.classes[best]) === String(labels[8 + i + j])) right++;
            }
          }
          const ms = performance.now() - t0;
          classifier.free();
          return { n, right, ms };
        }, model);
        const { classifier } = manifests[model];
        const accuracy = r.right / r.n;
        t.diagnostic(`${model}: ${r.right} of ${r.n} test images read right (${(100 * accuracy).toFixed(2)} %; the CLI stored ${(100 * classifier.test_accuracy).toFixed(2)} %), in ${Math.round(r.ms)} ms`);
        assert.equal(r.n, classifier.images);
        assert.ok(Math.abs(accuracy - classifier.test_accuracy) <= 0.001, `${model}: accuracy ${accuracy} vs the manifest's ${classifier.test_accuracy}`);
      }
      assert.deepEqual(s.log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('the readout follows the image: a 7 at the 7s’ mean, a 0 at the 0s’, as an independent reading of the pixels says; fetched after the first paint', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32');
    try {
      const { page, log } = s;
      await readout(page).waitFor({ state: 'visible', timeout: 60_000 });
      // The first image's download did not wait for the classifier's.
      const timing = await page.evaluate(() => ({
        firstPaint: performance.getEntriesByName('first-decode')[0]?.startTime,
        classifier: performance.getEntriesByType('resource').find((e) => e.name.endsWith('/classifier.bpk'))?.startTime,
      }));
      assert.ok(timing.firstPaint > 0 && timing.classifier >= timing.firstPaint, `classifier fetched at ${timing.classifier} ms, first image at ${timing.firstPaint} ms`);

      for (const [label, want] of [[7, '7'], [0, '0'], [7, '7']]) {
        await moveZ(page, classMean('mnist-mlp-32', label));
        await settle(page);
        const r = await reading(page);
        assert.equal(r.label, want, `at the mean of the ${label}s`);
        assert.ok(r.pct >= 50 && r.pct <= 100, `a confident reading: ${r.pct} %`);
        // The pixels the page shows, read by a classifier of our own.
        const pixels = await decodedPixels(page);
        const probs = await independent(page, 'mnist-mlp-32', { images: pixels, n: 1 });
        const k = argmax(probs);
        assert.equal(String(k), r.label, 'the same top class');
        assert.ok(Math.abs(Math.round(100 * probs[k]) - r.pct) <= 2, `the same probability: the page ${r.pct} %, here ${(100 * probs[k]).toFixed(1)} %`);
      }
      assert.equal(await readout(page).locator('.classifier-bars').getAttribute('aria-hidden'), 'true', 'the bars are decoration');
      assert.equal(await readout(page).locator('.classifier-bar').count(), 10);
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
      assert.equal(await page.locator('#error').isHidden(), true);
    } finally {
      await s.close();
    }
  });

  test('class regions: the toggle tints the map by the classifier’s reading of the plane, for both shipped models', T, async (t) => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32');
    try {
      const { page, log } = s;
      assert.equal(await toggle(page).isChecked(), false, 'off by default');
      await checkRegions(page, 'mnist-mlp-32', t);
      await page.waitForTimeout(400);
      assert.equal(new URL(page.url()).searchParams.get('regions'), 'on', 'the address remembers the toggle');

      const n = await decodeCount(page);
      await page.getByLabel('Model', { exact: true }).selectOption('mnist-mlp-2');
      await page.waitForFunction(() => document.body.dataset.model === 'mnist-mlp-2', null, { timeout: 120_000 });
      await waitForDecodesAfter(page, n, 120_000);
      // The toggle stays on across the switch: the new model's regions come by themselves.
      await page.waitForFunction(() => /tinted by the digit/.test(document.getElementById('map-regions-hint').textContent), null, { timeout: 90_000 });
      assert.equal(await toggle(page).isChecked(), true);
      const read = await checkRegions(page, 'mnist-mlp-2', t);
      assert.equal(read, 7, 'on the 2-D model the 7s’ mean decodes to a 7');

      await toggle(page).uncheck();
      const plain = await mapPixels(page);
      await page.waitForTimeout(400);
      assert.equal(new URL(page.url()).searchParams.get('regions'), null);
      let white = 0;
      for (let i = 0; i < plain.d.length; i += 4) if (plain.d[i] === 255 && plain.d[i + 1] === 255 && plain.d[i + 2] === 255) white++;
      assert.ok(white > 0.5 * plain.w * plain.h, 'off again: a white background');
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });

  test('without a classifier the readout is hidden and the toggle says why; a missing classifier file is said in words and the page keeps decoding', T, async () => {
    // A bundle whose manifest has no classifier section.
    const withoutClassifier = [
      '**/mnist-mlp-32/manifest.json',
      async (route) => {
        const response = await route.fetch();
        const manifest = await response.json();
        delete manifest.classifier;
        await route.fulfill({ response, json: manifest });
      },
    ];
    let s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32', { routes: [withoutClassifier] });
    try {
      const { page, log } = s;
      await settle(page);
      await page.waitForTimeout(1000);
      assert.equal(await readout(page).isHidden(), true, 'no readout');
      assert.equal(await toggle(page).isDisabled(), true, 'no toggle');
      assert.match(await page.locator('#map-regions-hint').textContent(), /This model has no classifier/);
      const described = await toggle(page).getAttribute('aria-describedby');
      assert.equal(described, 'map-regions-hint', 'the hint describes the toggle');
      assert.equal(log.requests.some((u) => u.endsWith('/classifier.bpk')), false, 'nothing fetched for it');
      assert.equal(await page.locator('#error').isHidden(), true, 'no error');
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }

    s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32', { routes: [['**/classifier.bpk', (route) => route.fulfill({ status: 404, body: 'not found' })]] });
    try {
      const { page, log } = s;
      const alert = await waitForAlert(page, 60_000);
      assert.match(alert, /^The classifier could not be loaded: Could not download the classifier weights \(\/models\/mnist-mlp-32\/classifier\.bpk\): the server answered 404/);
      assert.match(alert, /The rest of the page works without it\.$/);
      assert.equal(await readout(page).isHidden(), true);
      assert.equal(await toggle(page).isDisabled(), true);
      assert.match(await page.locator('#map-regions-hint').textContent(), /could not be loaded/);
      const before = await decodedPixels(page);
      await moveZ(page, classMean('mnist-mlp-32', 0));
      assert.ok(pixelDiff(before, await decodedPixels(page)) > 0, 'the page still decodes');
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});

describe('Classifier (WebGPU backend)', () => {
  const browser = browserForSuite({ webgpu: true });

  test('on WebGPU the readout reads the decoded image as a classifier of our own does, and the regions paint', T, async (t) => {
    const s = await openPage(browser(), server, '?backend=webgpu&model=mnist-mlp-32');
    try {
      const { page, log } = s;
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'WebGPU');
      await readout(page).waitFor({ state: 'visible', timeout: 60_000 });
      await moveZ(page, classMean('mnist-mlp-32', 7));
      await settle(page);
      const r = await reading(page);
      assert.equal(r.label, '7');
      const probs = await independent(page, 'mnist-mlp-32', { images: await decodedPixels(page), n: 1 });
      assert.equal(String(argmax(probs)), r.label);
      assert.ok(Math.abs(Math.round(100 * probs[argmax(probs)]) - r.pct) <= 2, `the page ${r.pct} %, here ${(100 * probs[argmax(probs)]).toFixed(1)} %`);
      await checkRegions(page, 'mnist-mlp-32', t);
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });
});
