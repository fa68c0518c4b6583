// The Training panel keeps the person's drawings in this browser's own storage: a drawing
// added for training is still counted after a reload, and "Remove my drawings" removes it for
// good (also after a reload). The page's database, made by an older page with only the
// "models" store, is upgraded with its models kept. Without IndexedDB, or with the storage
// full, drawings work for the visit and the panel says so once. The live latent map's colour
// legend lists the digits in the colours the map paints them with. Nothing is trained here.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, browserForSuite, openPage, waitForReadyOrError, settle, drawStrokes, SEVEN, ONE } from './harness.mjs';
import { LABEL_KEY } from '../../www/train/charts.js';

const T = { timeout: 240_000 };
const APP = '?backend=cpu&model=mnist-mlp-2';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const text = (page, id) => page.evaluate((i) => document.getElementById(i).textContent, id);

/** Opens the Training panel and waits until its code runs and the stored drawings are read. */
async function openTraining(page) {
  await page.getByRole('button', { name: 'Open training' }).click();
  const panel = page.getByRole('region', { name: 'Training', exact: true });
  await page.waitForFunction(() => document.getElementById('training').dataset.phase === 'idle', null, { timeout: 60_000 });
  await page.waitForFunction(() => !document.getElementById('train-drawing-count').hasAttribute('aria-busy'), null, { timeout: 30_000 });
  return panel;
}

/** Draws `strokes` on the pad and adds the drawing for training with `label` ('' for none). */
async function addDrawing(page, panel, strokes, label) {
  await drawStrokes(page, strokes);
  await page.waitForFunction(() => !document.getElementById('train-add-drawing').disabled, null, { timeout: 30_000 });
  await panel.getByLabel('Label', { exact: true }).selectOption(label);
  await panel.getByRole('button', { name: 'Add my drawing' }).click();
}

/** The records of an object store of the page's database, read by the test itself. */
function stored(page, store) {
  return page.evaluate((name) => new Promise((resolve, reject) => {
    const req = indexedDB.open('vae-explorer');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(name)) return resolve({ version: db.version, records: null });
      const get = db.transaction(name).objectStore(name).getAll();
      get.onsuccess = () => {
        db.close();
        resolve({ version: db.version, records: get.result.map((r) => ({ ...r, pixels: r.pixels?.length ?? null, weights: r.weights?.length ?? null })) });
      };
      get.onerror = () => reject(get.error);
    };
  }), store);
}

async function waitForStored(page, count) {
  for (let k = 0; k < 100; k++) {
    if ((await stored(page, 'drawings')).records?.length === count) return;
    await page.waitForTimeout(50);
  }
  assert.fail(`the drawings store did not come to ${count} records: ${JSON.stringify((await stored(page, 'drawings')).records)}`);
}

async function reload(page) {
  await page.reload();
  assert.equal(await waitForReadyOrError(page), 'ready');
  await settle(page);
}

describe('the Training panel keeps the drawings (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('a drawing outlives a reload and "Remove my drawings" removes it for good; an older database keeps its models', T, async () => {
    // An older page's database: version 1, with only the "models" store and one model in it.
    const s = await openPage(browser(), server, 'favicon.svg', { waitReady: false });
    try {
      const { page, log } = s;
      await page.evaluate(() => new Promise((resolve, reject) => {
        const req = indexedDB.open('vae-explorer', 1);
        req.onupgradeneeded = () => {
          const models = req.result.createObjectStore('models', { keyPath: 'name' });
          models.add({ name: 'older-model', title: 'Older model', savedAt: 1, manifestText: '{}', weights: new Uint8Array(8) });
        };
        req.onsuccess = () => {
          req.result.close();
          resolve();
        };
        req.onerror = () => reject(req.error);
      }));
      await page.goto(server.url + APP);
      assert.equal(await waitForReadyOrError(page), 'ready');
      await settle(page);
      assert.ok(await page.locator('#model-select option[value="older-model"]').count(), 'the older database’s model is listed');
      const upgraded = await stored(page, 'models');
      assert.equal(upgraded.version, 2);
      assert.deepEqual(upgraded.records.map((r) => [r.name, r.weights]), [['older-model', 8]], 'the models store kept its record');

      let panel = await openTraining(page);
      assert.equal(await text(page, 'train-drawing-count'), '0');
      assert.match(await text(page, 'train-drawings-kept'), /kept in this browser until you remove them; they are never uploaded/);

      // The latent map's legend: the digits, in words, each with its colour as the map paints it.
      const legend = await page.evaluate(() => [...document.querySelectorAll('#train-map-legend li')].map((li) => [li.textContent, li.style.getPropertyValue('--swatch')]));
      assert.deepEqual(legend, LABEL_KEY.map((e) => [e.text, e.colour]));
      assert.equal(await panel.getByRole('list', { name: 'Dot colours by label' }).isVisible(), true);

      await addDrawing(page, panel, SEVEN, '7');
      await addDrawing(page, panel, ONE, '');
      assert.equal(await text(page, 'train-drawing-count'), '2');
      await waitForStored(page, 2);
      assert.deepEqual((await stored(page, 'drawings')).records.map((r) => [r.label, r.width, r.height, r.pixels]), [[7, 28, 28, 784], [255, 28, 28, 784]]);

      // After a reload: still counted, ticked, and shown in the strip.
      await reload(page);
      panel = await openTraining(page);
      assert.equal(await text(page, 'train-drawing-count'), '2');
      assert.equal(await panel.getByLabel('My drawings', { exact: false }).isChecked(), true);
      assert.equal(await page.locator('#train-drawings').isVisible(), true);
      assert.match(await page.locator('#train-drawings').getAttribute('aria-label'), /Your last 2 drawings for training/);

      await panel.getByRole('button', { name: 'Remove my drawings' }).click();
      assert.equal(await text(page, 'train-drawing-count'), '0');
      await waitForStored(page, 0);
      await reload(page);
      await openTraining(page);
      assert.equal(await text(page, 'train-drawing-count'), '0', 'removed drawings do not come back');
      assert.equal(await page.locator('#train-drawings').isVisible(), false);
      assert.equal((await stored(page, 'models')).records.length, 1, 'the model is still stored');
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.foreignRequests, []);
    } finally {
      await s.close();
    }
  });

  test('no IndexedDB: drawings work for the visit, and the panel says so once', T, async () => {
    const s = await openPage(browser(), server, APP, {
      init: () => Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true }),
    });
    try {
      const { page, log } = s;
      await settle(page);
      const panel = await openTraining(page);
      const said = await text(page, 'train-drawings-kept');
      assert.match(said, /^This browser gives the page no storage \(no IndexedDB\), so the page could not read your stored drawings\. Your drawings will last only for this visit\.$/);
      await addDrawing(page, panel, SEVEN, '7');
      await addDrawing(page, panel, ONE, '1');
      assert.equal(await text(page, 'train-drawing-count'), '2');
      assert.equal(await text(page, 'train-drawings-kept'), said, 'said once, not again for each drawing');
      await panel.getByRole('button', { name: 'Remove my drawings' }).click();
      assert.equal(await text(page, 'train-drawing-count'), '0');
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('storage full: the drawing is counted for the visit, with a message saying so', T, async () => {
    const s = await openPage(browser(), server, APP, {
      init: () => {
        IDBObjectStore.prototype.add = () => {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        };
      },
    });
    try {
      const { page, log } = s;
      await settle(page);
      const panel = await openTraining(page);
      await addDrawing(page, panel, SEVEN, '7');
      assert.equal(await text(page, 'train-drawing-count'), '1');
      await page.waitForFunction(() => document.getElementById('train-drawings-kept').classList.contains('unkept'), null, { timeout: 10_000 });
      assert.equal(await text(page, 'train-drawings-kept'), "The browser's storage is full, so the page could not keep your drawing. Drawings you add from now on will last only for this visit.");
      await reload(page);
      await openTraining(page);
      assert.equal(await text(page, 'train-drawing-count'), '0', 'it was never stored');
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});
