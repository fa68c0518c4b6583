// The Training panel on the CPU backend: nothing of it loads before it is opened; training from
// scratch on the MNIST training set lowers the loss by a clear margin, with the status line in
// words and the live view drawn; pause stops the steps and resume continues them; "Use this
// model" makes the trained model the explorer's (the Model menu changes and a slider moves the
// image); "Download model" saves a zip that `vae eval` scores as the page did; fine-tuning the explored model on one drawing moves its reconstruction towards it;
// bad uploads are refused with a message naming each file; a worker that cannot start is
// reported in words and the explorer goes on working; so is a loss that becomes NaN, and on
// WebGPU a training worker whose device is lost (the copy kept earlier stays usable). While it
// trains, a main-thread trace shows the page responsive (the steps run in the worker).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, startServer, browserForSuite, openPage, decodedPixels, decodeCount, waitForDecodesAfter, pixelDiff, drawStrokes, settle, traceMainThread, SEVEN } from './harness.mjs';
import { unzipBundle } from '../../www/lib/bundle-zip.js';
import { png } from '../png.mjs';

const T = { timeout: 240_000 };
const STEPS = 150;
/** The CLI (built by make models / make rust-test); the download is checked with it when present. */
const VAE = path.join(ROOT, 'target', 'native', 'vae');

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Requests that belong to training: its code, its wasm and its data. */
// lib/training-data.js is left out: its IDX parser is shared with the Nearest neighbours panel.
const trainingRequests = (log) => log.requests.filter((u) => {
  const { pathname } = new URL(u);
  return /\/train\/|training-|vae_explorer_train|\/data\/mnist\//.test(pathname) && !pathname.endsWith('/lib/training-data.js');
});

async function openTraining(page) {
  await page.getByRole('button', { name: 'Open training' }).click();
  const panel = page.getByRole('region', { name: 'Training', exact: true });
  await panel.getByRole('button', { name: 'Start training' }).waitFor({ state: 'visible' });
  // The panel's code has loaded and wired the controls once it reports its phase.
  await page.waitForFunction(() => document.getElementById('training').dataset.phase === 'idle', null, { timeout: 60_000 }).catch(async (err) => {
    throw new Error(`the Training panel did not start: ${await text(page, 'training-status')} ${await text(page, 'training-error')} (${err.message})`);
  });
  return panel;
}

const phase = (page) => page.evaluate(() => document.getElementById('training').dataset.phase);
const step = (page) => page.evaluate(() => Number(document.getElementById('training').dataset.step ?? 0));
const text = (page, id) => page.evaluate((i) => document.getElementById(i).textContent, id);

async function waitForStep(page, n, timeout = 120_000) {
  await page.waitForFunction(
    (k) => Number(document.getElementById('training').dataset.step ?? 0) >= k || ['failed', 'idle'].includes(document.getElementById('training').dataset.phase),
    n,
    { timeout, polling: 100 },
  );
  assert.ok((await step(page)) >= n, `training stopped before step ${n}: ${await text(page, 'training-error')} ${await text(page, 'training-status')}`);
}

async function waitForPhase(page, name, timeout = 60_000) {
  await page.waitForFunction((p) => document.getElementById('training').dataset.phase === p, name, { timeout, polling: 50 });
}

/** Sum of grey levels of a canvas (red channel). */
function ink(page, id) {
  return page.evaluate((i) => {
    const c = document.getElementById(i);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = 0;
    for (let k = 0; k < d.length; k += 4) s += d[k];
    return s;
  }, id);
}

describe('the Training panel (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('trains from scratch on MNIST: the loss falls, pause and resume, Use this model', T, async (t) => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-2');
    try {
      const { page, log } = s;
      await settle(page);
      assert.deepEqual(trainingRequests(log), [], 'nothing of training is downloaded before the panel is opened');
      const panel = await openTraining(page);
      assert.ok(trainingRequests(log).some((u) => u.includes('/train/controller.js')), 'opening loads the panel code');
      assert.ok(!trainingRequests(log).some((u) => u.includes('vae_explorer_train')), 'the training wasm waits for Start training');

      await panel.getByLabel('Latent size', { exact: true }).fill('2');
      await panel.getByLabel('Network size', { exact: true }).selectOption('small');
      await panel.getByLabel('Train on', { exact: true }).selectOption('cpu');
      await panel.getByLabel('Epochs', { exact: true }).fill('3');
      await panel.getByLabel('Batch size', { exact: true }).fill('64');
      assert.equal(await panel.getByLabel('The MNIST training set', { exact: false }).isChecked(), true);
      const started = Date.now();
      await panel.getByRole('button', { name: 'Start training' }).click();
      await waitForStep(page, STEPS);
      const trainMs = Date.now() - started;

      // The page stays responsive while it trains: slider steps are decoded, no long task.
      const stopTrace = await traceMainThread(browser(), page);
      const during = await step(page);
      const decodes = await decodeCount(page);
      await page.getByRole('slider', { name: 'Latent dimension 1', exact: true }).focus();
      for (let k = 0; k < 30; k++) {
        await page.keyboard.press(k % 2 ? 'ArrowLeft' : 'ArrowRight');
        await page.waitForTimeout(50);
      }
      await page.waitForTimeout(1000);
      const tasks = await stopTrace();
      assert.ok((await decodeCount(page)) > decodes + 5, 'the explorer decodes while training runs');
      assert.ok((await step(page)) > during, 'training went on meanwhile');
      t.diagnostic(`while training: longest main-thread task ${tasks.longest_task_cpu_ms} ms CPU, ${tasks.tasks_over_frame_cpu} over a frame`);
      assert.ok(tasks.longest_task_cpu_ms <= 100, `longest main-thread task ${tasks.longest_task_cpu_ms} ms of CPU time; long tasks: ${JSON.stringify(tasks.long_tasks)}`);

      await panel.getByRole('button', { name: 'Pause training' }).click();
      await waitForPhase(page, 'paused');
      const status = await panel.getByRole('status').textContent();
      assert.match(status, /^Paused at step [\d,]+ · loss \d+\.\d nats/, status);
      // "Loss X nats at step N (…); it was Y nats at step M."
      const summary = await text(page, 'train-loss-summary');
      const m = /^Loss ([\d.]+) nats at step ([\d,]+) .*it was ([\d.]+) nats at step 1\.$/.exec(summary);
      assert.ok(m, summary);
      const [last, first] = [Number(m[1]), Number(m[3])];
      assert.ok(first > 500, `the untrained model's loss is about 784 ln 2 (${first})`);
      assert.ok(last < 250, `after ${m[2]} steps the loss fell to ${last} (from ${first}) in ${trainMs} ms`);
      t.diagnostic(`loss ${first} → ${last} nats over ${m[2]} steps, ${trainMs} ms from Start training (MNIST download included)`);
      assert.match(await text(page, 'train-kl-summary'), /^KL per dimension: \d of 2 dimensions/);
      assert.match(await text(page, 'train-map-caption'), /encodings μ of 500 fixed images/);
      assert.ok((await ink(page, 'train-samples')) > 0, 'the prior samples are drawn');
      assert.match(await text(page, 'train-rate'), /steps per second/);
      assert.equal(await panel.getByRole('button', { name: 'Use this model' }).isEnabled(), true);

      // Paused: the step count stays; resumed: it goes on.
      const paused = await step(page);
      await page.waitForTimeout(1500);
      assert.equal(await step(page), paused, 'no steps while paused');
      await panel.getByRole('button', { name: 'Resume training' }).click();
      await waitForStep(page, paused + 20);
      await panel.getByRole('button', { name: 'Pause training' }).click();
      await waitForPhase(page, 'paused');

      // Download model: one zip of the bundle; `vae eval` on the same 500 test images gives the
      // loss the page showed for them.
      const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Download model' }).click()]);
      assert.match(download.suggestedFilename(), /^trained-2d-\d{8}-\d{6}\.zip$/);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'trained-')), download.suggestedFilename());
      await download.saveAs(file);
      const bundle = await unzipBundle(fs.readFileSync(file), file);
      assert.equal(bundle.manifest.latent_dim, 2);
      assert.deepEqual(bundle.manifest.architecture.hidden, [256, 128]);
      const probe = /On the 500 probe images: loss ([\d.]+) nats/.exec(await text(page, 'train-probe-loss'));
      assert.ok(probe, await text(page, 'train-probe-loss'));
      if (fs.existsSync(VAE)) {
        const out = JSON.parse(execFileSync(VAE, ['eval', '--model', file, '--images', '500', '--is-k', '0', '--json'], { cwd: ROOT, encoding: 'utf8' }));
        assert.ok(Math.abs(out.test_loss_nats - Number(probe[1])) < 0.5, `vae eval: ${out.test_loss_nats} nats; the page: ${probe[1]} nats`);
        t.diagnostic(`500 test images: the page ${probe[1]} nats, vae eval ${out.test_loss_nats} nats`);
      }

      // Use this model: the explorer switches to it and a slider moves its image.
      const before = await page.evaluate(() => document.body.dataset.model);
      await panel.getByRole('button', { name: 'Use this model' }).click();
      await page.waitForFunction((b) => document.body.dataset.model && document.body.dataset.model !== b, before, { timeout: 60_000 });
      await page.waitForFunction(() => window.vaeStats.busy() === 0, null, { timeout: 60_000 });
      const model = await page.evaluate(() => document.body.dataset.model);
      assert.equal(await page.locator('#model-select').inputValue(), model, 'the Model menu shows the trained model');
      assert.match(await panel.getByRole('status').textContent(), /The explorer now uses the model trained to step/);
      const img = await decodedPixels(page);
      const n = await decodeCount(page);
      await page.getByRole('slider', { name: 'Latent dimension 1', exact: true }).focus();
      for (let k = 0; k < 40; k++) await page.keyboard.press('ArrowRight');
      await waitForDecodesAfter(page, n);
      assert.ok(pixelDiff(img, await decodedPixels(page)) > 200, 'a slider move changes the decoded image');
      assert.equal(await page.getByRole('alert').isVisible(), false, await page.locator('#error').textContent());
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.foreignRequests, []);
    } finally {
      await s.close();
    }
  });

  test('fine-tuning the explored model on a drawing moves its reconstruction towards it', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-2');
    try {
      const { page, log } = s;
      await settle(page);
      const panel = await openTraining(page);
      await drawStrokes(page, SEVEN);
      await page.waitForFunction(() => !document.getElementById('train-add-drawing').disabled, null, { timeout: 30_000 });
      await panel.getByLabel('Label', { exact: true }).selectOption('7');
      await panel.getByRole('button', { name: 'Add my drawing' }).click();
      assert.equal(await text(page, 'train-drawing-count'), '1');
      await panel.getByLabel('The MNIST training set', { exact: false }).uncheck();
      await panel.getByLabel('The model being explored', { exact: false }).check();
      assert.equal(await panel.getByLabel('Latent size', { exact: true }).isDisabled(), true, 'fine-tuning keeps the latent size');
      await panel.getByLabel('Epochs', { exact: true }).fill('60');
      await panel.getByLabel('Batch size', { exact: true }).fill('8');
      await panel.getByRole('button', { name: 'Start training' }).click();
      await waitForPhase(page, 'finished', 120_000);
      // Let one more snapshot land, then compare the strip's rows: original, start, now.
      await page.waitForTimeout(500);
      const rows = await page.evaluate(() => {
        const c = document.getElementById('train-recon');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const h = c.height / 3;
        const row = (r) => Array.from({ length: c.width * h }, (_, i) => d[(r * c.width * h + i) * 4]);
        return [row(0), row(1), row(2)];
      });
      const [original, start, now] = rows;
      const errStart = pixelDiff(original, start);
      const errNow = pixelDiff(original, now);
      assert.ok(errNow < 0.7 * errStart, `the reconstruction moved towards the drawing: |x − x̂| ${errStart} at the start, ${errNow} now`);
      assert.equal(await page.locator('#train-recon-figure').isVisible(), true);
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('bad uploads are refused with a message naming each file; a good picture is kept', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-2');
    try {
      const { page, log } = s;
      await settle(page);
      const panel = await openTraining(page);
      const header = Buffer.from([0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28]);
      // A dark "1" on white paper, as a phone photo of a digit would be.
      const photo = png(60, 60, (x, y) => (x >= 27 && x < 33 && y >= 10 && y < 50 ? 30 : 235));
      await panel.getByLabel('Add PNG, JPEG or IDX files').setInputFiles([
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are not digits') },
        { name: 'cut-images-idx3-ubyte', mimeType: 'application/octet-stream', buffer: Buffer.concat([header, Buffer.alloc(784 * 3)]) },
        { name: 'one.png', mimeType: 'image/png', buffer: photo },
      ]);
      await page.waitForFunction(() => document.querySelectorAll('#train-refused li').length >= 2, null, { timeout: 60_000 }).catch(async (err) => {
        throw new Error(`the refusals did not appear: ${await text(page, 'train-refused')} (${err.message})`);
      });
      const refused = await page.locator('#train-refused li').allTextContents();
      assert.ok(refused.some((t) => /“notes\.txt” is not a PNG, JPEG or IDX file/.test(t)), refused.join('\n'));
      assert.ok(refused.some((t) => /“cut-images-idx3-ubyte” is truncated: its header says 10 images of 28×28/.test(t)), refused.join('\n'));
      assert.equal(refused.length, 2, 'the good picture is not refused');
      await page.waitForFunction(() => document.getElementById('train-image-count').textContent === '1', null, { timeout: 60_000 }).catch(async (err) => {
        throw new Error(`the picture was not counted: ${await text(page, 'train-image-count')} images (${err.message})`);
      });
      assert.equal(await panel.getByLabel('My images', { exact: false }).isChecked(), true);
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('gzipped IDX uploads are unpacked; a damaged gzip is refused with its name', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-2');
    try {
      const { page, log } = s;
      await settle(page);
      const panel = await openTraining(page);
      const header = Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]);
      const idx = Buffer.concat([header, Buffer.alloc(784 * 2, 200)]);
      const packed = zlib.gzipSync(idx);
      await panel.getByLabel('Add PNG, JPEG or IDX files').setInputFiles([
        { name: 'two-images-idx3-ubyte.gz', mimeType: 'application/gzip', buffer: packed },
        { name: 'broken-idx3-ubyte.gz', mimeType: 'application/gzip', buffer: Buffer.concat([packed.subarray(0, 20), Buffer.alloc(40, 7)]) },
      ]);
      await page.waitForFunction(() => document.querySelectorAll('#train-refused li').length >= 1, null, { timeout: 60_000 });
      const refused = await page.locator('#train-refused li').allTextContents();
      assert.equal(refused.length, 1, refused.join('\n'));
      assert.match(refused[0], /“broken-idx3-ubyte\.gz” is not a valid gzip file/);
      await page.waitForFunction(() => document.getElementById('train-image-count').textContent === '2', null, { timeout: 60_000 }).catch(async (err) => {
        throw new Error(`the unpacked images were not counted: ${await text(page, 'train-image-count')} images (${err.message})`);
      });
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('a training worker that dies is reported in words; the explorer keeps working', T, async () => {
    // The worker's script fails to load, as when the browser kills a worker or a file is missing.
    const routes = [['**/train/worker.js', (route) => route.fulfill({ status: 500, body: 'broken' })]];
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-2', { routes });
    try {
      const { page, log } = s;
      await settle(page);
      const panel = await openTraining(page);
      await panel.getByRole('button', { name: 'Start training' }).click();
      await page.waitForFunction(() => !document.getElementById('training-error').hidden, null, { timeout: 60_000 }).catch(async (err) => {
        const state = await page.evaluate(() => [document.getElementById('training').dataset.phase, document.getElementById('training-status').textContent]);
        throw new Error(`no message after the worker failed: ${state.join(' / ')}; requests ${trainingRequests(log).join(', ')} (${err.message})`);
      });
      assert.match(await text(page, 'training-error'), /The training worker stopped/);
      await waitForPhase(page, 'idle');
      assert.equal(await panel.getByRole('button', { name: 'Start training' }).isEnabled(), true, 'it can be tried again');
      const img = await decodedPixels(page);
      const n = await decodeCount(page);
      await page.getByRole('slider', { name: 'Latent dimension 1', exact: true }).focus();
      for (let k = 0; k < 20; k++) await page.keyboard.press('ArrowRight');
      await waitForDecodesAfter(page, n);
      assert.ok(pixelDiff(img, await decodedPixels(page)) > 100, 'the explorer still decodes');
      assert.equal(await page.getByRole('alert').isVisible(), false, 'the explorer shows no error');
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('a loss that becomes NaN stops training with a message; the last good weights stay', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-2');
    try {
      const { page, log } = s;
      await settle(page);
      const panel = await openTraining(page);
      await panel.getByLabel('Network size', { exact: true }).selectOption('small');
      // Adam at a learning rate of 1 blows the weights up within a few steps.
      await panel.getByLabel('Learning rate', { exact: true }).fill('1');
      await panel.getByLabel('Schedule', { exact: true }).selectOption('constant');
      await panel.getByRole('button', { name: 'Start training' }).click();
      await waitForPhase(page, 'failed', 120_000);
      assert.match(await text(page, 'training-error'), /^Training stopped: the loss became (NaN|inf|-inf) at step \d+; the weights of the last good step are kept\./);
      assert.match(await panel.getByRole('status').textContent(), /^Stopped at step \d+/);
      assert.equal(await panel.getByRole('button', { name: 'Download model' }).isEnabled(), true, 'the last good weights can still be saved');
      assert.equal(await page.getByRole('alert').isVisible(), false, 'the explorer shows no error');
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});

describe('the Training panel on WebGPU (SwiftShader)', () => {
  const browser = browserForSuite({ webgpu: true });

  test('the training worker loses its GPU: a message in words, the copy kept earlier is usable, the explorer works', { timeout: 420_000 }, async () => {
    const s = await openPage(browser(), server, '?backend=webgpu&model=mnist-mlp-2', { readyTimeout: 150_000 });
    try {
      const { page, log } = s;
      await settle(page);
      const panel = await openTraining(page);
      await panel.getByLabel('Network size', { exact: true }).selectOption('small');
      await panel.getByLabel('Train on', { exact: true }).selectOption('webgpu');
      await panel.getByLabel('Batch size', { exact: true }).fill('16');
      await panel.getByRole('button', { name: 'Start training' }).click();
      await waitForStep(page, 2, 300_000);
      await panel.getByRole('button', { name: 'Pause training' }).click();
      await waitForPhase(page, 'paused', 120_000);
      // Download model copies the weights out of the worker: the copy the page keeps.
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), panel.getByRole('button', { name: 'Download model' }).click()]);
      assert.match(download.suggestedFilename(), /\.zip$/);
      const keptStep = await step(page);
      await panel.getByRole('button', { name: 'Resume training' }).click();
      await waitForPhase(page, 'running');

      // What a lost device looks like to burn inside the worker: every GPU read fails. The
      // explorer's own device, in the page, is untouched.
      const worker = page.workers().find((w) => w.url().endsWith('/train/worker.js'));
      assert.ok(worker, `the training worker is running (workers: ${page.workers().map((w) => w.url()).join(', ')})`);
      await worker.evaluate(() => {
        GPUBuffer.prototype.mapAsync = () => Promise.reject(new DOMException('device lost (simulated)', 'OperationError'));
      });
      await waitForPhase(page, 'failed', 180_000);
      const error = await text(page, 'training-error');
      assert.match(error, /^Training stopped: .*could not be read back.*The model in training cannot be read any more: its WebGPU device stopped working\. The copy from step ([\d,]+) is kept: Use this model and Download model still work\. The explorer is not affected\.$/, error);
      assert.equal(Number(/The copy from step ([\d,]+)/.exec(error)[1].replace(/,/g, '')), keptStep, 'the copy is the one taken while paused');
      assert.equal(await panel.getByRole('button', { name: 'Resume training' }).count(), 0, 'a run that cannot be read is not resumed');
      assert.equal(await panel.getByRole('button', { name: 'Pause training' }).isEnabled(), false);
      assert.equal(await panel.getByRole('button', { name: 'Start training' }).isEnabled(), true, 'a new run can start');

      // Use this model: the kept copy becomes the explorer's, on its own WebGPU device.
      const before = await page.evaluate(() => document.body.dataset.model);
      await panel.getByRole('button', { name: 'Use this model' }).click();
      await page.waitForFunction((b) => document.body.dataset.model && document.body.dataset.model !== b, before, { timeout: 120_000 });
      await page.waitForFunction(() => window.vaeStats.busy() === 0, null, { timeout: 120_000 });
      assert.match(await panel.getByRole('status').textContent(), new RegExp(`The explorer now uses the model trained to step ${keptStep.toLocaleString('en')}\\.`));
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'WebGPU', 'the explorer kept its own device');
      // A few steps in, every dimension may still be inactive (folded away): z moves by a prior sample.
      const img = await decodedPixels(page);
      const n = await decodeCount(page);
      await page.getByRole('button', { name: 'Sample from prior', exact: true }).click();
      await waitForDecodesAfter(page, n, 60_000);
      assert.ok(pixelDiff(img, await decodedPixels(page)) > 0, 'a new z changes the decoded image');
      assert.equal(await page.getByRole('alert').isVisible(), false, await page.locator('#error').textContent());
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});
