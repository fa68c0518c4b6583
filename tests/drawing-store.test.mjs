// Unit tests (plain Node, no browser) of what the page keeps in its own IndexedDB database:
// the database's upgrade (lib/local-db.js: an older database keeps its models and gains the
// "drawings" store), the drawings as stored and read back, KeptDrawings' in-memory-first
// behaviour when the storage fails, and the Training map's colour legend (train/charts.js).
// IndexedDB itself is a small in-memory fake here; tests/browser/training-drawings.test.mjs
// does the same with Chromium's.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DB_NAME, DB_VERSION, STORES, upgrade, storageError } from '../www/lib/local-db.js';
import { DrawingStore, KeptDrawings, drawingRecord, mergeDrawings, newDrawingId, restoreDrawing } from '../www/lib/drawing-store.js';
import { ModelStore } from '../www/lib/model-store.js';
import { NO_LABEL, toBytes } from '../www/lib/training-data.js';
import { CLASS_COLOURS, classColour, fillLegend } from '../www/latent-map.js';
import { COLOURS, LABEL_KEY, labelColour } from '../www/train/charts.js';

/**
 * An in-memory IndexedDB factory: databases with versions and object stores (keyPath keys,
 * kept sorted), requests and transactions that complete asynchronously, as the real one does.
 */
function fakeIndexedDB() {
  const dbs = new Map();
  const later = (fn) => setTimeout(fn, 0);
  function connection(data) {
    return {
      get objectStoreNames() {
        return { contains: (n) => data.stores.has(n), length: data.stores.size };
      },
      close() {},
      createObjectStore(name, { keyPath }) {
        data.stores.set(name, { keyPath, records: new Map() });
      },
      transaction(name, mode) {
        const store = data.stores.get(name);
        if (!store) throw Object.assign(new Error(`no object store ${name}`), { name: 'NotFoundError' });
        const tx = { error: null };
        let pending = 0;
        // A request calls back later; the transaction completes once none is left (a request
        // made in a callback keeps it open, as in IndexedDB).
        const op = (fn, writes = false) => {
          pending++;
          const req = {};
          later(() => {
            try {
              if (writes && mode !== 'readwrite') throw Object.assign(new Error('read-only transaction'), { name: 'ReadOnlyError' });
              req.result = fn();
            } catch (err) {
              req.error = tx.error = err;
              req.onerror?.();
              tx.onerror?.();
              return;
            }
            req.onsuccess?.();
            if (--pending === 0) later(() => pending === 0 && tx.oncomplete?.());
          });
          return req;
        };
        const sorted = () => [...store.records.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => structuredClone(v));
        tx.objectStore = () => ({
          getAll: () => op(() => sorted()),
          getAllKeys: () => op(() => sorted().map((r) => r[store.keyPath])),
          get: (k) => op(() => structuredClone(store.records.get(k))),
          add: (r) => op(() => {
            const k = r[store.keyPath];
            if (store.records.has(k)) throw Object.assign(new Error('key exists'), { name: 'ConstraintError' });
            store.records.set(k, structuredClone(r));
            return k;
          }, true),
          delete: (k) => op(() => void store.records.delete(k), true),
          clear: () => op(() => void store.records.clear(), true),
        });
        return tx;
      },
    };
  }
  return {
    dbs,
    open(name, version) {
      const req = {};
      later(() => {
        let data = dbs.get(name);
        if (!data) dbs.set(name, (data = { version: 0, stores: new Map() }));
        if (version < data.version) {
          req.error = Object.assign(new Error('The requested version is less than the existing version.'), { name: 'VersionError' });
          return req.onerror?.();
        }
        req.result = connection(data);
        if (version > data.version) {
          data.version = version;
          req.onupgradeneeded?.();
        }
        req.onsuccess?.();
      });
      return req;
    },
  };
}

/** A database of version 1, as the page made before drawings were kept: "models" only. */
function versionOne(idb, records) {
  const models = { keyPath: 'name', records: new Map(records.map((r) => [r.name, r])) };
  idb.dbs.set(DB_NAME, { version: 1, stores: new Map([['models', models]]) });
}

const drawing = (value, label = 7, size = 28) => ({ pixels: new Float32Array(size * size).fill(value), width: size, height: size, label });

describe('lib/local-db.js: the database and its upgrade', () => {
  test('a new database gets every store; a version-1 one gains "drawings" only; a current one nothing', () => {
    const fake = (names) => {
      const made = [];
      return { made, objectStoreNames: { contains: (n) => names.includes(n) }, createObjectStore: (n, o) => made.push([n, o]) };
    };
    const empty = fake([]);
    assert.deepEqual(upgrade(empty), ['models', 'drawings']);
    assert.deepEqual(empty.made, [['models', { keyPath: 'name' }], ['drawings', { keyPath: 'id' }]]);
    const v1 = fake(['models']);
    assert.deepEqual(upgrade(v1), ['drawings'], 'the models store (and its records) is left as it is');
    assert.deepEqual(upgrade(fake(Object.keys(STORES))), []);
    assert.equal(DB_VERSION, 2);
  });

  test('upgrading a version-1 database keeps its models, and both stores work after it', async () => {
    const idb = fakeIndexedDB();
    versionOne(idb, [{ name: 'kept-model', title: 'Kept model', savedAt: 1, manifestText: '{}', weights: new Uint8Array([1, 2, 3]) }]);
    const drawings = new DrawingStore({ idb });
    assert.deepEqual(await drawings.list(), [], 'opening for drawings upgrades the database');
    assert.equal(idb.dbs.get(DB_NAME).version, DB_VERSION);
    const models = new ModelStore({ idb });
    assert.deepEqual(await models.list(), [{ name: 'kept-model', title: 'Kept model', savedAt: 1 }]);
    assert.deepEqual((await models.get('kept-model')).weights, new Uint8Array([1, 2, 3]));
    await drawings.add(drawingRecord({ id: 'a', ...drawing(1) }));
    assert.equal((await drawings.list()).length, 1);
    await drawings.clear();
    assert.deepEqual(await drawings.list(), []);
    assert.equal((await models.list()).length, 1, 'clearing the drawings leaves the models');
    assert.equal((await models.save({ name: 'kept-model', title: 'Another', manifestText: '{}', weights: new Uint8Array(1) })).name, 'kept-model-2');
  });

  test('failures are sentences; a full disk says what the person can do when told', () => {
    const full = Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
    assert.equal(storageError(full, 'keep your drawing').message, "The browser's storage is full, so the page could not keep your drawing.");
    assert.equal(storageError(full, 'keep the model', 'Free some space.').message, "The browser's storage is full, so the page could not keep the model. Free some space.");
    assert.match(storageError(Object.assign(new Error('x'), { name: 'VersionError' }), 'read your stored drawings').message, /^The page could not read your stored drawings in this browser's storage: x\.$/);
  });

  test('without IndexedDB the drawing store fails in words', async () => {
    const store = new DrawingStore({ idb: undefined });
    await assert.rejects(store.list(), /no IndexedDB\), so the page could not read your stored drawings\.$/);
    await assert.rejects(store.add(drawingRecord({ id: 'a', ...drawing(1) })), /could not keep your drawing/);
  });
});

describe('lib/drawing-store.js: drawings as stored', () => {
  test('a drawing is stored as bytes and reads back as the same training image', () => {
    const d = { id: 'x', pixels: Float32Array.from({ length: 16 }, (_, i) => i / 15), width: 4, height: 4, label: 3 };
    const record = drawingRecord(d);
    assert.ok(record.pixels instanceof Uint8Array);
    const back = restoreDrawing(structuredClone(record));
    assert.deepEqual({ ...back, pixels: null }, { ...d, pixels: null });
    assert.deepEqual(toBytes(back.pixels), toBytes(d.pixels), 'what training takes from it is unchanged');
    assert.equal(restoreDrawing(drawingRecord({ ...d, label: NO_LABEL })).label, NO_LABEL);
  });

  test('records that are not drawings are skipped', () => {
    const ok = drawingRecord({ id: 'x', pixels: new Float32Array(4), width: 2, height: 2, label: 1 });
    assert.ok(restoreDrawing(ok));
    for (const bad of [null, {}, { ...ok, id: 3 }, { ...ok, width: 0 }, { ...ok, height: 1.5 }, { ...ok, width: 600, height: 600 }, { ...ok, pixels: new Uint8Array(3) }, { ...ok, pixels: [0, 0, 0, 0] }, { ...ok, label: 10 }, { ...ok, label: '1' }]) {
      assert.equal(restoreDrawing(bad), null, JSON.stringify(bad));
    }
  });

  test('new ids sort in the order they were made, within one millisecond too', () => {
    const ids = [newDrawingId(1000), newDrawingId(1000), newDrawingId(1000), newDrawingId(999_999_999_999), newDrawingId(1_000_000_000_000)];
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  test('mergeDrawings: stored ones and those only in memory, once each, in order', () => {
    const a = { id: 'a' };
    const b = { id: 'b' };
    const c = { id: 'c' };
    assert.deepEqual(mergeDrawings([a, c], [b, c]).map((d) => d.id), ['a', 'b', 'c']);
    assert.deepEqual(mergeDrawings([], [b]).map((d) => d.id), ['b']);
  });
});

/** A store stand-in: records in an array; `fail` makes a method throw (an Error in words). */
function fakeStore(records = []) {
  const calls = [];
  const store = {
    records,
    calls,
    fail: new Set(),
    async list() {
      calls.push('list');
      if (store.fail.has('list')) throw new Error('The page could not read your stored drawings in this browser\'s storage: broken.');
      return structuredClone(store.records);
    },
    async add(r) {
      calls.push('add');
      if (store.fail.has('add')) throw new Error("The browser's storage is full, so the page could not keep your drawing.");
      store.records.push(structuredClone(r));
    },
    async clear() {
      calls.push('clear');
      if (store.fail.has('clear')) throw new Error('no');
      store.records.length = 0;
    },
  };
  return store;
}

describe('KeptDrawings: in memory first, stored as it goes', () => {
  test('load reads what an earlier visit stored; add and clear follow in the store', async () => {
    const store = fakeStore([drawingRecord({ id: newDrawingId(1), ...drawing(1, 4) })]);
    const kept = new KeptDrawings({ store });
    assert.equal(await kept.load(), true);
    assert.deepEqual(kept.list.map((d) => d.label), [4]);
    assert.equal(await kept.add(drawing(0.5, NO_LABEL)), true);
    assert.deepEqual(store.records.map((r) => r.label), [4, NO_LABEL]);
    // A new visit finds both.
    const again = new KeptDrawings({ store });
    await again.load();
    assert.deepEqual(again.list.map((d) => d.label), [4, NO_LABEL]);
    assert.equal(await again.clear(), true);
    assert.deepEqual([again.list, store.records], [[], []]);
  });

  test('a drawing added while the stored ones are read is counted once, after them', async () => {
    const store = fakeStore([drawingRecord({ id: newDrawingId(1), ...drawing(1, 1) })]);
    const kept = new KeptDrawings({ store });
    const loading = kept.load();
    const adding = kept.add(drawing(1, 2));
    assert.equal(kept.list.length, 1, 'counted at once');
    await Promise.all([loading, adding]);
    assert.deepEqual(kept.list.map((d) => d.label), [1, 2]);
  });

  test('"remove" while the stored ones are read: they do not come back', async () => {
    const store = fakeStore([drawingRecord({ id: newDrawingId(1), ...drawing(1, 1) })]);
    const kept = new KeptDrawings({ store });
    const loading = kept.load();
    const clearing = kept.clear();
    await Promise.all([loading, clearing]);
    assert.deepEqual(kept.list, []);
  });

  test('no storage: drawings stay in memory, it is said once, and nothing more is tried but "remove"', async () => {
    const said = [];
    const store = fakeStore();
    store.fail.add('list');
    store.fail.add('add');
    const kept = new KeptDrawings({ store, onUnkept: (err, when) => said.push([when, err.message]) });
    assert.equal(await kept.load(), false);
    assert.equal(kept.keeping, false);
    assert.equal(await kept.add(drawing(1)), false);
    assert.equal(await kept.add(drawing(1)), false);
    assert.equal(kept.list.length, 2, 'in memory as before');
    assert.deepEqual(store.calls, ['list'], 'not stored after the failure');
    assert.equal(await kept.clear(), true, 'remove still clears what an earlier visit may have stored');
    assert.deepEqual(said, [['load', "The page could not read your stored drawings in this browser's storage: broken."]]);
  });

  test('a full disk on add: that drawing is kept in memory and it is said once', async () => {
    const said = [];
    const store = fakeStore();
    const kept = new KeptDrawings({ store, onUnkept: (err, when) => said.push(when) });
    await kept.load();
    assert.equal(await kept.add(drawing(1)), true);
    store.fail.add('add');
    assert.equal(await kept.add(drawing(1)), false);
    assert.equal(await kept.add(drawing(1)), false);
    assert.equal(kept.list.length, 3);
    assert.equal(store.records.length, 1);
    assert.deepEqual(said, ['add']);
  });

  test('with the real stores on a fake IndexedDB, drawings outlive a "reload"', async () => {
    const idb = fakeIndexedDB();
    versionOne(idb, []);
    const first = new KeptDrawings({ store: new DrawingStore({ idb }) });
    await first.load();
    await first.add(drawing(1, 7));
    await first.add(drawing(0, NO_LABEL, 32));
    const second = new KeptDrawings({ store: new DrawingStore({ idb }) });
    assert.equal(await second.load(), true);
    assert.deepEqual(second.list.map((d) => [d.label, d.width]), [[7, 28], [NO_LABEL, 32]]);
    assert.deepEqual(second.list.map((d) => d.id), first.list.map((d) => d.id));
    await second.clear();
    const third = new KeptDrawings({ store: new DrawingStore({ idb }) });
    await third.load();
    assert.deepEqual(third.list, []);
  });
});

describe('the Training latent map legend (train/charts.js)', () => {
  test('the digits 0–9 in the explorer map’s colours, then “no label” in the grey of unlabelled dots', () => {
    assert.deepEqual(LABEL_KEY.map((e) => e.text), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'no label']);
    assert.deepEqual(LABEL_KEY.slice(0, 10).map((e) => e.colour), CLASS_COLOURS);
    assert.equal(LABEL_KEY[10].colour, COLOURS.unlabelled);
    assert.equal(labelColour(NO_LABEL), COLOURS.unlabelled);
    assert.equal(labelColour(3), classColour(3));
    assert.equal(new Set(LABEL_KEY.map((e) => e.colour)).size, LABEL_KEY.length, 'no two entries share a colour');
  });

  test('fillLegend writes one item per entry: its words, and its colour as the swatch', () => {
    const items = [];
    const list = {
      ownerDocument: { createElement: () => ({ style: { props: {}, setProperty(k, v) { this.props[k] = v; } }, textContent: '' }) },
      replaceChildren: (...children) => items.splice(0, items.length, ...children),
    };
    fillLegend(list, LABEL_KEY);
    assert.deepEqual(items.map((li) => [li.textContent, li.style.props['--swatch']]), LABEL_KEY.map((e) => [e.text, e.colour]));
  });
});
