// Which model the page shows: the first load (the model list, the model the address names or
// the first) and switching in place. A model downloads (or, if it is kept in this browser,
// comes from its storage) and starts while the current one stays active; it becomes the
// page's through the engine's swap. If it fails, the current one stays.
//
// Local models (trained in the page or opened from a file) are listed after the shipped ones,
// with `local: true`, and kept in IndexedDB (lib/model-store.js) so they outlive a reload.

import { BACKEND_LABEL } from './lib/backends.js';
import { errorText, sentence } from './lib/format.js';
import { ModelStore, localTitle, uniqueName } from './lib/model-store.js';
import { MAX_WEIGHTS_BYTES, bundleBase, fetchBundle, fetchIndex, loadModule, startExplorer } from './load.js';
import { Backend } from './lib/backends.js';
import { defaultAnchors, describeLatents } from './state.js';

/** How long the first load waits for the browser's storage before listing the shipped models only. */
const STORE_WAIT_MS = 3000;

/** A bundle's manifest text as an object, or an error in words. */
function parseManifest(manifestText) {
  if (typeof manifestText !== 'string') throw new Error('The model has no manifest.');
  let manifest;
  try {
    manifest = JSON.parse(manifestText);
  } catch (err) {
    throw new Error(`The model manifest is not valid JSON: ${errorText(err)}`);
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw new Error('The model manifest is not a JSON object.');
  return manifest;
}

export class Models {
  #indexUrl = null;
  /** The switch under way (a promise), or null. */
  #switching = null;
  /** Bundles of local models the storage could not keep: they last for this visit. */
  #unsaved = new Map();

  /**
   * `restore(model)` gives z and the anchors from the address on the first load (and applies
   * its view options). `store` keeps local models (a ModelStore).
   */
  constructor({ state, engine, policy, messages, requestedModel, restore, store = new ModelStore() }) {
    Object.assign(this, { state, engine, policy, messages, requestedModel, restore, store });
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
    const [shipped, local] = await Promise.all([fetchIndex(this.#indexUrl), this.#listLocal()]);
    const models = [...shipped, ...local.filter((m) => !shipped.some((s) => s.name === m.name))];
    let entry = models[0];
    if (this.requestedModel) {
      const found = models.find((m) => m.name === this.requestedModel);
      if (found) entry = found;
      else messages.error(`There is no model named “${this.requestedModel}”; showing “${entry.name}” instead.`, 'url');
    }
    state.setModels(models);
    state.emit('selected', entry);
    const first = Promise.all([this.#startFirst(entry, models[0]), adapter]).then(([started, found]) => {
      policy.afterFirstModel(found);
      this.#activate(started, { fromUrl: true });
    });
    // Counts as a switch: a model opened or trained meanwhile waits for it, not the reverse.
    this.#switching = first.catch(() => {}).then(() => {
      this.#switching = null;
    });
    await first;
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
    const entry = this.state.models.find((m) => m.name === name);
    if (!entry || this.#switching || entry === this.state.model?.entry) return true;
    return this.#switch(entry);
  }

  /**
   * Makes a bundle made in this page ({manifestText, weights}: trained, or opened from a file)
   * the explorer's model: started like any other, then kept in this browser's storage, listed
   * in the Model menu and made current. Resolves to false (and says why) if it could not start;
   * the current model then stays. If the storage fails, the model still works for this visit.
   */
  async useLocal({ manifestText, weights }, { title } = {}) {
    const { state, messages } = this;
    let manifest;
    try {
      manifest = parseManifest(manifestText);
      if (weights instanceof ArrayBuffer) weights = new Uint8Array(weights);
      if (!(weights instanceof Uint8Array) || weights.length === 0) throw new Error('The model has no weights.');
      if (weights.length > MAX_WEIGHTS_BYTES) throw new Error(`Its weights are larger than ${MAX_WEIGHTS_BYTES / 2 ** 20} MB: not a model this explorer can load.`);
    } catch (err) {
      messages.error(`This model cannot be used: ${sentence(errorText(err))} The current model stays active.`, 'model');
      return false;
    }
    await this.#idle();
    const taken = state.models.map((m) => m.name);
    const entry = { name: uniqueName(manifest.name || 'my-model', taken), title: title || localTitle(manifest), local: true, savedAt: Date.now() };
    const bundle = { manifestText, weights };
    this.#unsaved.set(entry.name, bundle);
    const ok = await this.#switch(entry, async () => {
      // Started: now it is worth keeping. The store may pick another free name.
      this.#unsaved.delete(entry.name);
      try {
        const saved = await this.store.save({ ...entry, ...bundle }, { taken });
        Object.assign(entry, { name: saved.name, savedAt: saved.savedAt });
      } catch (err) {
        console.error(err);
        this.#unsaved.set(entry.name, bundle);
        messages.error(`${sentence(errorText(err))} “${entry.title}” works until the page is closed; download it to keep it.`, 'storage');
        entry.title += ' · this visit only';
      }
      state.setModels([...state.models, entry]);
    });
    if (!ok) this.#unsaved.delete(entry.name);
    return ok;
  }

  /**
   * Removes a local model from the list and from this browser's storage. The current model is
   * first replaced by the first shipped one; resolves to false (and says why) if it could not be.
   */
  async removeLocal(name) {
    const { state, messages } = this;
    await this.#idle();
    const entry = state.models.find((m) => m.name === name && m.local);
    if (!entry) return false;
    if (entry === state.model?.entry) {
      const other = state.models.find((m) => !m.local) ?? state.models.find((m) => m !== entry);
      if (!other || !(await this.#switch(other))) return false;
    }
    try {
      if (!this.#unsaved.delete(name)) await this.store.delete(name);
    } catch (err) {
      console.error(err);
      messages.error(sentence(errorText(err)), 'storage');
      return false;
    }
    messages.clearError('storage');
    state.setModels(state.models.filter((m) => m !== entry));
    return true;
  }

  /** Waits for a switch under way to end. */
  async #idle() {
    while (this.#switching) await this.#switching;
  }

  /** Starts `entry` and makes it the page's (after `beforeActivate`); false if it failed. */
  #switch(entry, beforeActivate = () => {}) {
    const { messages } = this;
    const run = async () => {
      try {
        const started = await this.#start(entry);
        await beforeActivate();
        this.#activate(started, { fromUrl: false });
        messages.clearError('model');
        return true;
      } catch (err) {
        console.error(err);
        messages.error(`Could not switch to “${entry.title || entry.name}”: ${sentence(errorText(err))} The previous model stays active.`, 'model');
        messages.renderStatus();
        return false;
      } finally {
        this.#switching = null;
      }
    };
    this.#switching = run();
    return this.#switching;
  }

  /**
   * A second model for side-by-side views (Compare models): the list entry named `name`,
   * started on the CPU backend beside the page's explorer, which it never replaces. Resolves
   * to `{explorer, model}`; the caller frees `explorer` when done.
   */
  async openSide(name) {
    const entry = this.state.models.find((m) => m.name === name);
    if (!entry) throw new Error(`There is no model named “${name}”.`);
    const bundle = entry.local
      ? await this.#localBundle(entry, () => null)
      : await fetchBundle(bundleBase(entry, this.#indexUrl));
    const module = await loadModule(Backend.CPU);
    let explorer;
    try {
      explorer = await startExplorer(module, bundle, Backend.CPU);
    } catch (err) {
      throw new Error(`Could not start “${entry.title || entry.name}”: ${sentence(errorText(err))}`);
    }
    const dim = Number(explorer.latentDim) || 0;
    return { explorer, model: this.#describe(entry, bundle.manifest, dim) };
  }

  /** The page's view of a started model; `base` is its bundle's folder (null for a local one). */
  #describe(entry, manifest, dim) {
    return { ...describeLatents(entry, manifest, dim), base: entry.local ? null : bundleBase(entry, this.#indexUrl).href };
  }

  /** The models kept in this browser as list entries; none if its storage is unavailable or slow. */
  async #listLocal() {
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), STORE_WAIT_MS));
    try {
      const stored = await Promise.race([this.store.list(), timeout]);
      if (!stored) console.warn('the browser storage did not answer in time; local models are not listed');
      return (stored ?? []).map(({ name, title, savedAt }) => ({ name, title: title || name, local: true, savedAt }));
    } catch (err) {
      // No storage (private mode, disabled): there is nothing stored to list either.
      console.warn('local models are not listed:', err);
      return [];
    }
  }

  /** The first load's model; a stored model that no longer starts gives way to `fallback`. */
  async #startFirst(entry, fallback) {
    try {
      return await this.#start(entry);
    } catch (err) {
      if (!entry.local || fallback === entry) throw err;
      console.error(err);
      this.messages.error(`Could not open “${entry.title}”: ${sentence(errorText(err))} Showing “${fallback.title || fallback.name}” instead.`, 'model');
      this.state.emit('selected', fallback);
      return this.#start(fallback);
    }
  }

  /** A local model's bundle, from memory or this browser's storage, shaped like fetchBundle's. */
  async #localBundle(entry, onManifest) {
    const stored = this.#unsaved.get(entry.name) ?? (await this.store.get(entry.name));
    if (!stored?.weights) throw new Error('It is no longer in this browser\'s storage.');
    const manifest = parseManifest(stored.manifestText);
    const extra = await onManifest(manifest);
    return { manifest, manifestText: stored.manifestText, weights: stored.weights, extra };
  }

  /**
   * Downloads a bundle (or takes a local one) and starts it; changes nothing on the page but
   * the status line.
   */
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
      const bundle = entry.local
        ? await this.#localBundle(entry, onManifest)
        : await fetchBundle(bundleBase(entry, this.#indexUrl), { onProgress, onManifest });
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
      return { entry, bundle, module, explorer, model: this.#describe(entry, manifest, dim) };
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
