// Traversals panel: one strip per dimension, decoded in one batch after each main image;
// inactive dimensions' strips collapsed behind "Show N inactive dimensions".

import { Traversals, STEPS } from '../traversals.js';
import { eventTime } from '../lib/format.js';
import { bindInactiveToggle } from '../lib/inactive-toggle.js';

export function mountTraversals({ state, engine, stats, doc = document }) {
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
  state.on('view', (changed) => state.model && changed.includes('order') && traversals.setOrder(state.order));
  bindInactiveToggle({ button: doc.getElementById('strips-inactive'), state, doc, apply: (visible) => traversals.setVisible(visible) });
  // The strips follow the main image, so they never delay it.
  engine.on('painted', () => {
    const z = Float32Array.from(state.z);
    submit({ z, zs: () => traversals.batchFor(z), n: z.length * STEPS });
  });
}
