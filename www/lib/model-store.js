// Models kept in this browser's own storage (IndexedDB "vae-explorer", object store "models"):
// trained in the page or opened from a file. Nothing here is ever sent anywhere. Every failure
// (no IndexedDB, private mode, a full disk) is an Error in words; the caller keeps the model
// for this visit. Imports without a DOM (the naming helpers are tested under Node).

const DB_NAME = 'vae-explorer';
const STORE = 'models';
const VERSION = 1;

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

/** A failure already in words. */
class StoreError extends Error {}

/** An IndexedDB failure in words. */
function storageError(err, doing) {
  if (err instanceof StoreError) return err;
  const name = err?.name ?? '';
  if (name === 'QuotaExceededError') return new StoreError(`The browser's storage is full, so the page could not ${doing}. Free some space, or download the model to keep it.`);
  if (name === 'InvalidStateError' || name === 'SecurityError' || name === 'UnknownError') {
    return new StoreError(`This browser does not let the page use its storage (IndexedDB: ${err.message || name}), so the page could not ${doing}.`);
  }
  return new StoreError(`The page could not ${doing} in this browser's storage: ${err?.message || name || 'unknown error'}.`);
}

/** An IDBRequest as a promise. */
const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

export class ModelStore {
  #db = null;

  /** `idb` is the IndexedDB factory (tests may pass a fake; undefined means unavailable). */
  constructor({ idb = globalThis.indexedDB } = {}) {
    this.idb = idb;
  }

  /** The database, opened (and created) once. */
  #open(doing) {
    if (!this.#db) {
      this.#db = new Promise((resolve, reject) => {
        if (!this.idb) throw new StoreError(`This browser gives the page no storage (no IndexedDB), so the page could not ${doing}.`);
        const req = this.idb.open(DB_NAME, VERSION);
        req.onupgradeneeded = () => {
          if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: 'name' });
        };
        req.onsuccess = () => {
          const db = req.result;
          // Another tab upgrading the database: let it, and open again next time.
          db.onversionchange = () => {
            db.close();
            this.#db = null;
          };
          resolve(db);
        };
        req.onerror = () => reject(storageError(req.error, doing));
        req.onblocked = () => reject(new StoreError(`The browser's storage is busy in another tab, so the page could not ${doing}.`));
      });
      this.#db.catch(() => {
        this.#db = null;
      });
    }
    return this.#db;
  }

  /** Runs `fn(store)` in one transaction; resolves to what fn's request gave once it commits. */
  async #run(mode, doing, fn) {
    const db = await this.#open(doing);
    try {
      const tx = db.transaction(STORE, mode);
      const result = Promise.resolve(fn(tx.objectStore(STORE)));
      // A failed request also aborts the transaction: its error is reported once, from there.
      result.catch(() => {});
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error('the transaction was aborted'));
      });
      return await result;
    } catch (err) {
      throw storageError(err, doing);
    }
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
