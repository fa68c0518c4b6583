// Models as files and in the browser's own storage, on the CPU backend: "Download this model"
// saves the current bundle as one zip (checked with Python's zipfile against the shipped
// files); "Open model file…" makes such a zip the explorer's model, listed under "Trained in
// this browser"; it survives a reload (and ?model= opens it); bad files and weights that do not
// fit leave the current model; "Remove…" (with a keyboard-usable confirmation) forgets it; and
// with the storage full or missing an opened model still works for the visit.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer, browserForSuite, openPage, waitForAlert, waitForReadyOrError, decodedPixels, decodeCount, waitForDecodesAfter, pixelDiff } from './harness.mjs';
import { unzipBundle, zipBundle } from '../../www/lib/bundle-zip.js';

const LOAD = { timeout: 180_000 };
const T = { timeout: 240_000 };
const SHIPPED = path.join(ROOT, 'models', 'mnist-mlp-2');
const LOCAL = 'mnist-mlp-2-2'; // the shipped model's name is taken: the opened copy gets the next

let server;
let dir;
before(async () => {
  server = await startServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'local-models-'));
});
after(async () => {
  await server?.stop();
});

const modelSelect = (page) => page.getByLabel('Model', { exact: true });
const currentModel = (page) => page.evaluate(() => document.body.dataset.model);

/** The Model menu: [{value, group}] ("" for shipped models, else the optgroup's label). */
function menuOptions(page) {
  return page.evaluate(() => [...document.querySelectorAll('#model-select option')].map((o) => ({ value: o.value, text: o.textContent, group: o.parentElement.label ?? '' })));
}

/** Opens `file` (a path, or {name, mimeType, buffer}) through "Open model file…". */
async function openModelFile(page, file) {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Open model file…' }).click()]);
  await chooser.setFiles(file);
}

/** Waits until the page's model is `name` and its first decode after that is painted. */
async function waitForModel(page, name) {
  await page.waitForFunction((n) => document.body.dataset.model === n, name, { timeout: 60_000, polling: 50 });
  await page.waitForFunction(() => window.vaeStats.busy() === 0, null, { timeout: 60_000 });
}

/** Waits for the first image even when an alert shows (waitForReadyOrError stops at either). */
function waitForReady(page) {
  return page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000, polling: 50 });
}

/** Moves latent dimension 1 with the keyboard; the decoded image must change. */
async function sliderMovesImage(page) {
  const s = page.getByRole('slider', { name: 'Latent dimension 1', exact: true });
  const before = await decodedPixels(page);
  const n = await decodeCount(page);
  await s.focus();
  for (let k = 0; k < 40; k++) await page.keyboard.press('ArrowRight');
  await waitForDecodesAfter(page, n);
  const diff = pixelDiff(before, await decodedPixels(page));
  assert.ok(diff > 200, `the slider moved the image: sum |Δ| = ${diff}`);
}

describe('local models: download, open, keep, remove (CPU backend)', () => {
  const browser = browserForSuite();
  let session;
  let zipPath;

  before(async () => {
    session = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-2');
  }, LOAD);
  after(async () => {
    await session?.close();
  });

  test('"Download this model" saves the current model as one zip with the shipped files, byte for byte', T, async () => {
    const { page } = session;
    assert.equal(await currentModel(page), 'mnist-mlp-2');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download this model' }).click()]);
    assert.equal(download.suggestedFilename(), 'mnist-mlp-2.zip');
    zipPath = path.join(dir, 'mnist-mlp-2.zip');
    await download.saveAs(zipPath);
    const [manifest, weights] = await Promise.all([readFile(path.join(SHIPPED, 'manifest.json')), readFile(path.join(SHIPPED, 'weights.bpk'))]);
    const py = spawnSync('python3', ['-c', `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None, 'CRC'
assert z.namelist() == ['manifest.json', 'weights.bpk'], z.namelist()
assert z.read('manifest.json') == open(sys.argv[2], 'rb').read(), 'manifest'
assert z.read('weights.bpk') == open(sys.argv[3], 'rb').read(), 'weights'
print('ok')
`, zipPath, path.join(SHIPPED, 'manifest.json'), path.join(SHIPPED, 'weights.bpk')], { encoding: 'utf8' });
    if (py.error?.code !== 'ENOENT') assert.equal(py.stdout.trim(), 'ok', py.stderr);
    const back = await unzipBundle(await readFile(zipPath), 'mnist-mlp-2.zip');
    assert.ok(Buffer.from(back.manifestText).equals(manifest) && Buffer.from(back.weights).equals(weights));
    assert.deepEqual(session.log.foreignRequests, [], 'nothing sent anywhere');
  });

  test('"Open model file…" makes the zip the explorer\'s model, listed under "Trained in this browser"', T, async () => {
    const { page } = session;
    assert.ok(zipPath, 'the download test ran');
    await openModelFile(page, zipPath);
    await waitForModel(page, LOCAL);
    const options = await menuOptions(page);
    assert.deepEqual(options.map((o) => [o.value, o.group]), [['mnist-mlp-32', ''], ['mnist-mlp-2', ''], [LOCAL, 'Trained in this browser']]);
    assert.match(options[2].text, /^MNIST, 2-D latent .* · opened \d\d:\d\d$/);
    assert.equal(await modelSelect(page).inputValue(), LOCAL);
    assert.equal(await page.getByRole('slider', { name: /^Latent dimension \d+$/ }).count(), 2);
    assert.ok(await page.getByRole('alert').isHidden(), 'no error');
    await sliderMovesImage(page);
    // The address names it (it is written shortly after a change).
    await page.waitForFunction((n) => new URLSearchParams(location.search).get('model') === n, LOCAL, { timeout: 10_000 });
  });

  test('a file that is not a zip, and weights that do not fit, give a message; the current model stays', T, async () => {
    const { page } = session;
    const before = await menuOptions(page);
    await openModelFile(page, { name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('These are my notes, not a model.\n') });
    assert.match(await waitForAlert(page), /^Could not open the model file: notes\.zip is not a zip file\. The current model stays active\.$/);
    assert.equal(await currentModel(page), LOCAL);
    // A 2-D manifest with the 32-D model's weights: a zip, but not a model that starts.
    const wrong = zipBundle({
      manifestText: await readFile(path.join(SHIPPED, 'manifest.json'), 'utf8'),
      weights: new Uint8Array(await readFile(path.join(ROOT, 'models', 'mnist-mlp-32', 'weights.bpk'))),
    });
    await page.evaluate(() => {
      document.getElementById('error').hidden = true;
    });
    await openModelFile(page, { name: 'wrong.zip', mimeType: 'application/zip', buffer: Buffer.from(wrong) });
    assert.match(await waitForAlert(page), /^Could not switch to “.*”: .* The previous model stays active\.$/);
    assert.equal(await currentModel(page), LOCAL);
    assert.deepEqual(await menuOptions(page), before, 'nothing was added to the Model menu');
    await sliderMovesImage(page);
  });

  test('after a reload the model is still listed, opens from the address, and can be selected', T, async () => {
    const { page } = session;
    await page.reload();
    assert.equal(await waitForReadyOrError(page), 'ready');
    assert.equal(await currentModel(page), LOCAL, '?model= names the stored model');
    assert.deepEqual((await menuOptions(page)).map((o) => [o.value, o.group]).at(-1), [LOCAL, 'Trained in this browser']);
    await sliderMovesImage(page);
    await modelSelect(page).selectOption('mnist-mlp-2');
    await waitForModel(page, 'mnist-mlp-2');
    await modelSelect(page).selectOption(LOCAL);
    await waitForModel(page, LOCAL);
    await sliderMovesImage(page);
    assert.deepEqual(session.log.pageErrors, []);
  });

  test('"Remove…" asks first (keyboard: Escape keeps it), then removes it; it stays gone after a reload', T, async () => {
    const { page } = session;
    const remove = page.getByRole('button', { name: 'Remove…' });
    const question = page.getByRole('group', { name: /^Remove “.*” from this browser\?$/ });
    await remove.focus();
    await page.keyboard.press('Enter');
    await question.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Keep', 'the safe choice has the focus');
    await page.keyboard.press('Escape');
    await question.waitFor({ state: 'hidden' });
    assert.equal(await currentModel(page), LOCAL, 'kept');
    await page.keyboard.press('Enter');
    await question.waitFor({ state: 'visible' });
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Remove');
    await page.keyboard.press('Enter');
    // The current model goes first: the first shipped one replaces it.
    await waitForModel(page, 'mnist-mlp-32');
    assert.ok(!(await menuOptions(page)).some((o) => o.value === LOCAL), 'gone from the menu');
    assert.ok(await remove.isHidden(), 'a shipped model cannot be removed');
    await page.goto(`${server.url}?backend=cpu&model=${LOCAL}`);
    assert.match(await waitForAlert(page), new RegExp(`There is no model named “${LOCAL}”`));
    await waitForReady(page);
    assert.equal(await page.evaluate(() => document.querySelectorAll('#model-select optgroup').length), 0);
    assert.deepEqual(session.log.pageErrors, []);
  });

  test("a zip made by another tool (Python's zipfile: deflated, inside a folder) opens too", T, async () => {
    const { page } = session;
    const made = path.join(dir, 'from-python.zip');
    const py = spawnSync('python3', ['-c', `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[2] + '/manifest.json', 'my model/manifest.json')
    z.write(sys.argv[2] + '/weights.bpk', 'my model/weights.bpk')
`, made, SHIPPED], { encoding: 'utf8' });
    if (py.error?.code === 'ENOENT') return; // no python3 here: the Node tests cover other tools' zips
    assert.equal(py.status, 0, py.stderr);
    await openModelFile(page, made);
    await waitForModel(page, LOCAL);
    await sliderMovesImage(page);
    assert.deepEqual(session.log.pageErrors, []);
  });
});

describe('local models when the browser cannot keep them', () => {
  const browser = browserForSuite();
  let zipPath;
  before(async () => {
    zipPath = path.join(dir, 'model.zip');
    const manifestText = await readFile(path.join(SHIPPED, 'manifest.json'), 'utf8');
    await writeFile(zipPath, zipBundle({ manifestText, weights: new Uint8Array(await readFile(path.join(SHIPPED, 'weights.bpk'))) }));
  });

  test('storage full: the opened model works, with a message saying so', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu', {
      init: () => {
        IDBObjectStore.prototype.add = () => {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        };
      },
    });
    try {
      await openModelFile(s.page, zipPath);
      await waitForModel(s.page, LOCAL);
      assert.match(await waitForAlert(s.page), /^The browser's storage is full, so the page could not keep the model\. Free some space, or download the model to keep it\. “.*” works until the page is closed; download it to keep it\.$/);
      await sliderMovesImage(s.page);
      await s.page.goto(`${server.url}?backend=cpu`);
      assert.equal(await waitForReadyOrError(s.page), 'ready');
      assert.ok(!(await menuOptions(s.page)).some((o) => o.value === LOCAL), 'not listed when the page is opened again: it was never kept');
      assert.deepEqual(s.log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('no IndexedDB at all: the page loads, an opened model works for the visit and can be removed', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu', {
      init: () => Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true }),
    });
    try {
      assert.equal(await waitForReadyOrError(s.page), 'ready', 'the page loads without storage');
      await openModelFile(s.page, zipPath);
      await waitForModel(s.page, LOCAL);
      assert.match(await waitForAlert(s.page), /no IndexedDB.*works until the page is closed; download it to keep it\./);
      const options = await menuOptions(s.page);
      assert.match(options.at(-1).text, /this visit only$/);
      await sliderMovesImage(s.page);
      // Removing a model that was never stored only forgets it.
      await s.page.getByRole('button', { name: 'Remove…' }).click();
      await s.page.getByRole('button', { name: 'Remove', exact: true }).click();
      await waitForModel(s.page, 'mnist-mlp-32');
      assert.ok(!(await menuOptions(s.page)).some((o) => o.value === LOCAL));
      assert.deepEqual(s.log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});
