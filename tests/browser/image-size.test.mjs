// A model whose images are not 28×28: the page takes the size from the bundle's manifest
// (`image: {width, height}`) for the decoded image, the encoder input, the preprocessing, the
// traversal strips and the grids. The bundle is tests/fixtures/mlp-32x32/ (32×32 images, an
// MLP with a small latent), served in place of the shipped model list.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT,
  startServer,
  browserForSuite,
  openPage,
  decodedPixels,
  sliders,
  sliderValues,
  settle,
  pixelStats,
  drawStrokes,
  directoryRoute,
  SEVEN,
} from './harness.mjs';

const T = { timeout: 240_000 };
const NAME = 'mlp-32x32';
const FIXTURE = path.join(ROOT, 'tests', 'fixtures', NAME);

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** The page's model list names only the fixture, whose files are served from tests/fixtures. */
const routes = [
  ['**/models/index.json', (route) => route.fulfill({ json: { models: [{ name: NAME, title: 'Fixture, 32×32 images', path: `${NAME}/` }] } })],
  directoryRoute(`**/models/${NAME}/*`, FIXTURE),
];

/** A canvas by id: its size and its grey levels (red channel). */
function canvas(page, id) {
  return page.locator(`#${id}`).evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return { w: c.width, h: c.height, grey: Array.from({ length: c.width * c.height }, (_, i) => d[i * 4]) };
  });
}

for (const { backend, webgpu, label } of [
  { backend: 'cpu', webgpu: false, label: 'CPU' },
  { backend: 'webgpu', webgpu: true, label: 'WebGPU' },
]) {
  describe(`a 32×32 model (${label} backend)`, () => {
    const browser = browserForSuite({ webgpu });

    test('decoded image, encoder input, traversal strips and grids are 32×32 per image, and drawing encodes', T, async () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'manifest.json'), 'utf8'));
      assert.deepEqual(manifest.image, { width: 32, height: 32 }, 'the fixture has 32×32 images');
      const s = await openPage(browser(), server, `?backend=${backend}`, { routes, readyTimeout: 150_000 });
      try {
        const { page, log } = s;
        assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', await page.locator('#error').textContent());
        assert.equal(await page.evaluate(() => document.body.dataset.model), NAME);
        assert.equal(await page.evaluate(() => document.body.dataset.backend), label);
        const dim = manifest.latent_dim;
        assert.equal((await sliders(page)).length, dim, 'one slider per latent dimension');
        await settle(page);

        const decoded = await canvas(page, 'decoded');
        assert.deepEqual([decoded.w, decoded.h], [32, 32]);
        const stats = pixelStats(await decodedPixels(page));
        assert.ok(stats.max > stats.min && stats.std > 1, `the decoded image is not blank (${JSON.stringify(stats)})`);

        // Every strip: 9 images of 32×32, painted.
        await page.waitForFunction(() => window.vaeStats.traversalMs.length > 0, null, { timeout: 60_000 });
        const strips = await page.locator('#traversals canvas').evaluateAll((cs) =>
          cs.map((c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let ink = 0;
            for (let i = 0; i < d.length; i += 4) ink += d[i];
            return { w: c.width, h: c.height, ink };
          }),
        );
        assert.equal(strips.length, dim);
        for (const strip of strips) {
          assert.deepEqual([strip.w, strip.h], [9 * 32, 32]);
          assert.ok(strip.ink > 0, 'the strip is painted');
        }
        const prior = await canvas(page, 'prior-grid');
        assert.deepEqual([prior.w, prior.h], [8 * 32, 4 * 32]);
        const anchor = await canvas(page, 'anchor-a');
        assert.deepEqual([anchor.w, anchor.h], [32, 32]);

        // A drawing: the encoder sees it at 32×32 and z moves to its posterior mean.
        const z = await sliderValues(page);
        const encodes = await page.evaluate(() => window.vaeStats.encodeMs.length);
        await drawStrokes(page, SEVEN);
        await page.waitForFunction((n) => window.vaeStats.encodeMs.length > n, encodes, { timeout: 60_000 });
        await settle(page);
        const input = await canvas(page, 'encoder-input');
        assert.deepEqual([input.w, input.h], [32, 32]);
        assert.ok(pixelStats(input.grey).mean > 5, 'the encoder input has ink');
        assert.equal(await page.getByRole('img', { name: 'Encoder input (32×32)', exact: true }).count(), 1);
        assert.notDeepEqual(await sliderValues(page), z, 'z moved to the drawing’s posterior');
        assert.equal(await page.locator('.slider-posterior').first().textContent().then((t) => /^μ /.test(t)), true);

        assert.equal(await page.getByRole('alert').isVisible(), false, await page.locator('#error').textContent());
        assert.deepEqual(log.pageErrors, []);
      } finally {
        await s.close();
      }
    });
  });
}
