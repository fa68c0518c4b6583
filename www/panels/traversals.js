// Traversals panel: one strip per dimension, decoded in one batch after each main image;
// inactive dimensions' strips collapsed behind "Show N inactive dimensions".

import { Traversals, STEPS } from '../traversals.js';
import { eventTime } from '../lib/format.js';
import { bindInactiveToggle } from '../lib/inactive-toggle.js';
import { canvasesToPng, pngName, saveBlob } from '../lib/download.js';

export function mountTraversals({ state, engine, stats, messages, doc = document }) {
  const traversals = new Traversals(doc.getElementById('traversals'), {
    onPick: (dim, value, t) => state.setDim(dim, value, { t: eventTime({ timeStamp: t }), source: 'traversals' }),
  });
  const submit = engine.sideBatch({
    latencies: stats.traversalMs,
    failure: 'Decoding the traversals failed',
    source: 'traversals',
    apply: (pixels, job) => traversals.paint(job.z, pixels),
  });

  state.on('model', (model) => {
    traversals.setModel(model.ranges, model.inactive, model.image);
    traversals.setOrder(state.order);
  });
  // The strips on show, in their order, without the markers: one image per row.
  const download = doc.getElementById('download-strips');
  engine.on('painted', () => (download.disabled = false));
  download.addEventListener('click', async () => {
    try {
      saveBlob(await canvasesToPng(traversals.plainCanvases(doc), 4, doc), pngName(state.model, 'traversals', 4), doc);
    } catch (err) {
      messages?.error(`Could not save the strips: ${err.message}`, 'download');
    }
  });
  state.on('view', (changed) => state.model && changed.includes('order') && traversals.setOrder(state.order));
  bindInactiveToggle({ button: doc.getElementById('strips-inactive'), state, doc, apply: (visible) => traversals.setVisible(visible) });
  // The strips follow the main image, so they never delay it.
  engine.on('painted', () => {
    const z = Float32Array.from(state.z);
    submit({ z, zs: () => traversals.batchFor(z), n: z.length * STEPS });
  });
}
