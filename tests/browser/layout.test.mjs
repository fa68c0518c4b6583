// The page on any screen, for everyone, at a desktop size (1400 × 1000) and a phone size
// (390 × 844, touch): axe-core finds no WCAG 2.1 A/AA violation (also with the inactive
// dimensions shown, the Training panel open and in dark mode); nothing fixed covers the content;
// no sideways scrolling; the pad, the decoded image and the most informative slider come first
// (one screen on a desktop, two on a phone) and nothing covers them; by touch a digit is drawn
// without scrolling the page and a slider moves; the keyboard reaches the core controls in the
// order they are seen; the guide for newcomers stays hidden once hidden; the decoded image and
// the strips have descriptions that follow z.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startServer, browserForSuite, openPage, settle, sliderValues, decodedPixels, decodeCount, waitForDecodesAfter, pixelDiff, SEVEN } from './harness.mjs';

const T = { timeout: 180_000 };
const AXE = fs.readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const SIZES = [
  { name: 'desktop', viewport: { width: 1400, height: 1000 }, hasTouch: false, screens: 1 },
  { name: 'phone', viewport: { width: 390, height: 844 }, hasTouch: true, screens: 2 },
];

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** axe-core's WCAG 2.1 A/AA violations, in words. */
async function axeViolations(page) {
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) stays as it is.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} (${(n.any[0]?.message ?? '').slice(0, 120)})`).join('; ')}`);
  });
}

/** Where the core controls are (page coordinates), what is fixed on screen, and the page's width. */
function layout(page) {
  return page.evaluate(() => {
    const vw = innerWidth;
    const vh = innerHeight;
    const fixed = [...document.querySelectorAll('body *')]
      .filter((el) => ['fixed', 'sticky'].includes(getComputedStyle(el).position) && el.getClientRects().length)
      .map((el) => {
        const r = el.getBoundingClientRect();
        const w = Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0));
        const h = Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
        return { what: el.id || el.className, share: (w * h) / (vw * vh) };
      })
      .filter((f) => f.share > 0);
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top + scrollY, bottom: r.bottom + scrollY };
    };
    const row = document.querySelector('#sliders .slider-row:not([hidden])');
    return {
      vh,
      overflow: document.documentElement.scrollWidth - vw,
      fixed,
      pad: box(document.getElementById('pad')),
      decoded: box(document.getElementById('decoded')),
      slider: box(row),
      sliderId: row.querySelector('input').id,
    };
  });
}

/** Whether the element is the one at its own centre once scrolled into view (nothing covers it). */
async function uncovered(page, selector) {
  await page.locator(selector).scrollIntoViewIfNeeded();
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const r = el.getBoundingClientRect();
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return el === top || el.contains(top);
  }, selector);
}

const mostInformative = (manifest) => manifest.latent.map((l, i) => [l.kl_nats, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1])[0][1];

for (const size of SIZES) {
  describe(`the page at ${size.viewport.width} × ${size.viewport.height} (${size.name})`, () => {
    const browser = browserForSuite({ webgpu: false });
    const open = (query = '?backend=cpu', opts = {}) => openPage(browser(), server, query, { viewport: size.viewport, hasTouch: size.hasTouch, ...opts });

    test('axe-core: no WCAG 2.1 A/AA violation, also with the inactive dimensions shown and the Training panel open', T, async () => {
      const s = await open();
      try {
        const { page, log } = s;
        await settle(page);
        assert.deepEqual(await axeViolations(page), [], 'the first view');
        await page.locator('#sliders-inactive').click();
        await page.getByRole('button', { name: 'Open training' }).click();
        await page.waitForFunction(() => document.getElementById('training').dataset.phase === 'idle', null, { timeout: 60_000 });
        assert.deepEqual(await axeViolations(page), [], 'inactive dimensions shown, Training panel open');
        assert.deepEqual(log.pageErrors, []);
      } finally {
        await s.close();
      }
    });

    test('dark mode: the page follows prefers-color-scheme and stays readable', T, async () => {
      const s = await open('?backend=cpu', { colorScheme: 'dark' });
      try {
        const { page } = s;
        await settle(page);
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        const [r, g, b] = bg.match(/\d+/g).map(Number);
        assert.ok(r + g + b < 150, `a dark background (${bg})`);
        assert.deepEqual(await axeViolations(page), []);
      } finally {
        await s.close();
      }
    });

    test(`the core loop comes first (within ${size.screens} screen${size.screens > 1 ? 's' : ''}); nothing fixed covers the content; no sideways scrolling`, T, async (t) => {
      const s = await open();
      try {
        const { page, log } = s;
        await settle(page);
        const manifest = await log.manifest();
        const l = await layout(page);
        assert.ok(l.overflow <= 0, `the page is ${l.overflow} px wider than the screen`);
        const fixedShare = l.fixed.reduce((a, f) => a + f.share, 0);
        assert.ok(fixedShare <= 0.05, `fixed elements cover ${(100 * fixedShare).toFixed(1)} % of the screen: ${JSON.stringify(l.fixed)}`);
        const limit = size.screens * l.vh;
        for (const what of ['pad', 'decoded', 'slider']) assert.ok(l[what].bottom <= limit, `${what} ends at ${Math.round(l[what].bottom)} px, beyond ${limit} px`);
        assert.equal(l.sliderId, `z-${mostInformative(manifest) + 1}`, 'the first slider is the most informative dimension');
        for (const sel of ['#pad', '#decoded', `#${l.sliderId}`]) assert.ok(await uncovered(page, sel), `${sel} is not covered by anything`);
        t.diagnostic(`${size.name}: pad ends at ${Math.round(l.pad.bottom)} px, decoded image at ${Math.round(l.decoded.bottom)} px, first slider at ${Math.round(l.slider.bottom)} px (screen ${l.vh} px); fixed elements ${(100 * fixedShare).toFixed(1)} %`);
      } finally {
        await s.close();
      }
    });

    test('keyboard: Tab reaches the model, the backend, the pad, its buttons, the decoded image’s buttons and the sliders in that order; the main flows work without a pointer', T, async () => {
      const s = await open();
      try {
        const { page } = s;
        await settle(page);
        const seen = [];
        for (let k = 0; k < 40 && !seen.some((id) => /^z-\d+$/.test(id)); k++) {
          await page.keyboard.press('Tab');
          seen.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName));
        }
        const order = ['model-select', 'backend-select', 'pad', 'clear', 'sample-prior', 'zero'].map((id) => seen.indexOf(id));
        assert.ok(order.every((i) => i >= 0), `all reached: ${seen.join(', ')}`);
        assert.deepEqual([...order].sort((a, b) => a - b), order, `in order: ${seen.join(', ')}`);
        const slider = seen.findIndex((id) => /^z-\d+$/.test(id));
        assert.ok(slider > order.at(-1), `a slider comes right after the decoded image's buttons: ${seen.join(', ')}`);
        // Operable: the focused slider moves with the arrow keys and the image follows.
        const before = await decodedPixels(page);
        const n = await decodeCount(page);
        for (let k = 0; k < 20; k++) await page.keyboard.press('ArrowRight');
        await waitForDecodesAfter(page, n);
        assert.ok(pixelDiff(before, await decodedPixels(page)) > 0, 'the image follows the keyboard');

        // The other main flows by keyboard alone: Sample from prior, the inactive dimensions,
        // opening the Training panel and switching the model.
        const z0 = await sliderValues(page);
        await page.locator('#sample-prior').focus();
        const m = await decodeCount(page);
        await page.keyboard.press('Enter');
        await waitForDecodesAfter(page, m);
        assert.notDeepEqual(await sliderValues(page), z0, 'Enter on Sample from prior moved z');
        await page.locator('#sliders-inactive').focus();
        await page.keyboard.press('Space');
        assert.equal(await page.locator('#sliders-inactive').getAttribute('aria-expanded'), 'true');
        await page.getByRole('button', { name: 'Open training' }).focus();
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => document.getElementById('training').dataset.phase === 'idle', null, { timeout: 60_000 });
        assert.equal(await page.getByRole('button', { name: 'Start training' }).isVisible(), true, 'the Training panel opened');
        const model = await page.evaluate(() => document.body.dataset.model);
        await page.locator('#model-select').focus();
        await page.keyboard.press('ArrowDown');
        await page.waitForFunction((b) => document.body.dataset.model && document.body.dataset.model !== b, model, { timeout: 60_000 });
        await settle(page);
        assert.equal(await page.evaluate(() => document.body.dataset.ready !== undefined), true);
      } finally {
        await s.close();
      }
    });

    test('“How to read this page”: one line until opened; hidden on request and remembered; the footer brings it back', T, async () => {
      const s = await open();
      try {
        const { page } = s;
        await settle(page);
        const guide = page.locator('#howto');
        const summary = page.locator('#howto summary');
        assert.match(await summary.textContent(), /How to read this page/);
        assert.equal(await summary.isVisible(), true);
        assert.equal(await page.getByRole('button', { name: 'Hide this guide' }).isVisible(), false, 'closed at first: the core loop stays on top');
        await summary.click();
        assert.match(await guide.innerText(), /Move a slider/);
        await page.getByRole('button', { name: 'Hide this guide' }).click();
        assert.equal(await guide.isVisible(), false);
        await page.reload();
        await settle(page);
        assert.equal(await guide.isVisible(), false, 'still hidden after a reload');
        const show = page.getByRole('button', { name: 'Show “How to read this page”' });
        await show.click();
        assert.equal(await guide.isVisible(), true);
        assert.equal(await page.getByRole('button', { name: 'Hide this guide' }).isVisible(), true, 'brought back open');
        await page.reload();
        await settle(page);
        assert.equal(await guide.isVisible(), true, 'shown again after a reload');
      } finally {
        await s.close();
      }
    });

    test('the panels below the core loop fold away from their headings, by keyboard too, and stay folded after a reload', T, async () => {
      const s = await open();
      try {
        const { page } = s;
        await settle(page);
        const names = ['Latent map', 'Traversals', 'Interpolation', 'Samples', 'Attribute vectors'];
        for (const name of names) {
          const button = page.getByRole('heading', { name }).getByRole('button', { name });
          assert.equal(await button.getAttribute('aria-expanded'), 'true', `${name}: open at first`);
        }
        const map = page.getByRole('heading', { name: 'Latent map' }).getByRole('button');
        const canvas = page.locator('#latent-map');
        assert.equal(await canvas.isVisible(), true);
        await map.focus();
        await page.keyboard.press('Enter');
        assert.equal(await map.getAttribute('aria-expanded'), 'false');
        assert.equal(await canvas.isVisible(), false, 'folded');
        await page.reload();
        await settle(page);
        assert.equal(await page.getByRole('heading', { name: 'Latent map' }).getByRole('button').getAttribute('aria-expanded'), 'false', 'remembered');
        await page.getByRole('heading', { name: 'Latent map' }).getByRole('button').click();
        assert.equal(await page.locator('#latent-map').isVisible(), true, 'unfolded');
        // Still working after the move into the fold: a click on the map moves z.
        const z0 = await sliderValues(page);
        const box = await page.locator('#latent-map').boundingBox();
        const n = await decodeCount(page);
        await page.mouse.click(box.x + 0.8 * box.width, box.y + 0.2 * box.height);
        await waitForDecodesAfter(page, n);
        assert.notDeepEqual(await sliderValues(page), z0);
      } finally {
        await s.close();
      }
    });

    test('the decoded image and the strips describe themselves, and the descriptions follow z', T, async () => {
      const s = await open();
      try {
        const { page } = s;
        await settle(page);
        const description = () => page.evaluate(() => document.getElementById(document.getElementById('decoded').getAttribute('aria-describedby')).textContent);
        const id = (await layout(page)).sliderId;
        await page.waitForFunction(() => document.getElementById('decoded-description').textContent !== '', null, { timeout: 30_000 });
        assert.match(await description(), new RegExp(`^Decoded from z with dimension ${id.slice(2)} at 0\\.00, `));
        const strip = page.getByRole('img', { name: new RegExp(`^Traversal of latent dimension ${id.slice(2)}:`) });
        assert.match(await strip.getAttribute('aria-label'), /the current value, 0\.00, is marked$/);
        await page.locator(`#${id}`).focus();
        const n = await decodeCount(page);
        for (let k = 0; k < 50; k++) await page.keyboard.press('ArrowRight');
        await waitForDecodesAfter(page, n);
        await page.waitForTimeout(400);
        assert.match(await description(), new RegExp(`^Decoded from z with dimension ${id.slice(2)} at \\+0\\.50, `));
        await page.waitForFunction((sel) => /\+0\.50, is marked$/.test(document.querySelector(sel).getAttribute('aria-label')), `#traversals .strip[data-dim="${Number(id.slice(2)) - 1}"] canvas`, { timeout: 30_000 });
      } finally {
        await s.close();
      }
    });

    if (size.hasTouch) {
      test('touch: a finger draws a digit without scrolling the page, and drags a slider', T, async () => {
        const s = await open();
        try {
          const { page, context } = s;
          await settle(page);
          const cdp = await context.newCDPSession(page);
          const touch = async (type, points) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map(([x, y]) => ({ x, y })) });

          const pad = page.locator('#pad');
          await pad.scrollIntoViewIfNeeded();
          const scrollBefore = await page.evaluate(() => scrollY);
          const z0 = await sliderValues(page);
          const n = await decodeCount(page);
          const box = await pad.boundingBox();
          for (const stroke of SEVEN) {
            const pts = [];
            for (let k = 0; k + 1 < stroke.length; k++) {
              for (let t = 0; t <= 8; t++) {
                const [x0, y0] = stroke[k];
                const [x1, y1] = stroke[k + 1];
                pts.push([box.x + (x0 + ((x1 - x0) * t) / 8) * box.width, box.y + (y0 + ((y1 - y0) * t) / 8) * box.height]);
              }
            }
            await touch('touchStart', [pts[0]]);
            for (const p of pts.slice(1)) await touch('touchMove', [p]);
            await touch('touchEnd', []);
          }
          await waitForDecodesAfter(page, n, 60_000);
          assert.equal(await page.evaluate(() => scrollY), scrollBefore, 'drawing did not scroll the page');
          const z1 = await sliderValues(page);
          assert.ok(z1.some((v, i) => Math.abs(v - z0[i]) > 0.1), 'the drawing was encoded: the sliders moved');

          // A finger drags the most informative slider's thumb to the right.
          const id = (await layout(page)).sliderId;
          const input = page.locator(`#${id}`);
          await input.scrollIntoViewIfNeeded();
          const r = await input.boundingBox();
          const [value, min, max] = await input.evaluate((el) => [Number(el.value), Number(el.min), Number(el.max)]);
          const x0 = r.x + ((value - min) / (max - min)) * r.width;
          const y = r.y + r.height / 2;
          const before = await decodedPixels(page);
          const m = await decodeCount(page);
          await touch('touchStart', [[x0, y]]);
          for (let k = 1; k <= 10; k++) await touch('touchMove', [[Math.min(r.x + r.width - 2, x0 + (k * r.width) / 25), y]]);
          await touch('touchEnd', []);
          await waitForDecodesAfter(page, m);
          assert.ok(Number(await input.inputValue()) > value + 0.1, `the slider moved: ${value} → ${await input.inputValue()}`);
          assert.ok(pixelDiff(before, await decodedPixels(page)) > 0, 'the image followed');
        } finally {
          await s.close();
        }
      });
    }
  });
}
