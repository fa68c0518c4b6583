// `make site`: the static folder works from a plain static file server with no special headers
// (Python's http.server: no CSP header, no compression, no rewrites) under a sub-path, as on a
// project's GitHub Pages: the page loads and decodes on the CPU, a slider and a model switch
// work, every wasm module is there, and the Training panel trains on the MNIST files the site
// carries. Nothing is requested from another origin and nothing fails.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, browserForSuite, openPage, settle, decodedPixels, decodeCount, waitForDecodesAfter, pixelDiff } from './harness.mjs';

const T = { timeout: 240_000 };
const SUB = 'vae-explorer';

let dir;
let python;
let server;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'site-'));
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'site.mjs'), '--out', path.join(dir, SUB)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  python = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`python3 -m http.server printed no port: ${out}`)), 15_000);
    python.stdout.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    python.once('exit', (code) => reject(new Error(`python3 -m http.server exited (${code}): ${out}`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  server = { origin, url: `${origin}/${SUB}/` };
}, { timeout: 180_000 });

after(() => {
  python?.kill();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('make site, served by a plain static file server under a sub-path', () => {
  const browser = browserForSuite({ webgpu: false });

  test('the page loads, decodes, follows a slider and switches models; every module is there', T, async () => {
    const s = await openPage(browser(), server, '');
    try {
      const { page, log } = s;
      await settle(page);
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'CPU');
      const before = await decodedPixels(page);
      const n = await decodeCount(page);
      await page.getByRole('slider', { name: 'Latent dimension 1', exact: true }).focus();
      for (let k = 0; k < 30; k++) await page.keyboard.press('ArrowRight');
      await waitForDecodesAfter(page, n);
      assert.ok(pixelDiff(before, await decodedPixels(page)) > 0, 'the image follows the slider');

      const model = await page.evaluate(() => document.body.dataset.model);
      const other = await page.locator('#model-select option').evaluateAll((os, m) => os.map((o) => o.value).find((v) => v && v !== m), model);
      await page.locator('#model-select').selectOption(other);
      await page.waitForFunction((m) => document.body.dataset.model === m, other, { timeout: 60_000 });
      await settle(page);

      const modules = await page.evaluate(async () => {
        const out = {};
        for (const f of ['vae_explorer_cpu_bg.wasm', 'vae_explorer_bg.wasm', 'vae_explorer_train_bg.wasm']) {
          const r = await fetch(`pkg/${f}`);
          out[f] = [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength > 1000];
        }
        return out;
      });
      for (const [f, [status, type, big]] of Object.entries(modules)) assert.deepEqual([status, type, big], [200, 'application/wasm', true], f);
      assert.ok(log.requests.every((u) => u.startsWith(server.url)), `everything under /${SUB}/: ${log.requests.filter((u) => !u.startsWith(server.url)).join(', ')}`);
      assert.deepEqual(log.failedRequests, []);
      assert.deepEqual(log.consoleErrors, []);
      assert.deepEqual(log.pageErrors, []);
      assert.equal(await page.getByRole('alert').isVisible(), false);
    } finally {
      await s.close();
    }
  });

  test('the Training panel trains on the MNIST files the site carries', T, async () => {
    const s = await openPage(browser(), server, '?model=mnist-mlp-2');
    try {
      const { page, log } = s;
      await settle(page);
      await page.getByRole('button', { name: 'Open training' }).click();
      const panel = page.getByRole('region', { name: 'Training', exact: true });
      await page.waitForFunction(() => document.getElementById('training').dataset.phase === 'idle', null, { timeout: 60_000 });
      await panel.getByLabel('Network size', { exact: true }).selectOption('small');
      await panel.getByRole('button', { name: 'Start training' }).click();
      await page.waitForFunction(() => Number(document.getElementById('training').dataset.step ?? 0) >= 3 || document.getElementById('training').dataset.phase === 'failed', null, { timeout: 180_000 });
      assert.equal(await page.evaluate(() => document.getElementById('training').dataset.phase), 'running', await page.locator('#training-error').textContent());
      assert.ok(log.requests.some((u) => u.endsWith(`/${SUB}/data/mnist/train-images-idx3-ubyte`)), 'MNIST came from the site');
      await panel.getByRole('button', { name: 'Pause training' }).click();
      await page.waitForFunction(() => document.getElementById('training').dataset.phase === 'paused', null, { timeout: 60_000 });
      assert.deepEqual(log.failedRequests, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });
});
