// "Your drawing": after a drawing the page states its −ELBO (reconstruction + KL) and an
// importance-sampled −log p(x), against the test set's average, and paints where the
// reconstruction misses. Checked against an independent computation: a second explorer of the
// same model encodes the encoder input the page shows and decodes its μ, and the KL and the
// reconstruction error are computed here; its place among the test digits' −log p(x) is
// computed here from the bundle's percentiles. A scribble and a letter read as atypical.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, browserForSuite, openPage, settle, drawStrokes, SEVEN } from './harness.mjs';

const T = { timeout: 180_000 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** A capital H: a letter, not a digit. */
const H = [[[0.25, 0.1], [0.25, 0.9]], [[0.75, 0.1], [0.75, 0.9]], [[0.25, 0.5], [0.75, 0.5]]];

/**
 * The share of test digits with a higher −log p(x) than `nll`, from their percentiles 0..100
 * (linear between them; all beyond the lowest, none beyond the highest).
 */
function worseShare(nll, q) {
  if (nll <= q[0]) return 1;
  if (nll >= q[100]) return 0;
  const i = q.findLastIndex((v) => v <= nll);
  return 1 - (i + (nll - q[i]) / (q[i + 1] - q[i])) / 100;
}

/** "more typical than 73 % of test digits" → {more: true, pct: 73}; "every" → pct 100. */
function typicality(reference) {
  const m = /your drawing is (more|less) typical than (?:(\d+) % of test digits|every test digit)/.exec(reference);
  assert.ok(m, reference);
  return { more: m[1] === 'more', pct: m[2] === undefined ? 100 : Number(m[2]) };
}

/** The page's figures, parsed from its sentence. */
async function figures(page) {
  await page.waitForFunction(() => !document.getElementById('explain-result').hidden, null, { timeout: 60_000 });
  await page.waitForTimeout(600); // the last stroke's scoring
  const text = await page.locator('#explain-figures').textContent();
  const m = /^−ELBO ([\d.]+) nats = reconstruction ([\d.]+) \+ KL ([\d.]+); −log p\(x\) ≈ ([\d.]+) nats \(importance-sampled, (\d+) samples\)\.$/.exec(text);
  assert.ok(m, text);
  const [negElbo, recon, kl, nll, samples] = m.slice(1).map(Number);
  const heat = await page.locator('#recon-error').getAttribute('aria-label');
  const h = /^Reconstruction error: ([\d.]+) nats over (\d+) pixels at z = μ/.exec(heat);
  assert.ok(h, heat);
  return { negElbo, recon, kl, nll, samples, heatNats: Number(h[1]), reference: await page.locator('#explain-reference').textContent() };
}

describe('Your drawing (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('a drawn 7: the −ELBO splits into reconstruction + KL, matching an independent computation, and is placed among the test digits by −log p(x); a scribble and a letter read as atypical', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32');
    try {
      const { page, log } = s;
      await settle(page);
      const region = page.getByRole('region', { name: 'Your drawing' });
      assert.match(await region.textContent(), /Draw a digit on the pad/);
      await drawStrokes(page, SEVEN);
      const f = await figures(page);
      assert.equal(f.samples, 64);
      assert.ok(Math.abs(f.negElbo - (f.recon + f.kl)) <= 0.15, `${f.negElbo} = ${f.recon} + ${f.kl}`);
      assert.ok(f.nll <= f.negElbo + 3, `the importance estimate ${f.nll} is not above the −ELBO ${f.negElbo} (beyond sampling noise)`);
      assert.match(f.reference, /^The test digits average a −ELBO of 98\.7 nats: /);
      // Its place among the test digits' −log p(x), from the bundle's percentiles.
      const { likelihood } = await log.manifest();
      assert.equal(likelihood.samples, f.samples, 'the test digits were scored like the drawing');
      const place = typicality(f.reference);
      const expected = 100 * worseShare(f.nll, likelihood.quantiles);
      assert.ok(place.more, `a neat 7 is more typical than most test digits: ${f.reference}`);
      // The page places the unrounded −log p(x); the sentence gives it to 0.1 nats.
      const near = [-0.05, 0, 0.05].map((d) => Math.round(100 * worseShare(f.nll + d, likelihood.quantiles)));
      assert.ok(near.includes(place.pct), `more typical than ${place.pct} %; computed here ${expected.toFixed(2)} % (${near.join(', ')})`);
      assert.match(f.reference, / \(among 10,000 scored the same way\)\.$/);

      // Independently: encode the encoder input the page shows, decode μ, and compute here.
      const independent = await page.evaluate(async () => {
        const c = document.getElementById('encoder-input');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const x = new Float32Array(c.width * c.height);
        for (let i = 0; i < x.length; i++) x[i] = d[4 * i] / 255;
        const { openModel } = await import('/load.js');
        const { explorer } = await openModel({ backend: 'cpu', module: 'cpu', cache: 'force-cache' });
        const r = await explorer.encode(x);
        const mu = Array.from(r.mu);
        const logVar = Array.from(r.logVar);
        const p = await explorer.decode(Float32Array.from(mu));
        explorer.free?.();
        return { x: Array.from(x), mu, logVar, p: Array.from(p) };
      });
      const kl = independent.mu.reduce((a, m, j) => a + 0.5 * (m * m + Math.exp(independent.logVar[j]) - 1 - independent.logVar[j]), 0);
      const bce = independent.x.reduce((a, xi, i) => {
        const q = Math.min(1 - 1e-7, Math.max(1e-7, independent.p[i]));
        return a - (xi * Math.log(q) + (1 - xi) * Math.log(1 - q));
      }, 0);
      assert.ok(Math.abs(kl - f.kl) < 0.3, `KL: the page ${f.kl}, computed here ${kl}`);
      assert.ok(Math.abs(bce - f.heatNats) < 0.03 * bce + 1, `reconstruction error at μ: the page ${f.heatNats}, computed here ${bce}`);
      assert.ok(f.recon >= f.heatNats - 5, 'sampled reconstructions are no better than the one at μ, beyond noise');

      // A scribble: far above the test average, said in words.
      await page.getByRole('button', { name: 'Clear', exact: true }).click();
      await drawStrokes(page, [[[0.1, 0.1], [0.9, 0.9], [0.1, 0.9], [0.9, 0.1], [0.5, 0.5], [0.2, 0.5], [0.8, 0.3]]]);
      await page.waitForFunction((before) => document.getElementById('explain-figures').textContent !== before, await page.locator('#explain-figures').textContent(), { timeout: 60_000 });
      const g = await figures(page);
      assert.ok(g.negElbo > 2 * f.negElbo, `scribble ${g.negElbo} vs digit ${f.negElbo}`);
      assert.match(g.reference, /very unlike the digits it was trained on/);
      assert.match(g.reference, /your drawing is less typical than (every test digit|99 % of test digits)/);
      assert.ok(g.nll > likelihood.quantiles[99], `the scribble's −log p(x) ${g.nll} is beyond the test set's 99th percentile`);

      // A letter is no digit either.
      await page.getByRole('button', { name: 'Clear', exact: true }).click();
      await drawStrokes(page, H);
      await page.waitForFunction((before) => document.getElementById('explain-figures').textContent !== before, await page.locator('#explain-figures').textContent(), { timeout: 60_000 });
      const h = await figures(page);
      assert.match(h.reference, /your drawing is less typical than (every test digit|9\d % of test digits)/, h.reference);
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });
});
