// Decoded image panel: the decoder's output at z, "Sample from prior" and "Reset z to 0".

import { DEFAULT_IMAGE, paintImages, sizeCanvas } from '../lib/image.js';
import { clamp, eventTime } from '../lib/format.js';
import { randn } from '../lib/latent-math.js';

export function mountDecoded({ state, engine, doc = document }) {
  const canvas = doc.getElementById('decoded');
  const samplePrior = doc.getElementById('sample-prior');
  const zero = doc.getElementById('zero');
  const pixelCount = doc.querySelector('[data-image-pixels]');
  let image = DEFAULT_IMAGE;
  const blank = () => paintImages(canvas, new Float32Array(image.width * image.height), image);
  blank();

  engine.on('image', (pixels) => paintImages(canvas, pixels, image));

  state.on('model', (model) => {
    if (model.image.width !== image.width || model.image.height !== image.height) {
      image = model.image;
      sizeCanvas(canvas, image);
      blank();
    }
    if (pixelCount) pixelCount.textContent = (image.width * image.height).toLocaleString('en');
    samplePrior.disabled = false;
    zero.disabled = false;
  });

  const move = (e, value) => state.setZ(state.model.ranges.map(([lo, hi], i) => clamp(value(i), lo, hi)), { t: eventTime(e), source: 'buttons' });
  samplePrior.addEventListener('click', (e) => {
    const t = state.view.temperature || 1;
    move(e, () => t * randn());
  });
  zero.addEventListener('click', (e) => move(e, () => 0));
}
