// The person's drawings for training, kept in this browser's own storage (IndexedDB
// "vae-explorer", object store "drawings", see local-db.js) so that a reload loses none of
// them. Nothing here is ever sent anywhere. KeptDrawings is the list the Training panel shows:
// it works in memory first and stores as it goes; when the storage is missing or fails it
// carries on in memory and says so once. Imports without a DOM: tested under Node with a fake
// store.

import { LocalDb, done } from './local-db.js';
import { NO_LABEL, toBytes, toFloats } from './training-data.js';

const STORE = 'drawings';
/** Largest side of a stored drawing (the pad draws at the explored model's image size). */
const MAX_SIDE = 512;

let sequence = 0;

/**
 * A new drawing's key: the time, then a counter, then a random tail, so that sorting the keys
 * as strings gives the order they were added in (within a tab, even in one millisecond), and
 * two tabs cannot collide.
 */
export function newDrawingId(now = Date.now(), random = Math.random) {
  const time = Math.floor(now).toString(36).padStart(9, '0');
  const seq = (sequence++ % 36 ** 4).toString(36).padStart(4, '0');
  return `${time}-${seq}-${Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')}`;
}

/**
 * A drawing as stored: its ink as bytes (what training takes from it anyway, see
 * drawingToImage), its size and its label.
 */
export function drawingRecord({ id, pixels, width, height, label }) {
  return { id, width, height, label, pixels: toBytes(pixels) };
}

/**
 * A stored record back as a drawing {id, pixels ([0, 1] floats), width, height, label}, or null
 * for a record that is not one (damaged, or written by something else).
 */
export function restoreDrawing(record) {
  const { id, width, height, label, pixels } = record ?? {};
  const side = (v) => Number.isInteger(v) && v > 0 && v <= MAX_SIDE;
  if (typeof id !== 'string' || !side(width) || !side(height)) return null;
  if (!(pixels instanceof Uint8Array) || pixels.length !== width * height) return null;
  if (!(label === NO_LABEL || (Number.isInteger(label) && label >= 0 && label <= 9))) return null;
  return { id, pixels: toFloats(pixels), width, height, label };
}

/**
 * The stored drawings plus those added in memory that are not among them (added while the
 * stored ones were being read, or never stored), in the order they were added.
 */
export function mergeDrawings(stored, inMemory) {
  const ids = new Set(stored.map((d) => d.id));
  return [...stored, ...inMemory.filter((d) => !ids.has(d.id))].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The "drawings" object store; every failure is an Error in words. */
export class DrawingStore {
  #db;

  /** `idb` is the IndexedDB factory (undefined means unavailable). */
  constructor({ idb = globalThis.indexedDB } = {}) {
    this.#db = new LocalDb({ idb });
  }

  /** Every stored record, in key order (the order they were added in). */
  list() {
    return this.#db.run(STORE, 'readonly', 'read your stored drawings', (store) => done(store.getAll()));
  }

  add(record) {
    return this.#db.run(STORE, 'readwrite', 'keep your drawing', (store) => done(store.add(record)));
  }

  clear() {
    return this.#db.run(STORE, 'readwrite', 'remove your stored drawings', (store) => done(store.clear()));
  }
}

/**
 * The person's drawings: `list` ({id, pixels, width, height, label}, oldest first) changes at
 * once, and the store follows. The first storage failure calls `onUnkept(err, when)` ('load',
 * 'add' or 'clear'), once; from then on new drawings stay in memory only (for this visit),
 * while "remove" still clears the store so that nothing removed comes back.
 */
export class KeptDrawings {
  list = [];
  #store;
  #onUnkept;
  #keeping = true;
  /** Bumped by clear(): a load that started before it must not bring the drawings back. */
  #generation = 0;

  constructor({ store = new DrawingStore(), onUnkept = () => {} } = {}) {
    this.#store = store;
    this.#onUnkept = onUnkept;
  }

  /** Whether drawings are still being stored (false after a failure). */
  get keeping() {
    return this.#keeping;
  }

  /** Reads the stored drawings into `list`; resolves to whether that worked. */
  async load() {
    const generation = this.#generation;
    try {
      const records = await this.#store.list();
      if (generation === this.#generation) this.list = mergeDrawings(records.map(restoreDrawing).filter(Boolean), this.list);
      return true;
    } catch (err) {
      this.#fail(err, 'load');
      return false;
    }
  }

  /** Adds a drawing {pixels, width, height, label} to `list` now; resolves to whether it was stored. */
  async add({ pixels, width, height, label }) {
    const drawing = { id: newDrawingId(), pixels: Float32Array.from(pixels), width, height, label };
    this.list.push(drawing);
    if (!this.#keeping) return false;
    try {
      await this.#store.add(drawingRecord(drawing));
      return true;
    } catch (err) {
      this.#fail(err, 'add');
      return false;
    }
  }

  /** Forgets every drawing, here and in the store; resolves to whether the store was cleared. */
  async clear() {
    this.#generation++;
    this.list = [];
    try {
      await this.#store.clear();
      return true;
    } catch (err) {
      this.#fail(err, 'clear');
      return false;
    }
  }

  #fail(err, when) {
    if (!this.#keeping) return;
    this.#keeping = false;
    this.#onUnkept(err, when);
  }
}
