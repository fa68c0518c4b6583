// Decoded image panel: the decoder's output at z, "Sample from prior", "Reset z to 0" and
// "Download image" (a PNG at a chosen scale). The
// image's description says which z it was decoded from (its most informative coordinates).

import { DEFAULT_IMAGE, paintImages, sizeCanvas } from '../lib/image.js';
import { clamp, eventTime, fmtSigned } from '../lib/format.js';
import { randn } from '../lib/latent-math.js';
import { dimensionOrder } from '../state.js';
import { canvasesToPng, pngName, saveBlob } from '../lib/download.js';

export function mountDecoded({ state, engine, messages, doc = document }) {
  const canvas = doc.getElementById('decoded');
  const download = doc.getElementById('download-image');
  const scale = doc.getElementById('download-scale');
  const samplePrior = doc.getElementById('sample-prior');
  const zero = doc.getElementById('zero');
  const pixelCount = doc.querySelector('[data-image-pixels]');
  let image = DEFAULT_IMAGE;
  const blank = () => paintImages(canvas, new Float32Array(image.width * image.height), image);
  blank();

  const description = doc.getElementById('decoded-description');
  let describeTimer = 0;
  engine.on('image', (pixels) => {
    paintImages(canvas, pixels, image);
    // Rewritten at most a few times a second: screen readers read it when they reach the image.
    if (!describeTimer) describeTimer = setTimeout(describe, 250);
  });
  function describe() {
    describeTimer = 0;
    if (!state.model) return;
    description.textContent = describeZ(state.z, dimensionOrder(state.model, 'kl'), state.model.inactive);
  }

  state.on('model', (model) => {
    if (model.image.width !== image.width || model.image.height !== image.height) {
      image = model.image;
      sizeCanvas(canvas, image);
      blank();
    }
    if (pixelCount) pixelCount.textContent = (image.width * image.height).toLocaleString('en');
    samplePrior.disabled = false;
    zero.disabled = false;
    download.disabled = false;
  });

  // The image as the page shows it: the decoder's means as grey levels, scaled by whole pixels.
  download.addEventListener('click', async () => {
    const k = Number(scale.value);
    try {
      saveBlob(await canvasesToPng([canvas], k, doc), pngName(state.model, 'decoded', k), doc);
    } catch (err) {
      messages?.error(`Could not save the image: ${err.message}`, 'download');
    }
  });

  const move = (e, value) => state.setZ(state.model.ranges.map(([lo, hi], i) => clamp(value(i), lo, hi)), { t: eventTime(e), source: 'buttons' });
  samplePrior.addEventListener('click', (e) => {
    const t = state.view.temperature || 1;
    move(e, () => t * randn());
  });
  zero.addEventListener('click', (e) => move(e, () => 0));
}

/** "Decoded from z with dimension 8 at +1.20, 13 at −0.40, …": the active coordinates, most informative first. */
export function describeZ(z, order, inactive, most = 6) {
  const dims = order.filter((i) => !inactive[i]);
  const shown = dims.slice(0, most).map((i) => `${i + 1} at ${fmtSigned(z[i]).trim()}`);
  const more = dims.length > most ? `, and ${dims.length - most} more` : '';
  const rest = inactive.some(Boolean) ? ' (inactive dimensions do not change it)' : '';
  return shown.length ? `Decoded from z with dimension ${shown.join(', ')}${more}${rest}.` : '';
}
