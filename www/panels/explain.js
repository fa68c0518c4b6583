// "Your drawing": how well the model explains the drawing: the negative ELBO split into
// reconstruction and KL, an importance-sampled −log p(x), both next to the test set's average,
// and a map of where the reconstruction misses (per-pixel cross-entropy at z = μ).

import { explain, fractionWorse, pixelBce, posteriorDraws, typicalityText } from '../lib/likelihood.js';
import { randn } from '../lib/latent-math.js';

/** Samples of q(z|x) for the estimates (one batched decode with z = μ first). */
const SAMPLES = 64;
/** The heatmap's top colour: this many nats in one pixel or more. */
const HOT = 4;

export function mountExplain({ state, engine, messages, doc = document }) {
  const $ = (id) => doc.getElementById(id);
  const empty = $('explain-empty');
  const result = $('explain-result');
  const figures = $('explain-figures');
  const reference = $('explain-reference');
  const heat = $('recon-error');
  let timer = 0;
  let run = 0;

  function paintHeat(bce, { width, height }) {
    heat.width = width;
    heat.height = height;
    const ctx = heat.getContext('2d');
    const img = ctx.createImageData(width, height);
    for (let i = 0; i < bce.length; i++) {
      // Black (explained) through red to yellow (missed).
      const t = Math.min(1, bce[i] / HOT);
      img.data.set([Math.round(255 * Math.min(1, 2 * t)), Math.round(255 * Math.max(0, 2 * t - 1)), 0, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }

  async function update() {
    const { drawing, posterior, model } = state;
    if (!drawing || !posterior || !model) {
      empty.hidden = false;
      result.hidden = true;
      return;
    }
    const mine = ++run;
    const d = model.latentDim;
    const eps = new Float32Array(SAMPLES * d);
    for (let i = 0; i < eps.length; i++) eps[i] = randn();
    const zs = new Float32Array((SAMPLES + 1) * d);
    zs.set(posterior.mu, 0);
    zs.set(posteriorDraws(posterior.mu, posterior.sigma, eps), d);
    try {
      const decoded = await engine.decodeOnce(zs, SAMPLES + 1);
      if (mine !== run || state.posterior !== posterior) return; // a newer drawing is on its way
      const n = drawing.pixels.length;
      const x = drawing.pixels;
      const r = explain({ x, mu: posterior.mu, sigma: posterior.sigma, eps, decoded: decoded.subarray(n) });
      const bce = pixelBce(x, decoded, 0);
      paintHeat(bce, drawing);
      figures.textContent = `−ELBO ${r.negElbo.toFixed(1)} nats = reconstruction ${r.recon.toFixed(1)} + KL ${r.kl.toFixed(1)}; −log p(x) ≈ ${r.nll.toFixed(1)} nats (importance-sampled, ${r.samples} samples).`;
      const test = model.manifest.metrics?.test_loss_nats;
      reference.textContent = [
        Number.isFinite(test) ? `The test digits average a −ELBO of ${test.toFixed(1)} nats: ${describe(r.negElbo / test)}.` : '',
        placeAmongTest(r.nll, model.manifest.likelihood),
      ].filter(Boolean).join(' ');
      heat.setAttribute('aria-label', `Reconstruction error: ${(bce.reduce((a, v) => a + v, 0)).toFixed(1)} nats over ${n} pixels at z = μ; brightest where the reconstruction misses the drawing`);
      empty.hidden = true;
      result.hidden = false;
      messages.clearError('explain');
    } catch (err) {
      messages.error(`Could not score the drawing: ${err.message}`, 'explain');
    }
  }

  // After the encoder has settled: a drawing in progress is scored once it rests.
  state.on('posterior', () => {
    clearTimeout(timer);
    timer = setTimeout(update, 200);
  });
  state.on('model', () => {
    run++;
    empty.hidden = false;
    result.hidden = true;
  });
}

/**
 * The drawing's −log p(x) among the test set's (the bundle's percentiles, estimated the same
 * way), in words; why not, when the bundle has no such figures.
 */
function placeAmongTest(nll, likelihood) {
  const worse = fractionWorse(nll, likelihood?.quantiles);
  if (worse === null) return 'This model’s bundle has no −log p(x) figures for its test digits, so the drawing cannot be placed among them.';
  const images = Number(likelihood.images);
  const of = Number.isInteger(images) && images > 0 ? ` (among ${images.toLocaleString('en')} scored the same way)` : '';
  return `By its −log p(x), your drawing is ${typicalityText(worse)}${of}.`;
}

/** The drawing's −ELBO against the test set's average, in words. */
function describe(ratio) {
  if (ratio < 1.25) return 'your drawing is about as well explained as a typical test digit';
  if (ratio < 2) return 'your drawing is harder for the model than a typical test digit';
  return 'the model finds your drawing very unlike the digits it was trained on';
}
