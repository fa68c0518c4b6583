// The page's own IndexedDB database, "vae-explorer": its version, its object stores and how an
// older database is upgraded, plus the transaction helper and the failures in words that the
// stores on top of it (model-store.js, drawing-store.js) share. Nothing here is ever sent
// anywhere. Imports without a DOM: the upgrade is tested under Node with a fake database.

export const DB_NAME = 'vae-explorer';
/** 1: "models". 2: "drawings" added (the models are kept). */
export const DB_VERSION = 2;
/** Every object store of the current version, with how its records are keyed. */
export const STORES = Object.freeze({
  models: { keyPath: 'name' },
  drawings: { keyPath: 'id' },
});

/**
 * Brings a database of any older version (or a new, empty one) to DB_VERSION: creates the
 * stores it lacks and leaves the others, and their records, as they are.
 */
export function upgrade(db) {
  const created = [];
  for (const [name, options] of Object.entries(STORES)) {
    if (db.objectStoreNames.contains(name)) continue;
    db.createObjectStore(name, options);
    created.push(name);
  }
  return created;
}

/** A failure already in words. */
export class StoreError extends Error {}

/**
 * An IndexedDB failure in words: the page could not `doing`. `whenFull` ends the sentence for a
 * full disk (what the person can do about it).
 */
export function storageError(err, doing, whenFull = '') {
  if (err instanceof StoreError) return err;
  const name = err?.name ?? '';
  if (name === 'QuotaExceededError') return new StoreError(`The browser's storage is full, so the page could not ${doing}.${whenFull ? ` ${whenFull}` : ''}`);
  if (name === 'InvalidStateError' || name === 'SecurityError' || name === 'UnknownError') {
    return new StoreError(`This browser does not let the page use its storage (IndexedDB: ${err.message || name}), so the page could not ${doing}.`);
  }
  return new StoreError(`The page could not ${doing} in this browser's storage: ${err?.message || name || 'unknown error'}.`);
}

/** An IDBRequest as a promise. */
export const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

/** One connection to the database, opened (and upgraded) on first use. */
export class LocalDb {
  #db = null;

  /** `idb` is the IndexedDB factory (tests may pass a fake; undefined means unavailable). */
  constructor({ idb = globalThis.indexedDB } = {}) {
    this.idb = idb;
  }

  #open(doing) {
    if (!this.#db) {
      this.#db = new Promise((resolve, reject) => {
        if (!this.idb) throw new StoreError(`This browser gives the page no storage (no IndexedDB), so the page could not ${doing}.`);
        const req = this.idb.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => upgrade(req.result);
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

  /**
   * Runs `fn(objectStore)` in one transaction on `store`; resolves to what fn's promise gave
   * once the transaction commits. Failures are StoreErrors saying the page could not `doing`.
   */
  async run(store, mode, doing, fn, whenFull = '') {
    const db = await this.#open(doing);
    try {
      const tx = db.transaction(store, mode);
      const result = Promise.resolve(fn(tx.objectStore(store)));
      // A failed request also aborts the transaction: its error is reported once, from there.
      result.catch(() => {});
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error('the transaction was aborted'));
      });
      return await result;
    } catch (err) {
      throw storageError(err, doing, whenFull);
    }
  }
}
