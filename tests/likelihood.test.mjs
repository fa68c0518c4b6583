// lib/likelihood.js under Node: the Bernoulli cross-entropy, the analytic KL, the
// importance-sampled −log p(x) and its place among the test set's percentiles, checked on
// cases with known answers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explain, fractionWorse, klToPrior, pixelBce, posteriorDraws, typicalityText } from '../www/lib/likelihood.js';

const close = (a, b, tol = 1e-5) => Math.abs(a - b) <= tol;

test('pixelBce is −[x log p + (1 − x) log(1 − p)], finite where p saturates', () => {
  const bce = pixelBce([1, 0, 0.5, 1], [0.5, 0.25, 0.5, 0]);
  assert.ok(close(bce[0], Math.log(2)) && close(bce[1], -Math.log(0.75)) && close(bce[2], Math.log(2)));
  assert.ok(Number.isFinite(bce[3]) && bce[3] > 15, 'p = 0 for an inked pixel: large, not infinite');
});

test('KL to the prior: 0 for the prior itself, the closed form otherwise', () => {
  assert.ok(close(klToPrior([0, 0], [1, 1]), 0));
  assert.ok(close(klToPrior([1], [0.5]), 0.5 * (1 + 0.25 - 1) - Math.log(0.5)));
});

test('when q is the prior and the decoder ignores z, −log p(x) and the −ELBO are the reconstruction exactly', () => {
  const x = [1, 0, 1, 1];
  const p = [0.9, 0.2, 0.6, 0.7];
  const k = 5;
  const mu = [0, 0];
  const sigma = [1, 1];
  const eps = Float32Array.from({ length: k * 2 }, (_, i) => Math.sin(i + 1));
  const decoded = Float32Array.from({ length: k * 4 }, (_, i) => p[i % 4]);
  const r = explain({ x, mu, sigma, eps, decoded });
  const exact = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.6) + Math.log(0.7));
  assert.ok(close(r.recon, exact) && close(r.kl, 0) && close(r.negElbo, exact) && close(r.nll, exact, 1e-4), JSON.stringify(r));
  assert.equal(r.samples, k);
  assert.deepEqual(Array.from(posteriorDraws([1, 2], [0.5, 2], [1, 1, -2, 0])), [1.5, 4, 0, 2]);
});

test('the importance estimate never exceeds the −ELBO of the same samples (Jensen)', () => {
  const x = [1, 0, 1];
  const mu = [0.3, -0.2];
  const sigma = [0.4, 0.7];
  const k = 8;
  const eps = Float32Array.from({ length: k * 2 }, (_, i) => Math.cos(3 * i));
  // A decoder whose pixel means depend on z.
  const z = posteriorDraws(mu, sigma, eps);
  const decoded = new Float32Array(k * 3);
  for (let s = 0; s < k; s++) for (let i = 0; i < 3; i++) decoded[s * 3 + i] = 1 / (1 + Math.exp(-(z[2 * s] * (i + 1) - z[2 * s + 1])));
  const r = explain({ x, mu, sigma, eps, decoded });
  // log-mean-exp of the log-weights ≥ their mean, so nll ≤ recon + the samples' own KL
  // estimate, mean_k [log q(z_k|x) − log p(z_k)].
  let sampleKl = 0;
  for (let s = 0; s < k; s++) {
    for (let j = 0; j < 2; j++) {
      const e = eps[2 * s + j];
      const zz = mu[j] + sigma[j] * e;
      sampleKl += (-0.5 * e * e - Math.log(sigma[j]) + 0.5 * zz * zz) / k;
    }
  }
  assert.ok(r.nll <= r.recon + sampleKl + 1e-9, `${r.nll} ≤ ${r.recon} + ${sampleKl}`);
  assert.ok(r.nll > 0 && r.recon > 0 && r.kl > 0);
});

test('fractionWorse: the share of test images with a higher −log p(x), read linearly between percentiles', () => {
  // Percentiles 0..100 of a uniform distribution on [100, 200]: the answer is exact.
  const uniform = Array.from({ length: 101 }, (_, p) => 100 + p);
  assert.ok(close(fractionWorse(173, uniform), 0.27));
  assert.ok(close(fractionWorse(150, uniform), 0.5));
  assert.ok(close(fractionWorse(100.5, uniform), 0.995));
  assert.ok(close(fractionWorse(199.25, uniform), 0.0075));
  // The ends: better than the best test image, worse than the worst.
  assert.equal(fractionWorse(99, uniform), 1);
  assert.equal(fractionWorse(100, uniform), 1);
  assert.equal(fractionWorse(200, uniform), 0);
  assert.equal(fractionWorse(1e6, uniform), 0);
  // Uneven steps: halfway between the 10th (20) and the 11th (40) percentile.
  const uneven = Array.from({ length: 101 }, (_, p) => (p <= 10 ? 2 * p : 20 * (p - 9)));
  assert.ok(close(fractionWorse(30, uneven), 1 - 10.5 / 100));
  // A run of equal percentiles (50th to 60th at 7): its middle.
  const flat = Array.from({ length: 101 }, (_, p) => (p < 50 ? p / 10 : p <= 60 ? 7 : p - 53));
  assert.ok(close(fractionWorse(7, flat), 1 - 55 / 100));
  // Fewer percentiles (quartiles) read the same way.
  assert.ok(close(fractionWorse(25, [0, 10, 20, 30, 40]), 1 - 2.5 / 4));
});

test('fractionWorse refuses unusable figures; typicalityText says it in words', () => {
  assert.equal(fractionWorse(5, undefined), null);
  assert.equal(fractionWorse(5, [3]), null);
  assert.equal(fractionWorse(5, [3, 2, 4]), null, 'not ascending');
  assert.equal(fractionWorse(5, [1, NaN, 4]), null);
  assert.equal(fractionWorse(NaN, [1, 2, 3]), null);
  assert.equal(typicalityText(0.73), 'more typical than 73 % of test digits');
  assert.equal(typicalityText(0.5), 'more typical than 50 % of test digits');
  assert.equal(typicalityText(0.01), 'less typical than 99 % of test digits');
  assert.equal(typicalityText(0.001), 'less typical than 99 % of test digits', 'not 100 % inside the range');
  assert.equal(typicalityText(0.9996), 'more typical than 99 % of test digits');
  assert.equal(typicalityText(0), 'less typical than every test digit');
  assert.equal(typicalityText(1), 'more typical than every test digit');
});
