// Compare models: a second model beside the page's. Checked against an independent
// computation: a separate explorer of each model, opened in the test through load.js, decodes
// the same z and encodes the same drawing, and the panel's pixels and figures must match it.
// The shipped pair (32-D and 2-D) refuses the same z in words and compares on a drawing; two
// test bundles of the same latent size (conv-tiny, 28×28, and mlp-32x32, 32×32) compare on
// the same z, live as z moves; switching the page's model keeps the panel consistent; a model
// that cannot be opened gives a message in the panel and the page keeps working.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT,
  startServer,
  browserForSuite,
  openPage,
  settle,
  drawStrokes,
  directoryRoute,
  decodedPixels,
  decodeCount,
  waitForDecodesAfter,
  pixelDiff,
  sliderValues,
  canvasGrey,
  SEVEN,
} from './harness.mjs';

const T = { timeout: 240_000 };
const manifestOf = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const SHIPPED = { 'mnist-mlp-32': path.join(ROOT, 'models', 'mnist-mlp-32'), 'mnist-mlp-2': path.join(ROOT, 'models', 'mnist-mlp-2') };
const FIXTURES = { 'conv-tiny': path.join(ROOT, 'tests', 'fixtures', 'conv-tiny'), 'mlp-32x32': path.join(ROOT, 'tests', 'fixtures', 'mlp-32x32') };

/** The shipped models and the two 4-D test bundles, in one model list. */
const fourModels = [
  ['**/models/index.json', (route) => route.fulfill({ json: { models: [
    { name: 'mnist-mlp-32', title: 'MNIST, 32-D latent (MLP 784-512-256-32)', path: 'mnist-mlp-32/' },
    { name: 'mnist-mlp-2', title: 'MNIST, 2-D latent (MLP 784-512-256-2)', path: 'mnist-mlp-2/' },
    { name: 'conv-tiny', title: 'Tiny conv, 4-D', path: 'conv-tiny/' },
    { name: 'mlp-32x32', title: 'MLP 32×32, 4-D', path: 'mlp-32x32/' },
  ] } })],
  directoryRoute('**/models/conv-tiny/*', FIXTURES['conv-tiny']),
  directoryRoute('**/models/mlp-32x32/*', FIXTURES['mlp-32x32']),
];

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const picker = (page) => page.getByLabel('Compare with', { exact: true });
const options = (page) => page.locator('#compare-select option').evaluateAll((os) => os.map((o) => o.value));
const text = (page, id) => page.locator(`#${id}`).textContent();
const grey = (page, id) => page.locator(`#${id}`).evaluate(canvasGrey);
const size = (page, id) => page.locator(`#${id}`).evaluate((c) => [c.width, c.height]);

/** Picks `name` in "Compare with" and waits until its column is shown and its work is done. */
async function compareWith(page, name) {
  await picker(page).selectOption(name);
  await page.waitForFunction(() => /runs on the CPU/.test(document.getElementById('compare-status').textContent), null, { timeout: 90_000 });
  await settle(page);
}

/** Waits for the page's model to be `name`, its first image painted and all work done. */
async function switchPage(page, name) {
  await page.getByLabel('Model', { exact: true }).selectOption(name);
  await page.waitForFunction((n) => document.body.dataset.model === n, name, { timeout: 90_000 });
  await settle(page);
}

/** Draws a 7 and waits for both models' figures: [{negElbo, recon, kl}] for columns a and b. */
async function drawAndScore(page) {
  await drawStrokes(page, SEVEN);
  await page.waitForFunction(() => !document.getElementById('compare-draw-row').hidden, null, { timeout: 60_000 });
  await settle(page);
  return Promise.all(['a', 'b'].map(async (k) => {
    const t = await text(page, `compare-elbo-${k}`);
    const m = /^−ELBO ([\d.]+) nats = reconstruction ([\d.]+) \+ KL ([\d.]+)\.$/.exec(t);
    assert.ok(m, t);
    const [negElbo, recon, kl] = m.slice(1).map(Number);
    assert.ok(Math.abs(negElbo - recon - kl) <= 0.15, t);
    return { negElbo, recon, kl };
  }));
}

/**
 * In the page, independently of the panel: opens `models` (paths of bundles) on the CPU and
 * decodes `z` with each, or encodes the encoder input the page shows and decodes its μ.
 */
function independent(page, { models, z = null, drawing = false }) {
  return page.evaluate(async ({ models, z, drawing }) => {
    const { openModel } = await import('/load.js');
    const input = document.getElementById('encoder-input');
    const bytes = input.getContext('2d').getImageData(0, 0, input.width, input.height).data;
    const x = Float32Array.from({ length: input.width * input.height }, (_, i) => bytes[4 * i] / 255);
    const out = [];
    for (const where of models) {
      const { explorer } = await openModel({ backend: 'cpu', path: where, cache: 'force-cache' });
      try {
        if (z) out.push({ p: Array.from(await explorer.decode(Float32Array.from(z))) });
        if (drawing) {
          const r = await explorer.encode(x);
          const p = await explorer.decode(r.mu);
          out.push({ x: Array.from(x), mu: Array.from(r.mu), logVar: Array.from(r.logVar), p: Array.from(p) });
        }
      } finally {
        explorer.free();
      }
    }
    return out;
  }, { models, z, drawing });
}

/** KL, reconstruction at μ and grey levels from an independent encode and decode. */
function score({ x, mu, logVar, p }) {
  const kl = mu.reduce((a, m, j) => a + 0.5 * (m * m + Math.exp(logVar[j]) - 1 - logVar[j]), 0);
  const recon = x.reduce((a, xi, i) => {
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i]));
    return a - (xi * Math.log(q) + (1 - xi) * Math.log(1 - q));
  }, 0);
  return { kl, recon, grey: p.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255)) };
}

const AXE = fs.readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** axe-core's WCAG 2.1 A/AA violations inside the panel, in words (as layout.test.mjs runs it). */
async function axeViolations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run({ include: [['.panel-compare']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
  });
}

const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('Compare models (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('32-D against 2-D: the same z is refused in words; on a drawn 7 both reconstructions and −ELBOs match an independent encode and decode', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu');
    try {
      const { page, log } = s;
      await settle(page);
      // None is chosen at first; the page's own model is not offered.
      assert.deepEqual(await options(page), ['', 'mnist-mlp-2']);
      assert.equal(await picker(page).inputValue(), '');
      assert.ok(await page.locator('#compare-table').isHidden());

      await compareWith(page, 'mnist-mlp-2');
      assert.match(await text(page, 'compare-title-a'), /^MNIST, 32-D latent .*the page’s model$/);
      assert.match(await text(page, 'compare-title-b'), /^MNIST, 2-D latent .*on the CPU$/);
      assert.ok(await page.locator('#compare-z-row').isHidden(), 'no same-z images for different latent sizes');
      assert.match(await text(page, 'compare-z-note'), /^The latent sizes differ \(32 vs 2\), so the same z means nothing/);
      const [m32, m2] = [manifestOf(SHIPPED['mnist-mlp-32']), manifestOf(SHIPPED['mnist-mlp-2'])];
      const active = (m) => `${m.latent.filter((l) => l.active !== false).length} of ${m.latent.length} active`;
      assert.equal(await text(page, 'compare-active-a'), active(m32));
      assert.equal(await text(page, 'compare-active-b'), active(m2));
      assert.equal(await text(page, 'compare-test-a'), `${m32.metrics.test_loss_nats.toFixed(1)} nats`);
      assert.equal(await text(page, 'compare-test-b'), `${m2.metrics.test_loss_nats.toFixed(1)} nats`);
      assert.match(await text(page, 'compare-draw-note'), /^Draw a digit on the pad/);

      const [a, b] = await drawAndScore(page);
      const [ia, ib] = (await independent(page, { models: ['/models/mnist-mlp-32/', '/models/mnist-mlp-2/'], drawing: true })).map(score);
      for (const [name, panel, here, id] of [['32-D', a, ia, 'compare-recon-a'], ['2-D', b, ib, 'compare-recon-b']]) {
        // The figures are shown to 0.1 nat; the encoder input's bytes move μ a hair more.
        assert.ok(Math.abs(panel.kl - here.kl) < 0.1, `${name} KL: the panel ${panel.kl}, computed here ${here.kl}`);
        assert.ok(Math.abs(panel.recon - here.recon) < 0.25, `${name} reconstruction at μ: the panel ${panel.recon}, computed here ${here.recon}`);
        assert.deepEqual(await size(page, id), [28, 28]);
        const px = await grey(page, id);
        assert.ok(maxDiff(px, here.grey) <= 2 && pixelDiff(px, here.grey) / px.length < 0.5, `${name} reconstruction: max |Δ| ${maxDiff(px, here.grey)}`);
      }
      const better = a.negElbo < b.negElbo ? 'MNIST, 32-D' : 'MNIST, 2-D';
      assert.match(await text(page, 'compare-verdict'), new RegExp(`^“${better} latent .*” explains your drawing better: its −ELBO is [\\d.]+ nats lower`));
      assert.equal(await page.locator('#compare-recon-b').getAttribute('aria-label'), 'Compare: mnist-mlp-2 reconstructing your drawing at z = μ');
      assert.deepEqual(await axeViolations(page), [], 'both columns shown');

      // Clear: the drawing row says what to do again.
      await page.getByRole('button', { name: 'Clear', exact: true }).click();
      await page.waitForFunction(() => !document.getElementById('compare-draw-empty').hidden, null, { timeout: 10_000 });
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });

  test('two 4-D models with different image sizes: the same z decoded by each equals the main image and an independent decode, live as z moves', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=conv-tiny', { routes: fourModels });
    try {
      const { page, log } = s;
      await settle(page);
      assert.deepEqual(await options(page), ['', 'mnist-mlp-32', 'mnist-mlp-2', 'mlp-32x32']);
      await compareWith(page, 'mlp-32x32');
      assert.ok(await page.locator('#compare-z-differ').isHidden());
      assert.deepEqual(await size(page, 'compare-z-a'), [28, 28]);
      assert.deepEqual(await size(page, 'compare-z-b'), [32, 32], 'each model at its own image size');
      assert.equal(await page.getByRole('img', { name: 'Compare: mlp-32x32 decoding the current z', exact: true }).count(), 1);
      assert.equal(await page.getByRole('img', { name: 'Compare: conv-tiny decoding the current z', exact: true }).count(), 1);
      const box = await page.locator('#compare-z-b').boundingBox();
      const boxA = await page.locator('#compare-z-a').boundingBox();
      assert.deepEqual([box.width, box.height], [boxA.width, boxA.height], 'both shown at one display size');

      const check = async (label) => {
        const z = await sliderValues(page);
        const [here] = await independent(page, { models: ['/models/mlp-32x32/'], z });
        const want = here.p.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
        assert.deepEqual(await grey(page, 'compare-z-b'), want, `${label}: the other model's image is its decode of z = [${z}]`);
        assert.deepEqual(await grey(page, 'compare-z-a'), await decodedPixels(page), `${label}: the page's column is the main image`);
        return want;
      };
      const first = await check('at z = 0');
      // A burst of keys: the panel ends on the last z.
      const slider = page.getByRole('slider', { name: 'Latent dimension 1', exact: true });
      const n = await decodeCount(page);
      await slider.focus();
      for (let k = 0; k < 60; k++) await page.keyboard.press('ArrowRight');
      await waitForDecodesAfter(page, n);
      assert.ok(pixelDiff(first, await check('after moving dimension 1')) > 500, 'the other model\'s image followed z');

      // A drawing at 28×28 is resampled for the 32×32 model, and said so.
      const [a, b] = await drawAndScore(page);
      assert.ok(a.negElbo > 0 && b.negElbo > 0);
      assert.deepEqual(await size(page, 'compare-recon-b'), [32, 32]);
      assert.match(await text(page, 'compare-verdict'), /^The image sizes differ \(28×28 vs 32×32\).*resampled to 32×32 for “MLP 32×32, 4-D”\.$/);

      // The page switches to a 2-D model: the same z no longer applies, the other model stays.
      await switchPage(page, 'mnist-mlp-2');
      assert.equal(await picker(page).inputValue(), 'mlp-32x32');
      assert.deepEqual(await options(page), ['', 'mnist-mlp-32', 'conv-tiny', 'mlp-32x32']);
      assert.match(await text(page, 'compare-z-note'), /\(2 vs 4\)/);
      assert.ok(await page.locator('#compare-z-row').isHidden());
      // The page switches to the compared model: the two swap places.
      await switchPage(page, 'mlp-32x32');
      await page.waitForFunction(() => /runs on the CPU/.test(document.getElementById('compare-status').textContent), null, { timeout: 90_000 });
      await settle(page);
      assert.equal(await picker(page).inputValue(), 'mnist-mlp-2');
      assert.match(await text(page, 'compare-title-a'), /^MLP 32×32, 4-D/);
      assert.match(await text(page, 'compare-title-b'), /^MNIST, 2-D latent/);
      assert.match(await text(page, 'compare-z-note'), /\(4 vs 2\)/);
      // None: the columns go.
      await picker(page).selectOption('');
      assert.ok(await page.locator('#compare-table').isHidden());
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });

  test('dark mode: the columns, the figures and a message stay readable (axe-core)', T, async () => {
    // Playwright tries the routes registered last first: the 404 wins over the fixture's folder.
    const routes = [...fourModels, ['**/models/mlp-32x32/weights.bpk', (route) => route.fulfill({ status: 404, body: 'not found' })]];
    const s = await openPage(browser(), server, '?backend=cpu&model=conv-tiny', { routes, colorScheme: 'dark' });
    try {
      const { page } = s;
      await settle(page);
      await compareWith(page, 'mnist-mlp-2');
      await drawAndScore(page);
      assert.deepEqual(await axeViolations(page), [], 'both columns shown');
      // A failed pick keeps the comparison there is, and says why.
      await picker(page).selectOption('mlp-32x32');
      await page.waitForFunction(() => document.getElementById('compare-status').classList.contains('error'), null, { timeout: 60_000 });
      assert.equal(await picker(page).inputValue(), 'mnist-mlp-2');
      assert.ok(await page.locator('#compare-table').isVisible());
      assert.match(await text(page, 'compare-title-b'), /^MNIST, 2-D latent/);
      assert.deepEqual(await axeViolations(page), [], 'the message');
    } finally {
      await s.close();
    }
  });

  test('a model that cannot be opened: a message in words in the panel; nothing else changes and the page keeps working', T, async () => {
    const routes = [['**/models/mnist-mlp-2/weights.bpk', (route) => route.fulfill({ status: 404, body: 'not found' })]];
    const s = await openPage(browser(), server, '?backend=cpu', { routes });
    try {
      const { page, log } = s;
      await settle(page);
      await picker(page).selectOption('mnist-mlp-2');
      await page.waitForFunction(() => document.getElementById('compare-status').classList.contains('error'), null, { timeout: 60_000 });
      const message = await text(page, 'compare-status');
      assert.match(message, /^Could not open “MNIST, 2-D latent .*” for comparison: .+ The rest of the page is unaffected\.$/);
      assert.doesNotMatch(message, /undefined|\[object/);
      assert.equal(await picker(page).inputValue(), '', 'the picker goes back to None');
      assert.ok(await page.locator('#compare-table').isHidden());
      assert.ok(await page.locator('#error').isHidden(), 'no page-wide error');
      assert.deepEqual(await axeViolations(page), [], 'the message');
      assert.equal(await page.evaluate(() => document.body.dataset.model), 'mnist-mlp-32');
      const before = await decodedPixels(page);
      const n = await decodeCount(page);
      await page.getByRole('slider', { name: 'Latent dimension 1', exact: true }).focus();
      for (let k = 0; k < 40; k++) await page.keyboard.press('ArrowRight');
      await waitForDecodesAfter(page, n);
      assert.ok(pixelDiff(before, await decodedPixels(page)) > 200, 'the main image still follows z');
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});

describe('Compare models (page on WebGPU)', () => {
  const browser = browserForSuite({ webgpu: true });

  test('the page decodes on WebGPU, the other model on the CPU: the same z matches an independent CPU decode', T, async () => {
    const s = await openPage(browser(), server, '?backend=webgpu&model=conv-tiny', { routes: fourModels, readyTimeout: 150_000 });
    try {
      const { page, log } = s;
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'WebGPU');
      await settle(page);
      await compareWith(page, 'mlp-32x32');
      const z = await sliderValues(page);
      const [here] = await independent(page, { models: ['/models/mlp-32x32/'], z });
      assert.deepEqual(await grey(page, 'compare-z-b'), here.p.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
      assert.deepEqual(await grey(page, 'compare-z-a'), await decodedPixels(page));
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});
