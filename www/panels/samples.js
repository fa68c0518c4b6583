// Samples panel: 32 prior samples at temperature T (downloadable as a PNG), and after a drawing
// 9 posterior samples.

import { gridBatch } from '../grid-batch.js';
import * as lm from '../lib/latent-math.js';
import { canvasesToPng, pngName, saveBlob } from '../lib/download.js';

const PRIOR = { cols: 8, rows: 4 };
const POSTERIOR_SAMPLES = 9;

export function mountSamples({ state, engine, stats, messages, doc = document }) {
  const $ = (id) => doc.getElementById(id);
  const temperature = $('temperature');
  const temperatureValue = $('temperature-value');
  const newSamples = $('new-samples');
  const download = $('download-samples');
  const prior = gridBatch({ state, engine, stats, canvas: $('prior-grid'), name: 'prior samples', ...PRIOR, label: 'Prior samples', onPaint: () => (download.disabled = false) });
  download.addEventListener('click', async () => {
    try {
      saveBlob(await canvasesToPng([$('prior-grid')], 4, doc), pngName(state.model, 'samples', 4), doc);
    } catch (err) {
      messages?.error(`Could not save the samples: ${err.message}`, 'download');
    }
  });
  const posterior = gridBatch({ state, engine, stats, canvas: $('posterior-grid'), name: 'posterior samples', cols: POSTERIOR_SAMPLES, rows: 1, label: 'Posterior samples' });

  function newPriorSamples() {
    if (!state.model) return;
    prior.update(lm.priorSamples(PRIOR.cols * PRIOR.rows, state.latentDim, state.view.temperature || 1));
  }

  newSamples.addEventListener('click', newPriorSamples);
  temperature.addEventListener('input', () => state.setView({ temperature: Number(temperature.value) }));

  state.on('view', (changed) => {
    if (!changed.includes('temperature')) return;
    temperature.value = String(state.view.temperature);
    // The range input keeps its value on its step grid: the view holds what it shows.
    state.view.temperature = Number(temperature.value);
    temperatureValue.textContent = state.view.temperature.toFixed(2);
    newPriorSamples();
  });
  state.on('model', () => {
    temperature.disabled = false;
    newSamples.disabled = false;
    posterior.grid.paint(null);
    newPriorSamples();
  });
  state.on('posterior', (p) => {
    if (p) posterior.update(lm.posteriorSamples(POSTERIOR_SAMPLES, p.mu, p.sigma));
    else posterior.grid.paint(null);
  });
}
