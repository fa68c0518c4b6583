// Which model the page shows: the first load (the model list, the model the address names or
// the first) and switching in place. A model downloads and starts while the current one stays
// active; it becomes the page's through the engine's swap. If it fails, the current one stays.

import { BACKEND_LABEL } from './lib/backends.js';
import { errorText, sentence } from './lib/format.js';
import { bundleBase, fetchBundle, fetchIndex, loadModule } from './load.js';
import { defaultAnchors, describeLatents } from './state.js';

export class Models {
  #indexUrl = null;
  #switching = false;

  /**
   * `restore(model)` gives z and the anchors from the address on the first load (and applies
   * its view options).
   */
  constructor({ state, engine, policy, messages, requestedModel, restore }) {
    Object.assign(this, { state, engine, policy, messages, requestedModel, restore });
  }

  get #label() {
    return BACKEND_LABEL[this.policy.requested];
  }

  async load() {
    const { state, policy, messages } = this;
    messages.status(`Backend: ${this.#label} — loading…`);
    this.#indexUrl = new URL('models/index.json', document.baseURI);
    this.first = loadModule(policy.firstModule);
    const adapter = policy.hasAdapter();
    const models = await fetchIndex(this.#indexUrl);
    let entry = models[0];
    if (this.requestedModel) {
      const found = models.find((m) => m.name === this.requestedModel);
      if (found) entry = found;
      else messages.error(`There is no model named “${this.requestedModel}”; showing “${entry.name}” instead.`, 'url');
    }
    state.setModels(models);
    state.emit('selected', entry);
    const [started, found] = await Promise.all([this.#start(entry), adapter]);
    policy.afterFirstModel(found);
    this.#activate(started, { fromUrl: true });
    if (policy.auto.state === 'measuring') policy.measureAuto();
  }

  /** After a failed first load: the reason in words (with the wasm module's, if that failed too). */
  async fail(err) {
    console.error(err);
    this.messages.status('Backend: not loaded');
    let message = sentence(errorText(err));
    // Both are missing before the first build.
    const [wasm] = await Promise.allSettled([this.first]);
    if (wasm.status === 'rejected' && wasm.reason !== err) message += ` ${sentence(errorText(wasm.reason))}`;
    this.messages.error(message, 'load');
    if (!this.state.model) this.state.emit('failed');
  }

  /**
   * Switches models in place; resolves to false (and says why) if the new one failed and the
   * current one stays.
   */
  async switchTo(name) {
    const { state, messages } = this;
    const entry = state.models.find((m) => m.name === name);
    if (!entry || this.#switching || entry === state.model?.entry) return true;
    this.#switching = true;
    try {
      this.#activate(await this.#start(entry), { fromUrl: false });
      messages.clearError('model');
      return true;
    } catch (err) {
      console.error(err);
      messages.error(`Could not switch to “${entry.title || entry.name}”: ${sentence(errorText(err))} The previous model stays active.`, 'model');
      messages.renderStatus();
      return false;
    } finally {
      this.#switching = false;
    }
  }

  /** Downloads a bundle and starts it; changes nothing on the page but the status line. */
  async #start(entry) {
    const { policy, messages, state } = this;
    let failed = false;
    let backend;
    const onProgress = (n) => {
      // A download still running after the load failed must not overwrite the failure.
      if (!failed) messages.status(`Backend: ${this.#label} — loading weights (${(n / 1e6).toFixed(1)} MB)…`);
    };
    const onManifest = (manifest) => {
      if (!state.model) state.emit('preview', { entry, manifest });
      backend = policy.backendForNewModels();
      return policy.moduleFor(backend);
    };
    try {
      const bundle = await fetchBundle(bundleBase(entry, this.#indexUrl), { onProgress, onManifest });
      const module = bundle.extra;
      messages.status(`Backend: ${this.#label} — starting the model…`);
      let explorer;
      try {
        explorer = await policy.create(module, bundle, backend);
      } catch (err) {
        throw new Error(`Could not start the model: ${sentence(errorText(err))}`);
      }
      const { manifest } = bundle;
      const dim = Number(explorer.latentDim) || Number(manifest.latent_dim) || manifest.latent?.length || 0;
      if (!(dim > 0)) throw new Error('The model reports no latent dimensions.');
      return { entry, bundle, module, explorer, model: describeLatents(entry, manifest, dim) };
    } catch (err) {
      failed = true;
      throw err;
    }
  }

  /** Makes a started model the page's: z (from the address on the first load) and the anchors. */
  #activate({ bundle, module, explorer, model }, { fromUrl }) {
    const { z, anchors } = fromUrl ? this.restore(model) : { z: undefined, anchors: defaultAnchors(model) };
    this.policy.describe(explorer);
    this.engine.swap({ explorer, module, bundle, model, z, anchors, reencode: true });
  }
}
