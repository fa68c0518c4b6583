// The 2-D manifold panel: for the 2-D model, the lattice of decoded images at the prior's
// quantiles; a cell clicked moves z to exactly that cell's z (the sliders and the decoded image
// agree with the lattice); the ring marks z; zooming narrows the window around z; a larger
// model gets a note instead. Numbers checked against Φ⁻¹ computed here.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, browserForSuite, openPage, settle, sliderValues, decodedPixels, decodeCount, waitForDecodesAfter, canvasGrey } from './harness.mjs';
import { normalQuantile } from '../../www/lib/manifold.js';

const T = { timeout: 180_000 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** The grey levels of lattice cell (row, col) of 28 × 28 images. */
function cell(page, row, col) {
  return page.locator('#manifold').evaluate(canvasGrey, [col * 28, row * 28, 28, 28]);
}

async function painted(page, after = 0) {
  await page.waitForFunction((k) => (window.vaeStats.gridMs.manifold?.length ?? 0) > k, after, { timeout: 60_000 });
  await settle(page);
}

async function clickCell(page, n, row, col) {
  await page.locator('#manifold').scrollIntoViewIfNeeded();
  const box = await page.locator('#manifold').boundingBox();
  const before = await decodeCount(page);
  await page.mouse.click(box.x + ((col + 0.5) / n) * box.width, box.y + ((row + 0.5) / n) * box.height);
  await waitForDecodesAfter(page, before);
}

describe('the 2-D manifold (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('the 2-D model: a cell clicked is where z goes, the image matches the cell, the ring follows, zoom narrows', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-2');
    try {
      const { page, log } = s;
      await painted(page);
      const n = 15;
      assert.deepEqual(await page.locator('#manifold').evaluate((c) => [c.width, c.height]), [n * 28, n * 28]);
      assert.equal(await page.locator('#manifold-note').isVisible(), false);
      // The ring sits on the centre cell for z = 0.
      const ring = () => page.locator('#manifold-marker').evaluate((m) => [parseFloat(m.style.left), parseFloat(m.style.top), m.hidden]);
      const [x0, y0, hidden0] = await ring();
      assert.ok(!hidden0 && Math.abs(x0 - 50) < 0.01 && Math.abs(y0 - 50) < 0.01, `ring at (${x0} %, ${y0} %)`);

      // Row 2, column 11: x = Φ⁻¹(p₁₁), y = Φ⁻¹(p from the top).
      const p = (k) => 0.05 + (0.9 * k) / (n - 1);
      const [row, col] = [2, 11];
      const want = [normalQuantile(p(col)), normalQuantile(p(n - 1 - row))];
      const expected = await cell(page, row, col);
      await clickCell(page, n, row, col);
      const z = await sliderValues(page);
      assert.ok(Math.abs(z[0] - want[0]) < 0.006 && Math.abs(z[1] - want[1]) < 0.006, `z = (${z}), want (${want})`);
      const image = await decodedPixels(page);
      const worst = Math.max(...image.map((v, i) => Math.abs(v - expected[i])));
      assert.ok(worst <= 1, `the decoded image is the cell's (max difference ${worst})`);
      const [x1, y1] = await ring();
      assert.ok(Math.abs(x1 - (100 * (col + 0.5)) / n) < 0.05 && Math.abs(y1 - (100 * (row + 0.5)) / n) < 0.05, `ring on the cell: (${x1} %, ${y1} %)`);

      // Zoom in around z: the corner cells' z come closer to z.
      const count = await page.evaluate(() => window.vaeStats.gridMs.manifold.length);
      await page.getByRole('button', { name: 'Zoom in around z' }).click();
      await painted(page, count);
      assert.equal(await page.locator('#manifold-zoom').textContent(), '×2');
      await clickCell(page, n, 0, 0);
      const corner = await sliderValues(page);
      const fullCorner = [normalQuantile(p(0)), normalQuantile(p(n - 1))];
      assert.ok(Math.hypot(corner[0] - want[0], corner[1] - want[1]) < Math.hypot(fullCorner[0] - want[0], fullCorner[1] - want[1]), `zoomed corner ${corner} is nearer ${want} than ${fullCorner}`);
      assert.equal(await page.getByRole('button', { name: 'Zoom out' }).isEnabled(), true);
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });

  test('a larger model gets a note instead of a lattice; the 2-D one brings the lattice back', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32');
    try {
      const { page } = s;
      await settle(page);
      assert.equal(await page.locator('#manifold-note').isVisible(), true);
      assert.equal(await page.locator('#manifold').isVisible(), false);
      await page.locator('#model-select').selectOption('mnist-mlp-2');
      await page.waitForFunction(() => document.body.dataset.model === 'mnist-mlp-2', null, { timeout: 60_000 });
      await painted(page);
      assert.equal(await page.locator('#manifold').isVisible(), true);
      assert.equal(await page.locator('#manifold-note').isVisible(), false);
    } finally {
      await s.close();
    }
  });
});
