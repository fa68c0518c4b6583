// ?backend=auto: the page paints with the small CPU-only module, then loads the WebGPU module,
// measures both on this machine and keeps the faster one (www/backend-policy.js, www/lib/backend-choice.js).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, browserForSuite, openPage, sliderValues, decodedPixels, settle, decodeCount } from './harness.mjs';

const T = { timeout: 180_000 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const wasmRequests = (log) => ({
  cpu: log.requests.filter((u) => u.endsWith('/pkg/vae_explorer_cpu_bg.wasm')).length,
  webgpu: log.requests.filter((u) => u.endsWith('/pkg/vae_explorer_bg.wasm')).length,
});

async function waitDecided(page) {
  await page.waitForFunction(() => window.vaeStats.auto.state === 'decided', null, { timeout: 120_000, polling: 50 });
  await settle(page);
  return page.evaluate(() => JSON.parse(JSON.stringify(window.vaeStats.auto)));
}

function assertClean(log) {
  assert.deepEqual(log.pageErrors, []);
  assert.deepEqual(log.consoleErrors, []);
  assert.deepEqual(log.foreignRequests, []);
}

describe('auto with a WebGPU adapter (SwiftShader)', () => {
  const browser = browserForSuite({ webgpu: true });

  test('paints with the CPU-only module, then measures WebGPU and keeps the faster backend', T, async () => {
    const s = await openPage(browser(), server, '?backend=auto');
    try {
      const { page, log } = s;
      const first = await page.evaluate(() => {
        const res = performance.getEntriesByType('resource');
        const at = (suffix) => res.find((r) => r.name.endsWith(suffix));
        return {
          mark: performance.getEntriesByName('first-decode')[0].startTime,
          cpu: at('/pkg/vae_explorer_cpu_bg.wasm')?.responseEnd ?? null,
          webgpu: at('/pkg/vae_explorer_bg.wasm')?.startTime ?? null,
        };
      });
      assert.ok(first.cpu !== null && first.cpu < first.mark, 'the CPU-only module arrived before the first image');
      assert.ok(first.webgpu === null || first.webgpu >= first.mark, `the WebGPU module was requested after the first image (${first.webgpu} vs ${first.mark})`);

      const auto = await waitDecided(page);
      assert.deepEqual(wasmRequests(log), { cpu: 1, webgpu: 1 });
      const { cpu, webgpu } = auto.measured;
      assert.ok(cpu.sliderMs > 0 && cpu.totalMs >= cpu.sliderMs, `CPU measured: ${JSON.stringify(cpu)}`);
      assert.ok(webgpu.sliderMs > 0, `WebGPU measured: ${JSON.stringify(webgpu)}`);
      const gpuFaster = webgpu.totalMs !== null && webgpu.totalMs < cpu.totalMs;
      assert.equal(auto.decision.backend, gpuFaster ? 'webgpu' : 'cpu', 'the decision follows the numbers');
      const label = gpuFaster ? 'WebGPU' : 'CPU';
      assert.match(await page.locator('#status-main').textContent(), new RegExp(`^Backend: ${label}`));
      assert.match(await page.locator('#status-reason').textContent(), /per slider step: WebGPU .* ms.*CPU .* ms/);
      assert.equal(await page.locator('#notice').isVisible(), false, 'no warning box: under auto the CPU is a choice, said in the status line');
      assert.equal(await page.locator('[role=alert]').isVisible(), false);
      assertClean(log);
    } finally {
      await s.close();
    }
  });

  test('when WebGPU measures faster the page moves to it in place: z and the image stay, sliders keep working', T, async () => {
    // Plays a machine with a fast GPU: the measured WebGPU numbers are replaced after measuring.
    const init = () => {
      window.vaeTestHooks = {
        adjustAutoMeasurement: ({ webgpu }) => Object.assign(webgpu, { sliderMs: 0.01, stripsMs: 0.01, totalMs: 0.02 }),
      };
    };
    const s = await openPage(browser(), server, '?model=mnist-mlp-2&backend=auto&z=1.5,-0.5', { init });
    try {
      const { page, log } = s;
      // Read at once: settle() would also wait for the measurement.
      const z0 = await sliderValues(page);
      const img0 = await decodedPixels(page);
      assert.equal(await page.evaluate(() => document.body.dataset.firstBackend), 'CPU', 'painted first on the CPU');

      const auto = await waitDecided(page);
      assert.equal(auto.decision.backend, 'webgpu');
      assert.match(await page.locator('#status-main').textContent(), /^Backend: WebGPU/);
      assert.match(await page.locator('#status-reason').textContent(), /WebGPU is faster here.*Adapter: \S/);
      assert.equal(await page.locator('#notice').isVisible(), false);
      assert.deepEqual(await sliderValues(page), z0, 'z kept');
      const diff = maxDiff(img0, await decodedPixels(page));
      assert.ok(diff <= 2, `the same image on WebGPU (max diff ${diff} grey levels)`);

      const n = await decodeCount(page);
      await page.getByRole('slider', { name: 'Latent dimension 1', exact: true }).press('ArrowRight');
      await page.waitForFunction((k) => window.vaeStats.decodes > k, n, { timeout: 30_000 });
      await settle(page);
      assert.equal(await page.evaluate(() => window.vaeStats.backend), 'WebGPU');
      assert.ok(maxDiff(img0, await decodedPixels(page)) > 0, 'a slider step changes the image');
      assertClean(log);
    } finally {
      await s.close();
    }
  });
});

describe('auto without a WebGPU adapter', () => {
  const browser = browserForSuite({ webgpu: false });

  test('the CPU-only module is all the page downloads; the status line says why, with no warning box', T, async () => {
    const s = await openPage(browser(), server, '?backend=auto');
    try {
      const { page, log } = s;
      await settle(page);
      assert.equal(await page.evaluate(() => window.vaeStats.auto.state), 'no-webgpu');
      assert.deepEqual(wasmRequests(log), { cpu: 1, webgpu: 0 });
      assert.match(await page.locator('#status-reason').textContent(), /no WebGPU adapter/);
      assert.equal(await page.locator('#notice').isVisible(), false, 'nothing the person asked for failed');
      assertClean(log);
    } finally {
      await s.close();
    }
  });
});
