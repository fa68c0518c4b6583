// An ImageGrid fed by side-panel batches (engine.sideBatch): each update decodes its latent
// vectors in one latest-wins batch, and picking a cell moves z to that cell's vector. Used by
// the interpolation and samples panels.

import { ImageGrid } from './image-grid.js';
import { eventTime } from './lib/format.js';

/**
 * @returns {{grid: ImageGrid, update: (zs: Float32Array) => void}}
 */
export function gridBatch({ state, engine, stats, canvas, name, onPaint = () => {}, ...layout }) {
  let shown = null;
  const grid = new ImageGrid(canvas, layout);
  stats.gridMs[name] = [];
  const submit = engine.sideBatch({
    latencies: stats.gridMs[name],
    failure: `Decoding the ${name} failed`,
    source: name,
    apply: (pixels, job) => {
      shown = { zs: job.zs, dim: job.zs.length / job.n };
      grid.paint(pixels);
      onPaint();
    },
  });
  grid.onPick = (k, t) => shown && state.setZ(shown.zs.subarray(k * shown.dim, (k + 1) * shown.dim), { t: eventTime({ timeStamp: t }), source: name });
  state.on('model', (model) => grid.setImage(model.image));
  return { grid, update: (zs) => submit({ zs, n: zs.length / state.latentDim }) };
}
