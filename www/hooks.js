// What tests and scripts/measure.mjs read from the page, set up in one place:
// window.vaeStats (latencies, backend, busy(), auto, wasmMemoryBytes()), document.body's
// data-ready/-first-backend/-backend/-model, and window.vaeTestHooks, which tests may set and the page only
// reads (testHook).

import { wasmMemoryBytes } from './load.js';

/** A hook a test installed in window.vaeTestHooks (the page never sets one). */
export const testHook = (name) => globalThis.vaeTestHooks?.[name];

export function exposeForTests({ stats, engine, state, policy, doc = document }) {
  stats.busy = () => engine.busy();
  stats.auto = policy.auto;
  // For the soak test: WebAssembly memory grows but never shrinks, so this is its peak.
  stats.wasmMemoryBytes = wasmMemoryBytes;
  globalThis.vaeStats = stats;
  engine.on('first-image', () => {
    doc.body.dataset.ready = 'true';
    // Which backend painted first: auto may have moved on by the time a test looks.
    doc.body.dataset.firstBackend = stats.backend;
  });
  engine.on('explorer', () => {
    doc.body.dataset.backend = stats.backend;
  });
  state.on('model', (model) => {
    doc.body.dataset.model = model.entry.name;
  });
}
