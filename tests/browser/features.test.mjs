// Explorer features beyond the sliders, on both backends: the latent map (click, drag,
// keyboard, posterior ellipse), traversals, ordering by KL, interpolation and the palette,
// sampling, posterior samples, attribute vectors, the shareable URL and the latency display.

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
  sliders,
  SEVEN,
} from './harness.mjs';

const LOAD = { timeout: 180_000 };
const T = { timeout: 240_000 };

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

/** Waits until the page's encodes and grid decodes have stopped for `ms`. */
async function quiet(page, ms = 800) {
  await page.waitForFunction(
    (wait) =>
      new Promise((resolve) => {
        const count = () => window.vaeStats.encodeMs.length + Object.values(window.vaeStats.gridMs).reduce((a, v) => a + v.length, 0) + window.vaeStats.traversalMs.length;
        let last = count();
        let since = performance.now();
        const tick = () => {
          const now = count();
          if (now !== last) {
            last = now;
            since = performance.now();
          }
          if (performance.now() - since >= wait) resolve(true);
          else setTimeout(tick, 50);
        };
        tick();
      }),
    ms,
    { timeout: 60_000 },
  );
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
        const ranges = (await sliders(page)).map((el) => [el.min, el.max]);
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

        const [lo, hi] = await page.evaluate((i) => { const el = document.getElementById(`z-${i + 1}`); return [Number(el.min), Number(el.max)]; }, best);
        const count = await page.evaluate(() => window.vaeStats.traversalMs.length);
        const second = manifest.latent.map((l, i) => [l.kl_nats, i]).sort((a, b) => b[0] - a[0])[1][1];
        const other = page.locator(`#traversals .strip[data-dim="${second}"] canvas`);
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

    test('the first view: most informative dimensions first, inactive ones collapsed behind a button (keyboard too)', T, async () => {
      const s = await openPage(browser, server, query);
      try {
        const { page, log } = s;
        const manifest = await log.manifest();
        const byKl = manifest.latent.map((l, i) => [l.kl_nats, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((p) => p[1]);
        const domOrder = (sel, read) => page.evaluate(([q, r]) => [...document.querySelectorAll(q)].map((el) => (r === 'id' ? Number(el.id.slice(2)) - 1 : Number(el.dataset.dim))), [sel, read]);
        assert.equal(await page.getByLabel('Order dimensions').inputValue(), 'kl', 'by KL by default');
        assert.deepEqual(await domOrder('#sliders input[type=range]', 'id'), byKl);
        assert.deepEqual(await domOrder('#traversals .strip', 'dim'), byKl);
        const inactive = manifest.latent.map((l, i) => [l.active === false, i]).filter(([off]) => off).map(([, i]) => i);
        const visibleSliders = () => page.getByRole('slider', { name: /^Latent dimension \d+$/ }).count();
        const visibleStrips = () => page.getByRole('img', { name: /^Traversal of latent dimension/ }).count();
        const D = manifest.latent_dim;
        assert.equal(await page.locator('#sliders .tag').count(), inactive.length, 'inactive dimensions are flagged');
        assert.equal(await visibleSliders(), D - inactive.length);
        assert.equal(await visibleStrips(), D - inactive.length);
        const word = inactive.length === 1 ? 'dimension' : 'dimensions';
        const showSliders = page.locator('#sliders-inactive');
        if (inactive.length === 0) {
          assert.equal(await showSliders.isVisible(), false, 'nothing to collapse: no button');
        } else {
          assert.equal(await showSliders.textContent(), `Show ${inactive.length} inactive ${word}`);
          assert.equal(await showSliders.getAttribute('aria-expanded'), 'false');
          // Keyboard: Tab from the last visible slider reaches the button; Enter shows them all.
          const lastActive = byKl.filter((i) => !inactive.includes(i)).at(-1);
          await page.locator(`#z-${lastActive + 1}`).focus();
          await page.keyboard.press('Tab');
          assert.equal(await page.evaluate(() => document.activeElement.id), 'sliders-inactive');
          await page.keyboard.press('Enter');
          assert.equal(await visibleSliders(), D);
          assert.equal(await visibleStrips(), D, 'the strips follow');
          assert.equal(await showSliders.textContent(), `Hide the ${inactive.length} inactive ${word}`);
          assert.equal(await showSliders.getAttribute('aria-expanded'), 'true');
          await page.locator(`#z-${inactive[0] + 1}`).focus();
          await page.keyboard.press('ArrowRight');
          assert.notEqual(Number(await page.locator(`#z-${inactive[0] + 1}`).inputValue()), 0, 'an inactive slider works by keyboard once shown');
          // Hiding with the focus on a hidden row leaves the focus on the button.
          await page.locator('#strips-inactive').click();
          assert.equal(await visibleSliders(), D - inactive.length);
        }
        await page.getByLabel('Order dimensions').selectOption('index');
        const back = await domOrder('#sliders input[type=range]', 'id');
        assert.deepEqual(back, [...back.keys()]);
        assert.deepEqual(log.pageErrors, []);
      } finally {
        await s.close();
      }
    });

    test('interpolation: anchors, strip (linear/slerp), palette, play, A − B + C', T, async () => {
      const s = await openPage(browser, server, query);
      try {
        const { page, log } = s;
        const D = (await log.manifest()).latent_dim;
        const url = async () => {
          await page.waitForTimeout(400); // the address is updated 250 ms after a change
          return new URL(page.url()).searchParams;
        };
        const vec = (text) => text.split(',').map(Number);
        await page.waitForFunction(() => (window.vaeStats.gridMs.palette ?? []).length > 0, null, { timeout: 60_000 });

        // Set B from a new z: the strip's last image and anchor B follow.
        await page.getByRole('button', { name: 'Sample from prior' }).click();
        await settle(page);
        const strip = page.getByRole('img', { name: 'Interpolation from A to B' });
        const stripBefore = await strip.evaluate((c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data));
        const n = await page.evaluate(() => window.vaeStats.gridMs.interpolation.length);
        await page.getByRole('button', { name: 'Set B' }).click();
        await page.waitForFunction((k) => window.vaeStats.gridMs.interpolation.length > k, n);
        const p = await url();
        const z = await sliderValues(page);
        const b = vec(p.get('b'));
        assert.equal(b.length, D);
        const zExact = vec(p.get('z'));
        assert.ok(b.every((v, i) => Math.abs(v - zExact[i]) < 1e-3), 'B = z');
        const stripAfter = await strip.evaluate((c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data));
        assert.ok(pixelDiff(stripBefore, stripAfter) > 0, 'the strip changed');

        // Click the middle image: z = (A + B) / 2 (linear).
        const a = vec(p.get('a'));
        await strip.scrollIntoViewIfNeeded();
        let box = await strip.boundingBox();
        let m = await decodeCount(page);
        await page.mouse.click(box.x + (4.5 / 9) * box.width, box.y + box.height / 2);
        await waitForDecodesAfter(page, m);
        let zNow = vec((await url()).get('z'));
        assert.ok(zNow.every((v, i) => Math.abs(v - (a[i] + b[i]) / 2) < 2e-3), 'the middle of the linear path');

        // Slerp: the middle keeps the average norm instead.
        const before = await page.evaluate(() => window.vaeStats.gridMs.interpolation.length);
        await page.getByLabel('Spherical (slerp)').check();
        assert.equal((await url()).get('interp'), 'slerp');
        await page.waitForFunction((k) => window.vaeStats.gridMs.interpolation.length > k, before);
        m = await decodeCount(page);
        await page.mouse.click(box.x + (4.5 / 9) * box.width, box.y + box.height / 2);
        await waitForDecodesAfter(page, m);
        zNow = vec((await url()).get('z'));
        const norm = (v) => Math.hypot(...v);
        assert.ok(Math.abs(norm(zNow) - (norm(a) + norm(b)) / 2) < 0.01, `slerp midpoint norm ${norm(zNow)} vs ${(norm(a) + norm(b)) / 2}`);

        // Palette: its top-left cell is A.
        const palette = page.getByRole('img', { name: /^Palette blending/ });
        await palette.scrollIntoViewIfNeeded();
        box = await palette.boundingBox();
        m = await decodeCount(page);
        await page.mouse.click(box.x + 5, box.y + 5);
        await waitForDecodesAfter(page, m);
        zNow = vec((await url()).get('z'));
        assert.ok(zNow.every((v, i) => Math.abs(v - a[i]) < 2e-3), 'top-left of the palette is A');

        // A − B + C.
        const c = vec((await url()).get('c'));
        await page.getByRole('button', { name: 'z = A − B + C' }).click();
        zNow = vec((await url()).get('z'));
        assert.ok(zNow.every((v, i) => Math.abs(v - (a[i] - b[i] + c[i])) < 3e-3), 'latent arithmetic');

        // Play animates z until pressed again.
        const play = page.getByRole('button', { name: 'Play A → B → A' });
        await play.click();
        assert.equal(await play.getAttribute('aria-pressed'), 'true');
        // (On SwiftShader each frame's decode waits behind the grids' batches: give it time.)
        const frames = await decodeCount(page);
        await page.waitForFunction((k) => window.vaeStats.decodeMs.length > k + 2, frames, { timeout: 60_000 });
        await play.click();
        assert.equal(await play.getAttribute('aria-pressed'), 'false');
        assert.deepEqual(log.pageErrors, []);
        void z;
      } finally {
        await s.close();
      }
    });

    test('samples, posterior samples and attribute vectors', T, async () => {
      const s = await openPage(browser, server, query);
      try {
        const { page, log } = s;
        const manifest = await log.manifest();
        await page.waitForFunction(() => (window.vaeStats.gridMs['prior samples'] ?? []).length > 0, null, { timeout: 60_000 });
        const grid = page.getByRole('img', { name: 'Prior samples' });
        const gridPixels = () => grid.evaluate((c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data));
        const g0 = await gridPixels();
        let k = await page.evaluate(() => window.vaeStats.gridMs['prior samples'].length);
        await page.getByRole('button', { name: 'New samples' }).click();
        await page.waitForFunction((n) => window.vaeStats.gridMs['prior samples'].length > n, k);
        assert.ok(pixelDiff(g0, await gridPixels()) > 0, 'new samples');
        // Temperature: the slider redraws the grid and goes into the address.
        k = await page.evaluate(() => window.vaeStats.gridMs['prior samples'].length);
        await page.getByLabel('Temperature').focus();
        for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowLeft');
        await page.waitForFunction((n) => window.vaeStats.gridMs['prior samples'].length > n, k);
        assert.equal(await page.locator('#temperature-value').textContent(), '0.70');
        // Clicking a sample moves z there.
        const z0 = await sliderValues(page);
        await grid.scrollIntoViewIfNeeded();
        const box = await grid.boundingBox();
        const m = await decodeCount(page);
        await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.6);
        await waitForDecodesAfter(page, m);
        assert.notDeepEqual(await sliderValues(page), z0, 'z moved to the sample');

        // Posterior samples appear after a drawing, and differ from each other.
        const post = page.getByRole('img', { name: 'Posterior samples' });
        await drawStrokes(page, SEVEN);
        await page.waitForFunction(() => (window.vaeStats.gridMs['posterior samples'] ?? []).length > 0, null, { timeout: 60_000 });
        const cells = await post.evaluate((c) => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          return Array.from({ length: 9 }, (_, k) => { let s = 0; for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) s += d[(y * c.width + k * 28 + x) * 4]; return s; });
        });
        assert.ok(cells.every((v) => v > 0), 'nine images with ink');
        assert.ok(new Set(cells).size > 1, 'the samples differ');
        // The drawing's last encode may still land (and set z to μ): wait for quiet first
        // (longer on SwiftShader, where one batch takes seconds).
        await page.waitForFunction(() => window.vaeStats.encodeMs.length > 0, null, { timeout: 60_000 });
        await quiet(page, webgpu ? 4000 : 800);
        await settle(page);

        // Attribute vector: strength 0.5 towards a 1 moves z by half the class direction.
        const classes = manifest.map.classes;
        const total = classes.reduce((a, c) => a + c.count, 0);
        const overall = classes[0].mean.map((_, i) => classes.reduce((a, c) => a + (c.count / total) * c.mean[i], 0));
        const one = classes.find((c) => c.label === 1).mean;
        await page.getByLabel('Towards digit').selectOption('1');
        await page.waitForTimeout(400);
        const zBase = new URL(page.url()).searchParams.get('z').split(',').map(Number);
        await page.getByLabel('Strength').focus();
        const n = await decodeCount(page);
        for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
        await waitForDecodesAfter(page, n);
        assert.equal(await page.locator('#attribute-value').textContent(), '+0.50');
        await page.waitForTimeout(400);
        const zNow = new URL(page.url()).searchParams.get('z').split(',').map(Number);
        const want = zBase.map((v, i) => v + 0.5 * (one[i] - overall[i]));
        const worst = Math.max(...zNow.map((v, i) => Math.abs(v - want[i])));
        assert.ok(worst < 0.01, `z = z0 + 0.5 (m1 − m̄): max error ${worst}`);
        assert.deepEqual(log.pageErrors, []);
      } finally {
        await s.close();
      }
    });

    test('the address restores the same view; the latency table opens in the page', T, async () => {
      const s = await openPage(browser, server, query);
      try {
        const { page } = s;
        const n = await decodeCount(page);
        await page.getByRole('button', { name: 'Sample from prior' }).click();
        await waitForDecodesAfter(page, n, 120_000);
        // Away from the defaults: by number, inactive dimensions shown.
        await page.getByLabel('Order dimensions').selectOption('index');
        const show = page.getByRole('button', { name: /^Show \d+ inactive dimension/ });
        if (await show.count()) await show.first().click();
        const visible = () => page.getByRole('slider', { name: /^Latent dimension \d+$/ }).count();
        const shown = await visible();
        await page.getByRole('button', { name: 'Set C' }).click();
        await page.waitForTimeout(500);
        const shared = page.url();
        const sp = new URL(shared).searchParams;
        for (const key of ['model', 'z', 'a', 'b', 'c', 'd', 'order', 'inactive', 'interp', 't']) assert.ok(sp.has(key), `the address has ${key}`);
        assert.equal(sp.get('order'), 'index');
        assert.equal(sp.get('inactive'), 'shown');
        const z = await sliderValues(page);
        const pixels = await decodedPixels(page);
        const order = await page.evaluate(() => [...document.querySelectorAll('input[type=range][id^="z-"]')].map((el) => el.id));

        // Latency: rows for the main image and the traversals, with numbers, and the backend.
        await page.waitForFunction(() => window.vaeStats.traversalMs.length > 0, null, { timeout: 120_000 });
        await page.waitForTimeout(300);
        // In the page's flow, collapsed until asked for.
        const latency = page.getByRole('table', { name: /Latency per operation/ });
        assert.equal(await latency.isVisible(), false);
        await page.locator('#latency summary').click();
        assert.ok(await latency.isVisible());
        const text = await latency.textContent();
        assert.match(text, /image\s*[\d.]+\s*[\d.]+/);
        assert.match(text, /traversals/);
        assert.match(await page.locator('#latency-backend').textContent(), webgpu ? /WebGPU/ : /CPU/);

        const again = await openPage(browser, server, shared.slice(server.url.length));
        try {
          // The address keeps 3 decimals; the sliders step by 0.01.
          const z2 = await sliderValues(again.page);
          assert.ok(z2.every((v, i) => Math.abs(v - z[i]) <= 0.011), 'same z');
          assert.deepEqual(await again.page.evaluate(() => [...document.querySelectorAll('input[type=range][id^="z-"]')].map((el) => el.id)), order, 'same order');
          assert.equal(await again.page.getByRole('slider', { name: /^Latent dimension \d+$/ }).count(), shown, 'the inactive dimensions shown again');
          const pixels2 = await decodedPixels(again.page);
          const worst = Math.max(...pixels.map((v, i) => Math.abs(v - pixels2[i])));
          assert.ok(worst <= 3, `the same image (max difference ${worst} grey levels)`);
          assert.equal(await again.page.evaluate(() => document.getElementById('error').hidden), true, 'no error');
        } finally {
          await again.close();
        }

        // A z that does not fit the model is reported and ignored.
        const bad = await openPage(browser, server, `${query}&z=1,2,3`);
        try {
          assert.match(await bad.page.locator('#error').textContent(), /z \(expected \d+ numbers\)/);
        } finally {
          await bad.close();
        }
      } finally {
        await s.close();
      }
    });

    test('"Model" switches in place; a model that fails to load leaves the current one active', T, async () => {
      const two = index.models.find((m) => /-2$/.test(m.name));
      const garbage = Buffer.from('not a burnpack file');
      const s = await openPage(browser, server, query, {
        routes: [[`**/${two.path}weights.bpk`, (route) => (globalThis.breakTwo ? route.fulfill({ status: 200, body: garbage }) : route.continue())]],
      });
      try {
        const { page } = s;
        const D = (await sliderValues(page)).length;
        assert.ok(D > 2);
        // A broken bundle: message, and the N-D model stays (sliders, select, working decodes).
        globalThis.breakTwo = true;
        await page.getByLabel('Model', { exact: true }).selectOption(two.name);
        await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: 60_000 });
        assert.match(await page.locator('#error').textContent(), /previous model stays active/);
        assert.equal((await sliderValues(page)).length, D);
        assert.equal(await page.getByLabel('Model', { exact: true }).inputValue(), index.models[0].name);
        let n = await decodeCount(page);
        await page.getByRole('button', { name: 'Sample from prior' }).click();
        await waitForDecodesAfter(page, n, 120_000);

        // The real bundle: no navigation, two sliders, the exact latent map, the address follows.
        globalThis.breakTwo = false;
        await page.evaluate(() => { window.notReloaded = true; });
        n = await decodeCount(page);
        await page.getByLabel('Model', { exact: true }).selectOption(two.name);
        await page.waitForFunction(() => document.body.dataset.model === 'mnist-mlp-2', null, { timeout: 120_000 });
        await waitForDecodesAfter(page, n, 120_000);
        assert.equal(await page.evaluate(() => window.notReloaded), true, 'switched in place');
        assert.equal((await sliderValues(page)).length, 2);
        assert.match(await page.locator('#map-caption').textContent(), /whole 2-D latent space/);
        await page.waitForTimeout(400);
        assert.equal(new URL(page.url()).searchParams.get('model'), two.name);
        assert.deepEqual(s.log.pageErrors, []);
      } finally {
        await s.close();
      }
    });
  });
}

describe('touch (CPU)', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser({ webgpu: false });
  }, LOAD);
  after(async () => {
    await browser?.close();
  });

  test('tapping the latent map, a traversal image and a prior sample moves z', T, async () => {
    const s = await openPage(browser, server, '?backend=cpu', { hasTouch: true });
    try {
      const { page } = s;
      await page.waitForFunction(() => window.vaeStats.traversalMs.length > 0 && (window.vaeStats.gridMs['prior samples'] ?? []).length > 0, null, { timeout: 60_000 });
      const targets = [
        [mapCanvas(page), 0.8, 0.2],
        [page.locator('#traversals canvas').first(), 0.95, 0.5],
        [page.getByRole('img', { name: 'Prior samples' }), 0.6, 0.6],
      ];
      for (const [target, fx, fy] of targets) {
        await target.scrollIntoViewIfNeeded();
        const box = await target.boundingBox();
        const z0 = await sliderValues(page);
        const n = await decodeCount(page);
        await page.touchscreen.tap(box.x + fx * box.width, box.y + fy * box.height);
        await waitForDecodesAfter(page, n);
        assert.notDeepEqual(await sliderValues(page), z0, 'a tap moved z');
      }
      assert.deepEqual(s.log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});

describe('theory captions (CPU)', () => {
  let browser;
  before(async () => {
    browser = await launchBrowser({ webgpu: false });
  }, LOAD);
  after(async () => {
    await browser?.close();
  });

  test('the page ties what it shows to the VAE: encoder, reparameterisation, decoder, KL, continuity', T, async () => {
    const s = await openPage(browser, server, '?backend=cpu');
    try {
      const text = (await s.page.locator('body').innerText()).replace(/\s+/g, ' ');
      for (const [what, pattern] of [
        ['the encoder gives q(z|x) = N(μ, diag σ²)', /encoder maps an image x to q\(z\|x\) = 𝒩\(μ, diag σ2?²?\)/],
        ['the reparameterisation', /z = μ \+ σ ⊙ ε, ε ~ 𝒩\(0, I\)/],
        ['the decoder outputs Bernoulli means', /decoder maps z to p\(x\|z\).*Bernoulli/],
        ['the loss: BCE + KL in closed form', /BCE reconstruction \+ KL/],
        ['why the space is continuous', /posteriors of different images overlap/],
        ['why interpolation stays on the shell', /sphere of radius √D/],
        ['what the temperature does', /𝒩\(0, T2?²?I\)/],
        ['what the map shows', /encoding μ of one of 2,000 test images/],
      ]) {
        assert.match(text, pattern, what);
      }
    } finally {
      await s.close();
    }
  });
});
