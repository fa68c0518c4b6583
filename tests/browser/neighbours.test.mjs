// Nearest neighbours: the panel downloads the bundle's test images when it is first shown,
// encodes them with the page's model and lists the k closest to z. Checked against an
// independent computation in the same page: a second explorer (CPU) encodes the IDX files the
// test reads and parses itself, and the distances are brute-forced here. Clicking a neighbour
// moves z to its encoding; the labels are the labels file's; a model switch starts again for
// the new model; a bundle without the images, an opened model file and a missing file are
// said in words. On WebGPU, a smoke check with a tolerance for the backends' rounding.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, startServer, browserForSuite, openPage, settle, sliders, decodedPixels, decodeCount, waitForDecodesAfter, pixelDiff, waitForAlert, drawStrokes, SEVEN } from './harness.mjs';
import { zipBundle } from '../../www/lib/bundle-zip.js';

const T = { timeout: 240_000 };
const AXE = readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** A reproducible z inside the model's ranges (not the origin: a point with a mixed neighbourhood). */
function someZ(dim, seed) {
  return Array.from({ length: dim }, (_, j) => Math.round(1000 * Math.sin(seed * (j + 1) * 1.7)) / 1000);
}

/** Scrolls the panel into view and waits until it has searched the test images. */
async function waitForSearch(page) {
  await page.locator('#neighbours-status').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => /^Searching all /.test(document.getElementById('neighbours-status').textContent) || /^Could not/.test(document.getElementById('neighbours-status').textContent), null, { timeout: 120_000, polling: 50 });
  const status = await page.locator('#neighbours-status').textContent();
  assert.match(status, /^Searching all 10,000 test images, as encoded by this model\.$/);
  await page.waitForFunction(() => !document.getElementById('neighbours-list').hidden, null, { timeout: 10_000 });
}

/** The panel's neighbours as the page shows them, once the list has caught up with z. */
async function shown(page) {
  // The list is redrawn on the next animation frame after z changes.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return page.evaluate(() =>
    [...document.querySelectorAll('#neighbours-list button')].map((b) => ({
      index: Number(b.dataset.index),
      distance: Number(b.dataset.distance),
      label: Number(b.dataset.label),
      text: b.textContent,
      name: b.getAttribute('aria-label'),
    })),
  );
}

/**
 * Independently, in the page: a second explorer of `model` on the CPU encodes the bundle's
 * IDX files (parsed here, by hand) with encodeBatch; kept in window.__nb for `bruteForce`.
 */
async function encodeIndependently(page, model) {
  return page.evaluate(async (name) => {
    const { openModel } = await import('/load.js');
    const { explorer, base } = await openModel({ backend: 'cpu', module: 'cpu', model: name, cache: 'force-cache' });
    const bytes = async (file) => new Uint8Array(await (await fetch(new URL(file, base))).arrayBuffer());
    const images = await bytes('neighbours-images.idx');
    const labels = await bytes('neighbours-labels.idx');
    const view = new DataView(images.buffer);
    const [count, rows, cols] = [view.getUint32(4), view.getUint32(8), view.getUint32(12)];
    const size = rows * cols;
    const dim = Number(explorer.latentDim);
    const mu = new Float32Array(count * dim);
    for (let start = 0; start < count; start += 2000) {
      const m = Math.min(2000, count - start);
      const x = new Float32Array(m * size);
      for (let i = 0; i < x.length; i++) x[i] = images[16 + start * size + i] / 255;
      mu.set((await explorer.encodeBatch(x, m)).mu, start * dim);
    }
    explorer.free();
    window.__nb = { mu, dim, count, labels: labels.subarray(8) };
    return { count, dim, labelsCount: new DataView(labels.buffer).getUint32(4) };
  }, model);
}

/** The k nearest rows of the independent encodings to z (f32, as the page holds z), by sorting all. */
function bruteForce(page, z, k) {
  return page.evaluate(({ z, k }) => {
    const { mu, dim, count, labels } = window.__nb;
    const zf = Float32Array.from(z);
    const all = [];
    for (let i = 0; i < count; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (mu[i * dim + j] - zf[j]) ** 2;
      all.push({ index: i, distance: Math.sqrt(s), label: labels[i] });
    }
    all.sort((a, b) => a.distance - b.distance || a.index - b.index);
    return all.slice(0, k);
  }, { z, k });
}

/** The independent μ of test image `i`. */
const muOf = (page, i) => page.evaluate((i) => Array.from(window.__nb.mu.subarray(i * window.__nb.dim, (i + 1) * window.__nb.dim)), i);

/**
 * The panel's list against the brute force: the same images in the same order with the same
 * distances; two images may trade places only where their distances are within `tol`.
 */
function assertSame(got, want, tol, what) {
  assert.equal(got.length, want.length, `${what}: ${got.length} neighbours shown, ${want.length} expected`);
  for (let r = 0; r < want.length; r++) {
    assert.ok(Math.abs(got[r].distance - want[r].distance) <= tol, `${what}: neighbour ${r + 1} at distance ${got[r].distance}, computed here ${want[r].distance}`);
    if (got[r].index !== want[r].index) {
      const swapped = want.find((w) => w.index === got[r].index);
      assert.ok(swapped && Math.abs(swapped.distance - want[r].distance) <= tol, `${what}: neighbour ${r + 1} is test image ${got[r].index}, computed here ${want[r].index} (${JSON.stringify(want.slice(0, r + 2))})`);
    }
  }
}

/** The labels shown (data, text, name) are the labels file's for that image. */
function assertLabels(got, labels) {
  for (const g of got) {
    const label = labels[g.index];
    assert.equal(g.label, label, `test image ${g.index}`);
    assert.equal(g.text, `${label} · ${g.distance.toFixed(2)}`);
    assert.equal(g.name, `Test image ${(g.index + 1).toLocaleString('en')}, ${label === 8 ? 'an' : 'a'} ${label}, ${g.distance.toFixed(2)} away: move z to its encoding`);
  }
}

const LABELS = {};
async function labelsOf(model) {
  LABELS[model] ??= (await readFile(path.join(ROOT, 'models', model, 'neighbours-labels.idx'))).subarray(8);
  return LABELS[model];
}

describe('Nearest neighbours (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('the k nearest test images to z, as computed independently; a click moves z to one; k can change; a model switch starts again', T, async (t) => {
    const z = someZ(32, 3);
    const s = await openPage(browser(), server, `?backend=cpu&model=mnist-mlp-32&z=${z.join(',')}`);
    try {
      const { page, log } = s;
      await settle(page);
      const requested = () => log.requests.filter((u) => u.endsWith('.idx'));
      assert.deepEqual(requested(), [], 'nothing is downloaded before the panel is shown');
      // Folded, it is not shown even on screen; unfolded, it starts.
      const toggle = page.getByRole('button', { name: 'Nearest neighbours', exact: true });
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      await toggle.scrollIntoViewIfNeeded();
      await page.waitForTimeout(500);
      assert.deepEqual(requested(), [], 'nothing is downloaded while the panel is folded');
      const started = Date.now();
      await toggle.click();
      await waitForSearch(page);
      t.diagnostic(`downloaded and encoded 10,000 test images in ${Date.now() - started} ms`);
      assert.deepEqual(requested().map((u) => new URL(u).pathname).sort(), ['/models/mnist-mlp-32/neighbours-images.idx', '/models/mnist-mlp-32/neighbours-labels.idx']);
      assert.match(await page.locator('#neighbours-caption').textContent(), /Euclidean distance in latent space/);
      assert.equal(await page.getByLabel('Neighbours shown').inputValue(), '16');

      // (a) the same neighbours as an independent search.
      const info = await encodeIndependently(page, 'mnist-mlp-32');
      assert.deepEqual(info, { count: 10000, dim: 32, labelsCount: 10000 });
      const first = await shown(page);
      assertSame(first, await bruteForce(page, z, 16), 1e-3, 'at z');
      // (c) with the labels file's labels.
      assertLabels(first, await labelsOf('mnist-mlp-32'));
      const summary = await page.locator('#neighbours-summary').textContent();
      assert.match(summary, /^(All 16 nearest are \ds|\d+ of the 16 nearest (are \ds|is an? \d)(, .*)? and \d+ (is an?|are) \ds?)\.$/, summary);
      const counts = [...summary.matchAll(/(\d+) (?:of the 16 nearest |nearest )?(?:are|is)/g)].map((m) => Number(m[1]));
      assert.equal(counts.reduce((a, b) => a + b, 0), 16, `the counts add up to 16: ${summary}`);

      // The list passes axe-core (the layout test scans the page before this panel has images).
      await page.evaluate(AXE);
      const violations = await page.evaluate(async () => (await window.axe.run('.panel-neighbours', { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })).violations.map((v) => `${v.id}: ${v.nodes.length} nodes`));
      assert.deepEqual(violations, []);

      // k = 24, then back to 8.
      await page.getByLabel('Neighbours shown').selectOption('24');
      assertSame(await shown(page), await bruteForce(page, z, 24), 1e-3, 'k = 24');
      await page.getByLabel('Neighbours shown').selectOption('8');
      const eight = await shown(page);
      assertSame(eight, await bruteForce(page, z, 8), 1e-3, 'k = 8');

      // (b) a click moves z to the neighbour's μ (inside the sliders' ranges); it is then first, at distance 0.
      const ranges = (await sliders(page)).map((sl) => [sl.min, sl.max]);
      let pick = null;
      for (const g of eight.slice(1)) {
        const mu = await muOf(page, g.index);
        if (mu.every((v, j) => v >= ranges[j][0] && v <= ranges[j][1])) {
          pick = { ...g, mu };
          break;
        }
      }
      assert.ok(pick, 'a neighbour whose encoding lies inside the sliders’ ranges');
      const before = await decodedPixels(page);
      const n = await decodeCount(page);
      await page.getByRole('button', { name: pick.name, exact: true }).click();
      await waitForDecodesAfter(page, n);
      const values = (await sliders(page)).map((sl) => sl.value);
      values.forEach((v, j) => assert.ok(Math.abs(v - pick.mu[j]) <= 0.006, `slider ${j + 1} at ${v}, μ ${pick.mu[j]}`));
      assert.ok(pixelDiff(before, await decodedPixels(page)) > 0, 'the decoded image changed');
      const after = await shown(page);
      assert.equal(after[0].index, pick.index, 'the clicked image is now the nearest');
      assert.ok(after[0].distance < 1e-6, `at distance ${after[0].distance}`);
      assert.equal(after[0].text, `${pick.label} · 0.00`);
      assertSame(after, await bruteForce(page, pick.mu, 8), 1e-3, 'at the clicked μ');
      assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#neighbours-list button')), true, 'the keyboard stays on the clicked image, now first');

      // (d) another model: the list is rebuilt for it, by its encodings.
      await page.getByLabel('Model', { exact: true }).selectOption('mnist-mlp-2');
      await page.waitForFunction(() => document.body.dataset.model === 'mnist-mlp-2', null, { timeout: 60_000 });
      await waitForSearch(page);
      await settle(page);
      // A switch starts the new model at z = 0 (the sliders show it exactly).
      const z2 = (await sliders(page)).map((sl) => sl.value);
      assert.deepEqual(z2, [0, 0]);
      const info2 = await encodeIndependently(page, 'mnist-mlp-2');
      assert.deepEqual(info2, { count: 10000, dim: 2, labelsCount: 10000 });
      const two = await shown(page);
      assertSame(two, await bruteForce(page, z2, 8), 1e-3, '2-D model');
      assertLabels(two, await labelsOf('mnist-mlp-2'));
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });

  test('a bundle without test images (nor −log p(x) figures), a model opened from a file and a missing images file are said in words; nothing else breaks', T, async () => {
    // The manifest without its "neighbours" and "likelihood" sections.
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32', {
      routes: [[
        '**/models/mnist-mlp-32/manifest.json',
        async (route) => {
          const res = await route.fetch();
          const manifest = await res.json();
          delete manifest.neighbours;
          delete manifest.likelihood;
          await route.fulfill({ response: res, body: JSON.stringify(manifest) });
        },
      ]],
    });
    try {
      const { page, log } = s;
      await settle(page);
      await page.locator('#neighbours-status').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => /no test images/.test(document.getElementById('neighbours-status').textContent), null, { timeout: 30_000 });
      assert.equal(await page.locator('#neighbours-status').textContent(), 'This model’s bundle has no test images (its manifest has no “neighbours” section), so there are no neighbours to show.');
      assert.equal(await page.locator('#neighbours-list').isHidden(), true);
      assert.deepEqual(log.requests.filter((u) => u.endsWith('.idx')), []);
      // The rest of the page works: a slider moves the image.
      const before = await decodedPixels(page);
      const n = await decodeCount(page);
      await page.getByRole('button', { name: 'Sample from prior' }).click();
      await waitForDecodesAfter(page, n);
      assert.ok(pixelDiff(before, await decodedPixels(page)) > 0);
      // Without the test set's −log p(x) figures, "Your drawing" says why it cannot place a drawing.
      await drawStrokes(page, SEVEN);
      await page.waitForFunction(() => !document.getElementById('explain-result').hidden, null, { timeout: 60_000 });
      assert.match(await page.locator('#explain-reference').textContent(), /^The test digits average a −ELBO of 98\.7 nats: .*\. This model’s bundle has no −log p\(x\) figures for its test digits, so the drawing cannot be placed among them\.$/);

      // A model opened from a file has no bundle folder: said so.
      const dir = path.join(ROOT, 'models', 'mnist-mlp-2');
      const zip = zipBundle({ manifestText: await readFile(path.join(dir, 'manifest.json'), 'utf8'), weights: new Uint8Array(await readFile(path.join(dir, 'weights.bpk'))) });
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Open model file…' }).click()]);
      await chooser.setFiles({ name: 'two.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });
      await page.waitForFunction(() => document.body.dataset.model && document.body.dataset.model !== 'mnist-mlp-32', null, { timeout: 60_000 });
      await settle(page);
      await page.locator('#neighbours-status').scrollIntoViewIfNeeded();
      assert.equal(await page.locator('#neighbours-status').textContent(), 'This model was trained in this browser or opened from a file: no test images come with it, so there are no neighbours to show.');
      assert.deepEqual(log.requests.filter((u) => u.endsWith('.idx')), []);
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }

    // The images file is missing (404): a message in words, in the panel and in the alert.
    const m = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32', {
      routes: [['**/neighbours-images.idx', (route) => route.fulfill({ status: 404, body: 'not found' })]],
    });
    try {
      const { page, log } = m;
      await settle(page);
      await page.locator('#neighbours-status').scrollIntoViewIfNeeded();
      const expected = 'Could not show the nearest neighbours: Could not download the test images (/models/mnist-mlp-32/neighbours-images.idx): the server answered 404 Not Found.';
      await page.waitForFunction(() => /^Could not/.test(document.getElementById('neighbours-status').textContent), null, { timeout: 30_000 });
      assert.equal(await page.locator('#neighbours-status').textContent(), expected);
      assert.equal(await waitForAlert(page, 10_000), expected);
      assert.equal(await page.locator('#neighbours-list').isHidden(), true);
      const n = await decodeCount(page);
      await page.getByRole('button', { name: 'Sample from prior' }).click();
      await waitForDecodesAfter(page, n);
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await m.close();
    }
  });
});

describe('Nearest neighbours (WebGPU backend)', () => {
  const browser = browserForSuite({ webgpu: true });

  test('smoke: encoded on WebGPU, the neighbours agree with the CPU within the backends’ rounding', T, async (t) => {
    const z = someZ(32, 5);
    const s = await openPage(browser(), server, `?backend=webgpu&model=mnist-mlp-32&z=${z.join(',')}`);
    try {
      const { page, log } = s;
      await settle(page);
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'WebGPU');
      await waitForSearch(page);
      await encodeIndependently(page, 'mnist-mlp-32');
      const got = await shown(page);
      const want = await bruteForce(page, z, 16);
      assertSame(got, want, 0.02, 'WebGPU against the CPU');
      t.diagnostic(`largest distance difference WebGPU − CPU: ${Math.max(...got.map((g, r) => Math.abs(g.distance - want[r].distance))).toExponential(1)}`);
      assertLabels(got, await labelsOf('mnist-mlp-32'));
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });
});
