// lib/compare.js under Node: the −ELBO at z = μ, resampling a drawing to another image size,
// the panel's sentences, and the other model's explorer freed only once nothing runs on it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Side, activeText, elboText, resample, sameZNote, scoreAtMean, testLossText, verdict } from '../www/lib/compare.js';

const close = (a, b, tol = 1e-5) => Math.abs(a - b) <= tol;

test('scoreAtMean: reconstruction is the cross-entropy at the decoded means, KL the closed form', () => {
  const r = scoreAtMean([1, 0], [0, 0], [1, 1], [0.5, 0.25]);
  assert.ok(close(r.recon, Math.log(2) - Math.log(0.75)) && close(r.kl, 0) && close(r.negElbo, r.recon));
  const q = scoreAtMean([1], [1], [0.5], [1]);
  assert.ok(close(q.kl, 0.5 * (1 + 0.25 - 1) - Math.log(0.5)) && q.recon < 1e-6, JSON.stringify(q));
});

test('resample: the same array at the same size; area averages keep the ink and a uniform image uniform', () => {
  const px = Float32Array.from({ length: 4 }, (_, i) => i / 3);
  assert.equal(resample(px, { width: 2, height: 2 }, { width: 2, height: 2 }), px);
  const uniform = resample(new Float32Array(28 * 28).fill(0.6), { width: 28, height: 28 }, { width: 32, height: 32 });
  assert.equal(uniform.length, 32 * 32);
  assert.ok(uniform.every((v) => close(v, 0.6)));
  // One inked pixel: its ink is spread, not lost (sum scales with the area).
  const dot = new Float32Array(28 * 28);
  dot[14 * 28 + 14] = 1;
  const up = resample(dot, { width: 28, height: 28 }, { width: 32, height: 32 });
  assert.ok(close(up.reduce((a, v) => a + v, 0), (32 * 32) / (28 * 28), 1e-4));
  // Down by two: each target pixel is the mean of a 2×2 block.
  assert.deepEqual(Array.from(resample([1, 0, 0, 0.5, 1, 1, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0], { width: 4, height: 4 }, { width: 2, height: 2 })), [0.75, 0.25, 0, 0]);
});

test('the sentences: latent sizes, −ELBO, active dimensions, test loss, which model explains the drawing better', () => {
  assert.equal(sameZNote({ latentDim: 4 }, { latentDim: 4 }), null);
  assert.match(sameZNote({ latentDim: 32 }, { latentDim: 2 }), /^The latent sizes differ \(32 vs 2\), so the same z means nothing/);
  assert.equal(elboText({ negElbo: 103.24, recon: 78.11, kl: 25.13 }), '−ELBO 103.2 nats = reconstruction 78.1 + KL 25.1');
  assert.equal(activeText({ latent: [{ active: true }, { active: false }, {}] }, 3), '2 of 3 active');
  assert.equal(activeText({}, 4), '4 of 4 active');
  assert.equal(testLossText({ metrics: { test_loss_nats: 98.66 } }), '98.7 nats');
  assert.equal(testLossText({}), 'not recorded in the bundle');
  const image = { width: 28, height: 28 };
  const a = { title: 'A', image, score: { negElbo: 90 } };
  const b = { title: 'B', image, score: { negElbo: 100.04 } };
  assert.equal(verdict(a, b), '“A” explains your drawing better: its −ELBO is 10.0 nats lower than that of “B” (lower is better).');
  assert.match(verdict(b, a), /^“A” explains/);
  assert.equal(verdict(a, { ...a, title: 'C' }), 'Both models give your drawing the same −ELBO.');
  assert.match(verdict(a, { ...b, image: { width: 32, height: 32 } }), /^The image sizes differ \(28×28 vs 32×32\): .* not directly comparable\. Your drawing is resampled to 32×32 for “B”\.$/);
});

test('Side: freed at once when idle, else after its last call; refuses calls once retired', async () => {
  let frees = 0;
  const explorer = { free: () => frees++ };
  const idle = new Side({ explorer, model: {} });
  idle.retire();
  idle.retire();
  assert.equal(frees, 1, 'freed once');
  await assert.rejects(idle.use(() => 1), /replaced/);

  frees = 0;
  const side = new Side({ explorer, model: {} });
  let finish;
  const call = side.use(() => new Promise((resolve) => (finish = resolve)));
  side.retire();
  assert.equal(frees, 0, 'not while a call runs on it');
  finish(7);
  assert.equal(await call, 7);
  assert.equal(frees, 1, 'after its last call');

  // A failing free is reported, not thrown.
  const warn = console.warn;
  console.warn = () => {};
  try {
    new Side({ explorer: { free: () => { throw new Error('lost'); } }, model: {} }).retire();
  } finally {
    console.warn = warn;
  }
});
