// How well the model explains an image x: the negative ELBO (reconstruction + KL, nats) and an
// importance-sampled estimate of −log p(x) from K samples of q(z|x), from the decoder's pixel
// means. The same Bernoulli likelihood the loss uses. No DOM access: tested under Node.

const LOG_2PI = Math.log(2 * Math.PI);
// Decoded means of exactly 0 or 1 (f32 sigmoids saturate) would make one pixel infinitely bad.
const EPS = 1e-7;

/** −log p(x|z) per pixel for pixel means `p`: Bernoulli cross-entropy, nats. */
export function pixelBce(x, p, offset = 0) {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[offset + i]));
    out[i] = -(x[i] * Math.log(q) + (1 - x[i]) * Math.log(1 - q));
  }
  return out;
}

const sum = (a) => a.reduce((s, v) => s + v, 0);

/** KL(N(μ, σ²) ‖ N(0, I)), nats. */
export function klToPrior(mu, sigma) {
  let kl = 0;
  for (let j = 0; j < mu.length; j++) kl += 0.5 * (mu[j] * mu[j] + sigma[j] * sigma[j] - 1) - Math.log(sigma[j]);
  return kl;
}

/** z_k = μ + σ ⊙ ε_k for the rows of `eps` (K × D, flat). */
export function posteriorDraws(mu, sigma, eps) {
  const d = mu.length;
  const z = new Float32Array(eps.length);
  for (let i = 0; i < eps.length; i++) z[i] = mu[i % d] + sigma[i % d] * eps[i];
  return z;
}

/**
 * From the decodes of K posterior draws z_k = μ + σ ε_k (`decoded`, K × pixels):
 * recon = mean_k −log p(x|z_k); kl analytic; negElbo = recon + kl; nll = −log (1/K Σ_k
 * p(x|z_k) p(z_k) / q(z_k|x)), the importance-sampled −log p(x) (an upper bound in expectation,
 * tighter with K).
 */
export function explain({ x, mu, sigma, eps, decoded }) {
  const d = mu.length;
  const k = eps.length / d;
  const n = x.length;
  const logW = [];
  let recon = 0;
  for (let s = 0; s < k; s++) {
    const logLik = -sum(pixelBce(x, decoded, s * n));
    recon -= logLik;
    let logPrior = 0;
    let logQ = 0;
    for (let j = 0; j < d; j++) {
      const e = eps[s * d + j];
      const z = mu[j] + sigma[j] * e;
      logPrior += -0.5 * (z * z + LOG_2PI);
      logQ += -0.5 * (e * e + LOG_2PI) - Math.log(sigma[j]);
    }
    logW.push(logLik + logPrior - logQ);
  }
  recon /= k;
  const kl = klToPrior(mu, sigma);
  const top = Math.max(...logW);
  const nll = -(top + Math.log(sum(logW.map((w) => Math.exp(w - top))) / k));
  return { recon, kl, negElbo: recon + kl, nll, samples: k };
}

/**
 * Where −log p(x) = `nll` falls among a test set's, given its percentiles (`quantiles[p]` for
 * p = 0..100, ascending): the fraction of test images with a higher (worse) value, reading
 * the distribution linearly between percentiles. Below the lowest (the best test image) it is
 * 1, above the highest 0; on a run of equal percentiles, the middle of the run. null when the
 * figures are unusable.
 */
export function fractionWorse(nll, quantiles) {
  const q = quantiles;
  if (!Array.isArray(q) || q.length < 2 || !Number.isFinite(nll)) return null;
  for (let i = 0; i < q.length; i++) if (!Number.isFinite(q[i]) || (i > 0 && q[i] < q[i - 1])) return null;
  const last = q.length - 1;
  let below = 0;
  while (below <= last && q[below] < nll) below++;
  let equal = 0;
  while (below + equal <= last && q[below + equal] === nll) equal++;
  let rank; // in percentile steps, 0..last
  if (equal > 0) rank = below + (equal - 1) / 2;
  else if (below === 0) rank = 0;
  else if (below > last) rank = last;
  else rank = below - 1 + (nll - q[below - 1]) / (q[below] - q[below - 1]);
  return 1 - rank / last;
}

/**
 * A fraction from fractionWorse in words: "more typical than 73 % of test digits", "less
 * typical than 99 % of test digits", or "… every test digit" beyond the ends. Rounded so that
 * neither 0 % nor 100 % is claimed inside the range.
 */
export function typicalityText(worse, what = 'test digits') {
  const one = what.replace(/s$/, '');
  if (worse >= 1) return `more typical than every ${one}`;
  if (worse <= 0) return `less typical than every ${one}`;
  const pct = (f) => Math.min(99, Math.max(1, Math.round(100 * f)));
  return worse >= 0.5 ? `more typical than ${pct(worse)} % of ${what}` : `less typical than ${pct(1 - worse)} % of ${what}`;
}
