// Explorer features beyond the sliders, on both backends: the latent map (click, drag,
// keyboard, posterior ellipse), traversals, ordering by KL.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ROOT,
  startServer,
  launchBrowser,
  openPage,
  decodedPixels,
  sliderValues,
  decodeCount,
  waitForDecodesAfter,
  settle,
  pixelDiff,
  drawStrokes,
} from './harness.mjs';

const LOAD = { timeout: 180_000 };
const T = { timeout: 120_000 };
const SEVEN = [[[0.25, 0.2], [0.75, 0.2], [0.42, 0.88]]];

let server;
let index;
before(async () => {
  server = await startServer();
  index = JSON.parse(await readFile(path.join(ROOT, 'models', 'index.json'), 'utf8'));
});
after(async () => {
  await server?.stop();
});

/** The map canvas (its section is also named "Latent map", by its heading). */
const mapCanvas = (page) => page.getByRole('application', { name: 'Latent map' });

/** The map canvas's own pixels (RGBA). */
function mapPixels(page) {
  return mapCanvas(page).evaluate((c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data));
}

/** Clicks the map at a fraction (fx, fy) of its width and height. */
async function clickMap(page, fx, fy) {
  await mapCanvas(page).scrollIntoViewIfNeeded();
  const box = await mapCanvas(page).boundingBox();
  const n = await decodeCount(page);
  await page.mouse.click(box.x + fx * box.width, box.y + fy * box.height);
  await waitForDecodesAfter(page, n);
}

for (const webgpu of [false, true]) {
  const query = webgpu ? '?backend=webgpu' : '?backend=cpu';
  describe(`latent map (${webgpu ? 'WebGPU' : 'CPU'})`, () => {
    let browser;
    before(async () => {
      browser = await launchBrowser({ webgpu });
    }, LOAD);
    after(async () => {
      await browser?.close();
    });

    test('2-D model: the map is the latent plane; a click puts z exactly there', T, async () => {
      const two = index.models.find((m) => /-2$/.test(m.name));
      const s = await openPage(browser, server, `${query}&model=${two.name}`);
      try {
        const { page } = s;
        assert.equal(await page.evaluate(() => document.body.dataset.backend), webgpu ? 'WebGPU' : 'CPU');
        assert.equal(await page.locator('#map-legend li').count(), 10, 'a legend entry per digit');
        assert.match(await page.locator('#map-caption').textContent(), /whole 2-D latent space/);
        const ranges = await page.evaluate(() => [...document.querySelectorAll('input[type=range]')].map((el) => [Number(el.min), Number(el.max)]));
        const before = await decodedPixels(page);
        await clickMap(page, 0.25, 0.25);
        const [z1, z2] = await sliderValues(page);
        const want1 = ranges[0][0] + 0.25 * (ranges[0][1] - ranges[0][0]);
        const want2 = ranges[1][1] - 0.25 * (ranges[1][1] - ranges[1][0]);
        // One canvas pixel of the 480-px map is 1/480 of the range; a slider step is 0.01.
        assert.ok(Math.abs(z1 - want1) < 0.05 && Math.abs(z2 - want2) < 0.05, `z (${z1}, ${z2}), want (${want1}, ${want2})`);
        assert.ok(pixelDiff(before, await decodedPixels(page)) > 0, 'the image changed');

        // Dragging moves z along with the pointer.
        await mapCanvas(page).scrollIntoViewIfNeeded();
        const box = await mapCanvas(page).boundingBox();
        const n = await decodeCount(page);
        await page.mouse.move(box.x + 0.25 * box.width, box.y + 0.25 * box.height);
        await page.mouse.down();
        for (let k = 1; k <= 5; k++) await page.mouse.move(box.x + (0.25 + 0.1 * k) * box.width, box.y + 0.25 * box.height);
        await page.mouse.up();
        await waitForDecodesAfter(page, n);
        const [d1, d2] = await sliderValues(page);
        const wantD1 = ranges[0][0] + 0.75 * (ranges[0][1] - ranges[0][0]);
        assert.ok(Math.abs(d1 - wantD1) < 0.05 && Math.abs(d2 - want2) < 0.05, `after the drag z = (${d1}, ${d2})`);
      } finally {
        await s.close();
      }
    });

    test('N-D model: clicking, keyboard and a drawing move the cross and the posterior on the map', T, async () => {
      const s = await openPage(browser, server, query);
      try {
        const { page } = s;
        assert.match(await page.locator('#map-caption').textContent(), /principal components/);
        const z0 = await sliderValues(page);
        await clickMap(page, 0.7, 0.3);
        const z1 = await sliderValues(page);
        assert.ok(z1.some((v, i) => Math.abs(v - z0[i]) > 0.05), 'the click changed z');

        // Keyboard: arrows on the focused map move z.
        await mapCanvas(page).focus();
        const n = await decodeCount(page);
        for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowLeft');
        await waitForDecodesAfter(page, n);
        const z2 = await sliderValues(page);
        assert.ok(z2.some((v, i) => Math.abs(v - z1[i]) > 0.01), 'the arrow keys changed z');

        // A drawing adds its posterior ellipse (blue) to the map.
        const blue = (px) => {
          let k = 0;
          for (let i = 0; i < px.length; i += 4) if (px[i] < 40 && px[i + 1] > 60 && px[i + 1] < 120 && px[i + 2] > 170) k++;
          return k;
        };
        const beforeDraw = blue(await mapPixels(page));
        const m = await decodeCount(page);
        await drawStrokes(page, SEVEN);
        await waitForDecodesAfter(page, m);
        await settle(page);
        await page.waitForTimeout(100);
        const afterDraw = blue(await mapPixels(page));
        assert.ok(afterDraw > beforeDraw + 20, `the posterior ellipse is drawn (${beforeDraw} → ${afterDraw} blue pixels)`);
      } finally {
        await s.close();
      }
    });

    test('traversals: a strip of 9 images per dimension, click and keyboard jump there', T, async () => {
      const s = await openPage(browser, server, query);
      try {
        const { page, log } = s;
        const manifest = await log.manifest();
        const D = manifest.latent_dim;
        await page.waitForFunction(() => window.vaeStats.traversalMs.length > 0, null, { timeout: 60_000 });
        const strips = page.locator('#traversals canvas');
        assert.equal(await strips.count(), D, 'one strip per latent dimension');
        const best = manifest.latent.map((l, i) => [l.kl_nats, i]).sort((a, b) => b[0] - a[0])[0][1];
        const strip = page.getByRole('img', { name: new RegExp(`^Traversal of latent dimension ${best + 1}:`) });
        assert.equal(await strip.evaluate((c) => [c.width, c.height].join('x')), `${9 * 28}x28`);
        // The strip's images differ from each other: the dimension matters.
        const cells = await strip.evaluate((c) => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const cell = (k) => { let s = 0; for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) s += d[(y * c.width + k * 28 + x) * 4]; return s; };
          return [cell(0), cell(8)];
        });
        assert.notEqual(cells[0], cells[1], 'the first and last images of the strip differ');

        const [lo, hi] = await page.evaluate((i) => { const el = document.querySelectorAll('input[type=range]')[i]; return [Number(el.min), Number(el.max)]; }, best);
        const count = await page.evaluate(() => window.vaeStats.traversalMs.length);
        const other = page.locator('#traversals canvas').nth(best === 0 ? 1 : 0);
        const otherBefore = await other.evaluate((c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data));
        await strip.scrollIntoViewIfNeeded();
        const box = await strip.boundingBox();
        const n = await decodeCount(page);
        await page.mouse.click(box.x + (6.5 / 9) * box.width, box.y + box.height / 2);
        await waitForDecodesAfter(page, n);
        const z = await sliderValues(page);
        const want = lo + ((hi - lo) * 6) / 8;
        assert.ok(Math.abs(z[best] - want) < 0.011, `z[${best}] = ${z[best]}, want ${want}`);
        // The other strips follow the new z.
        await page.waitForFunction((k) => window.vaeStats.traversalMs.length > k, count, { timeout: 60_000 });
        await settle(page);
        const otherAfter = await other.evaluate((c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data));
        assert.ok(pixelDiff(otherBefore, otherAfter) > 0, 'another strip was redrawn for the new z');

        // Keyboard: focus the strip, two steps left, Enter.
        await strip.focus();
        const m = await decodeCount(page);
        await page.keyboard.press('ArrowLeft');
        await page.keyboard.press('ArrowLeft');
        await page.keyboard.press('Enter');
        await waitForDecodesAfter(page, m);
        const z2 = await sliderValues(page);
        const want2 = lo + ((hi - lo) * 4) / 8;
        assert.ok(Math.abs(z2[best] - want2) < 0.011, `after the keys z[${best}] = ${z2[best]}, want ${want2}`);
        assert.deepEqual(log.pageErrors, []);
      } finally {
        await s.close();
      }
    });

    test('"Order dimensions" by KL puts the most informative sliders and strips first', T, async () => {
      const s = await openPage(browser, server, query);
      try {
        const { page, log } = s;
        const manifest = await log.manifest();
        const byKl = manifest.latent.map((l, i) => [l.kl_nats, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((p) => p[1]);
        await page.getByLabel('Order dimensions').selectOption('kl');
        const sliderOrder = await page.evaluate(() => [...document.querySelectorAll('input[type=range]')].map((el) => Number(el.id.slice(2)) - 1));
        const stripOrder = await page.evaluate(() => [...document.querySelectorAll('#traversals .strip')].map((el) => Number(el.dataset.dim)));
        assert.deepEqual(sliderOrder, byKl);
        assert.deepEqual(stripOrder, byKl);
        // Inactive dimensions come last and are flagged.
        const inactive = manifest.latent.filter((l) => !l.active).length;
        assert.equal(await page.locator('#sliders .tag').count(), inactive);
        await page.getByLabel('Order dimensions').selectOption('index');
        const back = await page.evaluate(() => [...document.querySelectorAll('input[type=range]')].map((el) => Number(el.id.slice(2)) - 1));
        assert.deepEqual(back, [...back.keys()]);
      } finally {
        await s.close();
      }
    });
  });
}
