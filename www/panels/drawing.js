// Draw panel: the drawing pad, the image the encoder sees (preprocessed to the model's image
// size), Clear, and "Sample from posterior". A drawing is encoded whenever it changes and
// again by every new explorer; its posterior moves z to μ.

import { DrawingPad } from '../draw.js';
import { mnistPreprocess, boxFor } from '../lib/preprocess.js';
import { DEFAULT_IMAGE, paintImages, sizeCanvas } from '../lib/image.js';
import { eventTime } from '../lib/format.js';
import { randn } from '../lib/latent-math.js';

export function mountDrawing({ state, engine, messages, doc = document }) {
  const input = doc.getElementById('encoder-input');
  const clear = doc.getElementById('clear');
  const samplePosterior = doc.getElementById('sample-posterior');
  const sizeTexts = doc.querySelectorAll('[data-image-size]');
  const boxText = doc.querySelector('[data-box-size]');
  let image = DEFAULT_IMAGE;
  let epoch = 0; // bumped by Clear: results of encodes started before are dropped
  const blank = () => paintImages(input, new Float32Array(image.width * image.height), image);

  const encoder = engine.createEncoder({
    run: async (explorer) => {
      const started = epoch;
      if (pad.isEmpty) return null;
      const ink = pad.ink();
      const pixels = mnistPreprocess(ink.data, ink.width, ink.height, { ...ink, field: image });
      if (!pixels) return null; // no ink: nothing to encode
      paintImages(input, pixels, image);
      state.setDrawing({ pixels, ...image });
      return { r: await explorer.encode(pixels), epoch: started };
    },
    apply: (res) => {
      if (!res || res.epoch !== epoch) return false;
      const get = (k) => (res.r instanceof Map ? res.r.get(k) : res.r?.[k]);
      const mu = Array.from(get('mu') ?? []);
      const logVar = Array.from(get('logVar') ?? get('log_var') ?? []);
      const dim = state.latentDim;
      if (mu.length !== dim || logVar.length !== dim) {
        throw new Error(`the encoder returned ${mu.length} means and ${logVar.length} log-variances for ${dim} dimensions`);
      }
      state.setPosterior({ mu, sigma: logVar.map((lv) => Math.exp(0.5 * lv)) });
      messages.clearError('encode');
      state.setZ(mu, { source: 'encoder' });
      return true;
    },
  });

  const pad = new DrawingPad(doc.getElementById('pad'), {
    onChange: ({ t }) => {
      if (engine.explorer) encoder.submit(null, t);
    },
  });
  blank();

  clear.addEventListener('click', () => {
    epoch++;
    pad.clear();
    encoder.cancelPending();
    state.setPosterior(null);
    state.setDrawing(null);
    blank();
    messages.clearError('encode');
  });

  samplePosterior.addEventListener('click', (e) => {
    const p = state.posterior;
    if (!p) return;
    state.setZ(p.mu.map((mu, i) => mu + p.sigma[i] * randn()), { t: eventTime(e), source: 'buttons' });
  });

  state.on('model', (model) => {
    if (model.image.width !== image.width || model.image.height !== image.height) {
      image = model.image;
      sizeCanvas(input, image);
      blank();
    }
    const size = `${image.width}×${image.height}`;
    input.setAttribute('aria-label', `Encoder input (${size})`);
    for (const el of sizeTexts) el.textContent = size;
    const box = boxFor(image);
    if (boxText) boxText.textContent = `${box.width}×${box.height}`;
    samplePosterior.disabled = true;
  });
  state.on('posterior', (p) => {
    samplePosterior.disabled = !p;
  });
  // A drawing on the pad is encoded again by a new model, or the same model on the CPU.
  engine.on('explorer', ({ reencode }) => {
    if (reencode && !pad.isEmpty) encoder.submit(null, performance.now());
  });
}
