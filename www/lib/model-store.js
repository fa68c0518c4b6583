// Models kept in this browser's own storage (IndexedDB "vae-explorer", object store "models",
// see local-db.js): trained in the page or opened from a file. Nothing here is ever sent
// anywhere. Every failure (no IndexedDB, private mode, a full disk) is an Error in words; the
// caller keeps the model for this visit. Imports without a DOM (the naming helpers are tested
// under Node).

import { LocalDb, done } from './local-db.js';

/** A name for the address and the Model menu: lower-case letters, digits and dashes. */
export function slugify(text, fallback = 'my-model') {
  const slug = String(text ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return slug || fallback;
}

/** `base` if nobody has it, else the first free of "base-2", "base-3", … */
export function uniqueName(base, taken) {
  const names = new Set(taken);
  const stem = slugify(base);
  if (!names.has(stem)) return stem;
  for (let k = 2; ; k++) if (!names.has(`${stem}-${k}`)) return `${stem}-${k}`;
}

/** "My model · 2-D · trained 14:05": what the Model menu lists for a stored model. */
export function localTitle(manifest, how = 'trained', date = new Date()) {
  const base = manifest?.title || manifest?.name || 'My model';
  const dim = Number(manifest?.latent_dim) || manifest?.latent?.length;
  const hhmm = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  // The latent size, unless the title already says it ("MNIST, 2-D latent …").
  const size = dim && !base.includes(`${dim}-D`) ? `${dim}-D` : null;
  return [base, size, `${how} ${hhmm}`].filter(Boolean).join(' · ');
}

const STORE = 'models';
const FULL = 'Free some space, or download the model to keep it.';

export class ModelStore {
  #db;

  /** `idb` is the IndexedDB factory (tests may pass a fake; undefined means unavailable). */
  constructor({ idb = globalThis.indexedDB } = {}) {
    this.#db = new LocalDb({ idb });
  }

  /** Runs `fn(store)` in one transaction; resolves to what fn's request gave once it commits. */
  #run(mode, doing, fn) {
    return this.#db.run(STORE, mode, doing, fn, FULL);
  }

  /** Every stored model, oldest first, without its weights: [{name, title, savedAt}]. */
  async list() {
    const all = await this.#run('readonly', 'list the stored models', (store) => done(store.getAll()));
    return all.map(({ name, title, savedAt }) => ({ name, title, savedAt })).sort((a, b) => a.savedAt - b.savedAt);
  }

  /** One stored model {name, title, savedAt, manifestText, weights}, or null. */
  async get(name) {
    return (await this.#run('readonly', 'read the stored model', (store) => done(store.get(name)))) ?? null;
  }

  /**
   * Keeps a model under a name no stored model and none of `taken` has (from `name`); resolves
   * to the record as stored.
   */
  async save({ name, title, manifestText, weights }, { taken = [] } = {}) {
    const record = { name: '', title, savedAt: Date.now(), manifestText, weights };
    return this.#run('readwrite', 'keep the model', (store) => done(store.getAllKeys()).then((keys) => {
      // Chosen and added in one transaction: two tabs saving at once cannot take the same name.
      record.name = uniqueName(name, [...taken, ...keys]);
      return done(store.add(record)).then(() => record);
    }));
  }

  async delete(name) {
    await this.#run('readwrite', 'remove the model', (store) => done(store.delete(name)));
  }
}
