// The maths and words of "Compare models": a drawing's −ELBO at z = μ, a drawing resampled to
// another model's image size, the sentences that say what the two columns mean, and the
// other model's explorer, freed once nothing runs on it. No DOM access: tested under Node.

import { klToPrior, pixelBce } from './likelihood.js';

/**
 * The −ELBO of `x` with the reconstruction term at z = μ (`decoded`: the decoder's means there)
 * instead of sampled, so that it is the same every time: {recon, kl, negElbo}, nats.
 */
export function scoreAtMean(x, mu, sigma, decoded) {
  const recon = pixelBce(x, decoded).reduce((a, v) => a + v, 0);
  const kl = klToPrior(mu, sigma);
  return { recon, kl, negElbo: recon + kl };
}

/** For each target pixel along one axis: the source pixels it covers and their share of it. */
function axisWeights(n, m) {
  const scale = n / m;
  return Array.from({ length: m }, (_, i) => {
    const a = i * scale;
    const b = a + scale;
    const row = [];
    for (let j = Math.floor(a); j < Math.min(n, Math.ceil(b)); j++) {
      const w = Math.min(b, j + 1) - Math.max(a, j);
      if (w > 1e-12) row.push([j, w / scale]);
    }
    return row;
  });
}

/**
 * An image of `from` size as one of `to` size: each target pixel is the average of the source
 * area it covers (ink is neither gained nor lost). The same array when the sizes match.
 */
export function resample(pixels, from, to) {
  if (from.width === to.width && from.height === to.height) return pixels;
  const wx = axisWeights(from.width, to.width);
  const wy = axisWeights(from.height, to.height);
  const out = new Float32Array(to.width * to.height);
  for (let y = 0; y < to.height; y++) {
    for (let x = 0; x < to.width; x++) {
      let v = 0;
      for (const [sy, ay] of wy[y]) for (const [sx, ax] of wx[x]) v += ay * ax * pixels[sy * from.width + sx];
      out[y * to.width + x] = v;
    }
  }
  return out;
}

const size = ({ width, height }) => `${width}×${height}`;

/** Why the same z cannot be compared, or null when the latent sizes match. */
export function sameZNote(a, b) {
  if (a.latentDim === b.latentDim) return null;
  return `The latent sizes differ (${a.latentDim} vs ${b.latentDim}), so the same z means nothing to the other model: compare them on a drawing below.`;
}

/** "−ELBO 103.2 nats = reconstruction 78.1 + KL 25.1". */
export function elboText({ negElbo, recon, kl }) {
  return `−ELBO ${negElbo.toFixed(1)} nats = reconstruction ${recon.toFixed(1)} + KL ${kl.toFixed(1)}`;
}

/** "11 of 32 active" from the manifest's per-dimension flags. */
export function activeText(manifest, latentDim) {
  const latent = manifest.latent ?? [];
  const total = latent.length || latentDim;
  const active = latent.length ? latent.filter((l) => l.active !== false).length : latentDim;
  return `${active} of ${total} active`;
}

/** The bundle's test loss (−ELBO averaged over the test set), or why there is none. */
export function testLossText(manifest) {
  const v = manifest.metrics?.test_loss_nats;
  return Number.isFinite(v) ? `${v.toFixed(1)} nats` : 'not recorded in the bundle';
}

/**
 * Which model explains the drawing better, in words; `a` and `b` are {title, image, score}.
 * Over different image sizes the two −ELBOs sum over different pixels and are not compared.
 */
export function verdict(a, b) {
  if (size(a.image) !== size(b.image)) {
    return `The image sizes differ (${size(a.image)} vs ${size(b.image)}): the two −ELBOs sum over different pixels, so they are not directly comparable. Your drawing is resampled to ${size(b.image)} for “${b.title}”.`;
  }
  const d = a.score.negElbo - b.score.negElbo;
  if (Math.abs(d) < 0.05) return 'Both models give your drawing the same −ELBO.';
  const [better, worse] = d < 0 ? [a, b] : [b, a];
  return `“${better.title}” explains your drawing better: its −ELBO is ${Math.abs(d).toFixed(1)} nats lower than that of “${worse.title}” (lower is better).`;
}

/**
 * The other model's explorer with the calls running on it: `retire()` frees it at once if it
 * is idle, else after its last call; calls after `retire()` are refused.
 */
export class Side {
  busy = 0;
  retired = false;
  freed = false;

  constructor({ explorer, model }) {
    this.explorer = explorer;
    this.model = model;
  }

  async use(fn) {
    if (this.retired) throw new Error('the compared model was replaced');
    this.busy++;
    try {
      return await fn(this.explorer);
    } finally {
      this.busy--;
      this.#release();
    }
  }

  retire() {
    this.retired = true;
    this.#release();
  }

  #release() {
    if (!this.retired || this.busy || this.freed) return;
    this.freed = true;
    try {
      this.explorer.free();
    } catch (err) {
      // A lost device may refuse even this; the memory goes with the page.
      console.warn('freeing the compared model failed:', err);
    }
  }
}
