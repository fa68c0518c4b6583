// Training panel: closed until the person opens it, so neither its code nor the training
// wasm is downloaded before then (the first image's download does not grow). Opening loads
// train/controller.js, which does the rest; closing only hides it (a run goes on).

import { errorText, sentence } from '../lib/format.js';

/** `useModel({manifestText, weights})` makes a trained bundle the explorer's model (→ boolean). */
export function mountTraining({ state, engine, useModel, doc = document }) {
  const toggle = doc.getElementById('training-open');
  const body = doc.getElementById('training-body');
  const error = doc.getElementById('training-error');
  let loading = null;

  toggle.addEventListener('click', async () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? 'Hide training' : 'Open training';
    body.hidden = !open;
    if (!open) return;
    loading ??= import('../train/controller.js').then((m) => m.startTrainingPanel({ state, engine, useModel, doc }));
    try {
      await loading;
    } catch (err) {
      loading = null; // opening again tries again
      console.error(err);
      error.textContent = `Could not load the training code: ${sentence(errorText(err))}`;
      error.hidden = false;
    }
  });
}
