// Reliability in headless Chromium: broken bundles (at start and when switching), bad values
// through the wasm API, GPU faults, a hostile burst of input, and a soak run.
//   SOAK_UPDATES / SOAK_DRAWINGS / SOAK_SWITCHES size the soak (`make test`: 2,000 / 40 / 40;
//   `make soak`: 10,000 / 200 / 200). The soak prints its figures as one JSON line.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer,
  browserForSuite,
  openPage,
  waitForAlert,
  decodedPixels,
  sliderValues,
  decodeCount,
  waitForDecodesAfter,
  settle,
  pixelDiff,
  pixelStats,
  drawStrokes,
  percentile,
  traceMainThread,
  ONE,
  SEVEN,
} from './harness.mjs';

const LOAD = { timeout: 180_000 };
const T = { timeout: 240_000 };
const TRAP = /unreachable|panicked|RuntimeError|wasm-function|\n\s+at /i;

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------- broken bundles

const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255));

/** Replaces `file` of the bundle under `dir` ("" = every bundle) with what `body(real)` returns. */
function fileRoute(dir, file, body) {
  return [
    `**/models/${dir}${dir ? '/' : '*/'}${file}`,
    async (route) => {
      const real = await route.fetch();
      const out = await body(real);
      if (out.status) await route.fulfill(out);
      else await route.fulfill({ response: real, body: out.body });
    },
  ];
}

const manifestEdit = (edit) => async (real) => ({ body: JSON.stringify(edit(JSON.parse(await real.text()))) });

/** One case per way a bundle can be broken; `expect` is what the message must name. */
const CASES = [
  { name: 'truncated weights', file: 'weights.bpk', body: async (r) => ({ body: (await r.body()).subarray(0, 50_000) }), expect: /weights/i },
  { name: 'garbage weights', file: 'weights.bpk', body: async () => ({ body: garbage }), expect: /weights.*(damaged|not a burnpack)/i },
  { name: 'weights far larger than the architecture', file: 'weights.bpk', body: async (r) => ({ body: Buffer.concat([await r.body(), Buffer.alloc(40 << 20)]) }), expect: /far larger than the .* MB this architecture/i },
  { name: 'missing weights (404)', file: 'weights.bpk', body: async () => ({ status: 404, body: 'not found' }), expect: /weights.*404/i },
  { name: 'missing manifest (404)', file: 'manifest.json', body: async () => ({ status: 404, body: 'not found' }), expect: /manifest.*404/i },
  { name: 'malformed manifest', file: 'manifest.json', body: async (r) => ({ body: (await r.text()).slice(0, 300) }), expect: /manifest.*not valid JSON/i },
  { name: 'unknown format version', file: 'manifest.json', body: manifestEdit((m) => ({ ...m, format_version: 99 })), expect: /format version\b.*\b99\b/i },
  {
    name: 'latent size disagrees with the weights',
    file: 'manifest.json',
    body: manifestEdit((m) => {
      const d = m.latent_dim === 2 ? 3 : 8;
      const latent = Array.from({ length: d }, (_, i) => m.latent[i % m.latent.length]);
      return { ...m, latent_dim: d, latent, map: undefined };
    }),
    expect: /weights do not fit/i,
  },
  {
    name: 'layer shapes disagree with the weights',
    file: 'manifest.json',
    body: manifestEdit((m) => ({ ...m, architecture: { ...m.architecture, hidden: m.architecture.hidden.map((w) => w / 2) } })),
    expect: /weights do not fit/i,
  },
];

async function assertReadable(page, log, text, c) {
  assert.match(text, c.expect, text);
  assert.doesNotMatch(text, TRAP, `a message in words, not a trap or a stack: ${text}`);
  await page.waitForTimeout(200); // late errors
  assert.deepEqual(log.pageErrors, [], 'no uncaught exception');
  assert.deepEqual(log.dialogs, []);
  assert.doesNotMatch([...log.consoleErrors, ...log.consoleWarnings].join('\n'), /unreachable|panicked at|RuntimeError/i);
}

/** A CPU-backend browser and one page open in it, for the enclosing describe block. */
function cpuPageForSuite() {
  const browser = browserForSuite({ webgpu: false });
  let page;
  before(async () => {
    page = await openPage(browser(), server, '?backend=cpu');
  }, LOAD);
  return { browser, session: () => page };
}

describe('broken bundles (CPU backend)', () => {
  const { browser, session } = cpuPageForSuite();

  for (const c of CASES) {
    test(`at start, ${c.name}: the alert names the problem, nothing is thrown`, T, async () => {
      const s = await openPage(browser(), server, '?backend=cpu', { routes: [fileRoute('', c.file, c.body)], waitReady: false });
      try {
        const text = await waitForAlert(s.page);
        await assertReadable(s.page, s.log, text, c);
        assert.match(await s.page.locator('#status-main').textContent(), /not loaded/);
      } finally {
        await s.close();
      }
    });
  }

  for (const c of CASES) {
    test(`switching to a bundle with ${c.name}: the previous model stays active`, T, async () => {
      const { page, log } = session();
      const select = page.locator('#model-select');
      const [current, other] = await select.evaluate((el) => [el.value, [...el.options].map((o) => o.value).find((v) => v !== el.value)]);
      const route = fileRoute(other, c.file, c.body);
      await page.route(...route);
      try {
        const sliderCount = (await sliderValues(page)).length;
        await select.selectOption(other);
        // The select is disabled while the switch runs; the alert before it may be a stale one.
        await page.waitForFunction(() => !document.getElementById('model-select').disabled, null, { timeout: 60_000 });
        const text = await waitForAlert(page);
        assert.match(text, /Could not switch to .*The previous model stays active\./s, text);
        await assertReadable(page, log, text, c);
        assert.equal(await select.inputValue(), current, 'the select shows the active model again');
        assert.equal((await sliderValues(page)).length, sliderCount, 'same sliders');
        // Still decoding: a slider step changes the image.
        const before = await decodedPixels(page);
        const n = await decodeCount(page);
        const slider = page.locator('#sliders input[type=range]').first();
        await slider.focus();
        for (let k = 0; k < 30; k++) await page.keyboard.press('ArrowRight');
        await waitForDecodesAfter(page, n);
        assert.ok(pixelDiff(before, await decodedPixels(page)) > 0, 'the previous model still decodes');
      } finally {
        await page.unroute(route[0]);
      }
    });
  }
});

// ---------------------------------------------------------------- bad values

describe('bad values through the API and the page (CPU backend)', () => {
  const { session } = cpuPageForSuite();

  test('huge, infinite and out-of-range values are refused with the index named; the explorer goes on', T, async () => {
    const r = await session().page.evaluate(async () => {
      const { openModel } = await import('/load.js');
      const { explorer: ex } = await openModel({ backend: 'cpu', module: 'webgpu' });
      const D = ex.latentDim;
      const z = (i, v) => {
        const out = new Float32Array(D);
        out[i] = v;
        return out;
      };
      const image = (v) => new Float32Array(784).fill(0.1).fill(v, 100, 101);
      const calls = {
        huge: () => ex.decode(z(2, 1e30)),
        inf: () => ex.decode(z(1, Infinity)),
        negInf: () => ex.decodeBatch(new Float32Array(2 * D).fill(-Infinity, D + 4), 2),
        batchFraction: () => ex.decodeBatch(new Float32Array(D), 0.5),
        batchHuge: () => ex.decodeBatch(new Float32Array(D), 1e9),
        pixelTwo: () => ex.encode(image(2)),
        pixelNegative: () => ex.encode(image(-0.5)),
        otherSize: () => ex.encode(new Float32Array(56 * 56)),
      };
      const out = {};
      for (const [name, call] of Object.entries(calls)) {
        try {
          const v = await call();
          out[name] = { resolved: true, length: v?.length };
        } catch (e) {
          out[name] = { isError: e instanceof Error, message: String(e?.message ?? e) };
        }
      }
      // At the edge of the accepted range the pixels are still Bernoulli means.
      const edge = await ex.decode(z(0, 1000));
      out.edge = { min: Math.min(...edge), max: Math.max(...edge), finite: edge.every(Number.isFinite) };
      out.blank = Array.from((await ex.encode(new Float32Array(784))).mu ?? []).every(Number.isFinite);
      ex.free();
      return out;
    });
    for (const [name, e] of Object.entries(r)) {
      if (name === 'edge' || name === 'blank') continue;
      assert.ok(!e.resolved && e.isError, `${name}: rejected with an Error (${JSON.stringify(e)})`);
      assert.doesNotMatch(e.message, TRAP, `${name}: ${e.message}`);
    }
    assert.match(r.huge.message, /value 2 is 1e\+?30, outside the accepted range -1000 to 1000/, r.huge.message);
    assert.match(r.inf.message, /value 1 is inf/i, r.inf.message);
    assert.match(r.negInf.message, /value \d+ is -inf/i, r.negInf.message);
    assert.match(r.batchFraction.message, /whole number/, r.batchFraction.message);
    assert.match(r.batchHuge.message, /from 1 to 4096/, r.batchHuge.message);
    assert.match(r.pixelTwo.message, /image: value 100 is 2, outside the accepted range 0 to 1/, r.pixelTwo.message);
    assert.match(r.pixelNegative.message, /value 100 is -0\.5/, r.pixelNegative.message);
    assert.match(r.otherSize.message, /784.*3136/, r.otherSize.message);
    assert.ok(r.edge.finite && r.edge.min >= 0 && r.edge.max <= 1, `z_1 = 1000 decodes to valid pixels: ${JSON.stringify(r.edge)}`);
    assert.ok(r.blank, 'a blank image encodes to finite numbers through the API');
  });

  test('a blank drawing is not encoded: no alert, no posterior, z stays', T, async () => {
    const { page, log } = session();
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    const z = await sliderValues(page);
    const encodes = await page.evaluate(() => window.vaeStats.encodeMs.length);
    // A click without a drag and a stroke outside the pad leave no ink that reaches the encoder.
    const pad = page.getByRole('img', { name: 'Drawing pad', exact: true });
    const box = await pad.boundingBox();
    await page.mouse.move(box.x - 20, box.y - 20);
    await page.mouse.down();
    await page.mouse.move(box.x - 60, box.y - 40, { steps: 4 });
    await page.mouse.up();
    await page.waitForTimeout(300);
    assert.deepEqual(await sliderValues(page), z, 'z unchanged');
    assert.equal(await page.evaluate(() => window.vaeStats.encodeMs.length), encodes, 'nothing encoded');
    assert.equal(await page.getByRole('alert').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Sample from posterior' }).isDisabled(), true);
    assert.deepEqual(log.pageErrors, []);
  });

  test('a drawing pad of another size still gives the encoder a 28×28 image', T, async () => {
    const { page, log } = session();
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.locator('#pad').evaluate((c) => {
      c.style.width = '120px';
      c.style.height = '120px';
    });
    await page.waitForFunction(() => document.getElementById('pad').width !== 280);
    const n = await page.evaluate(() => window.vaeStats.encodeMs.length);
    await drawStrokes(page, ONE);
    await page.waitForFunction((k) => window.vaeStats.encodeMs.length > k, n, { timeout: 30_000 });
    await settle(page);
    const input = await page.locator('#encoder-input').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return { w: c.width, h: c.height, ink: Array.from({ length: c.width * c.height }, (_, i) => d[i * 4]) };
    });
    assert.deepEqual([input.w, input.h], [28, 28]);
    const stats = pixelStats(input.ink);
    assert.ok(stats.mean > 5, `the encoder input has ink (${JSON.stringify(stats)})`);
    assert.equal(await page.getByRole('alert').isVisible(), false);
    assert.deepEqual(log.pageErrors, []);
  });
});

// ---------------------------------------------------------------- GPU faults

/** Init script: keeps every WebGPU device the page creates in window.__gpuDevicesForTests. */
function recordDevices() {
  window.__gpuDevicesForTests = [];
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    window.__gpuDevicesForTests.push(device);
    return device;
  };
}

/**
 * Init script: counts the GPU buffers still alive (created, and neither destroyed nor garbage
 * collected; wgpu lets the browser collect a dropped buffer rather than destroying it) and
 * their bytes.
 */
function countBuffers() {
  const counts = { created: 0, live: 0, liveBytes: 0 };
  window.__gpuBuffersForTests = counts;
  const gone = new Set();
  const release = (id, size) => {
    if (gone.has(id)) return;
    gone.add(id);
    counts.live--;
    counts.liveBytes -= size;
  };
  const collected = new FinalizationRegistry(({ id, size }) => release(id, size));
  const ids = new WeakMap();
  const createBuffer = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (descriptor) {
    const buffer = createBuffer.call(this, descriptor);
    const id = ++counts.created;
    const size = Number(descriptor.size);
    ids.set(buffer, { id, size });
    collected.register(buffer, { id, size });
    counts.live++;
    counts.liveBytes += size;
    return buffer;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function () {
    const info = ids.get(this);
    if (info) release(info.id, info.size);
    return destroy.call(this);
  };
}

describe('GPU faults (WebGPU)', () => {
  const browser = browserForSuite({ webgpu: true });

  test('GPUDevice.destroy() mid-session: the page switches to the CPU, says so, keeps z and the drawing', T, async () => {
    const s = await openPage(browser(), server, '?backend=webgpu', { readyTimeout: 150_000, init: recordDevices });
    try {
      const { page, log } = s;
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'WebGPU');
      let n = await decodeCount(page);
      await drawStrokes(page, SEVEN);
      await waitForDecodesAfter(page, n, 60_000);
      const z = await sliderValues(page);
      const drawing = await page.locator('#encoder-input').evaluate((c) => c.toDataURL());
      // The device the page's model runs on (burn created it inside the wasm).
      const destroyed = await page.evaluate(() => {
        const devices = window.__gpuDevicesForTests ?? [];
        devices.forEach((d) => d.destroy());
        return devices.length;
      });
      assert.ok(destroyed >= 1, 'the test found the WebGPU device');
      await page.waitForFunction(() => document.body.dataset.backend === 'CPU', null, { timeout: 60_000 });
      await settle(page);
      // Whichever comes first: the device's lost promise, or a read that fails.
      assert.match(await page.locator('#notice').innerText(), /WebGPU stopped working.*(device was lost|could not be read back).*kept/s);
      assert.equal(await page.getByRole('alert').isVisible(), false, 'no error left behind');
      assert.deepEqual(await sliderValues(page), z, 'z kept');
      assert.equal(await page.locator('#encoder-input').evaluate((c) => c.toDataURL()), drawing, 'drawing kept');
      // Live on the CPU.
      const before = await decodedPixels(page);
      n = await decodeCount(page);
      await page.locator('#sliders input[type=range]').first().focus();
      for (let k = 0; k < 40; k++) await page.keyboard.press('ArrowRight');
      await waitForDecodesAfter(page, n);
      assert.ok(pixelDiff(before, await decodedPixels(page)) > 0, 'decoding continues on the CPU');
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('an adapter that cannot create a device: CPU backend with a notice, no alert', T, async () => {
    const s = await openPage(browser(), server, '?backend=webgpu', {
      init: () => {
        GPUAdapter.prototype.requestDevice = () => Promise.reject(new DOMException('device creation failed (simulated)', 'OperationError'));
      },
    });
    try {
      const { page, log } = s;
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'CPU');
      assert.match(await page.locator('#notice').innerText(), /WebGPU is unavailable[\s\S]*CPU/);
      assert.equal(await page.getByRole('alert').isVisible(), false);
      assert.deepEqual(log.pageErrors, []);
      assert.doesNotMatch(log.consoleErrors.join('\n'), /panicked|unreachable/);
    } finally {
      await s.close();
    }
  });
});

// ---------------------------------------------------------------- hostile bursts

describe('hostile bursts (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('1,000 input events in a second: coalesced, no long task over 100 ms, final image = decode(final z)', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu');
    try {
      const { page } = s;
      await page.waitForFunction(() => window.vaeStats.traversalMs.length > 0, null, { timeout: 60_000 });
      await settle(page);
      // Long tasks are judged by the main thread's own CPU time (from a trace), not by the clock:
      // on a shared 2-core machine a 10 ms task can take 80 ms of wall time waiting for a core.
      const stopTrace = await traceMainThread(browser(), page);
      const r = await page.evaluate(async () => {
        const input = document.querySelector('#sliders input[type=range]');
        const [lo, hi] = [Number(input.min), Number(input.max)];
        const decodesBefore = window.vaeStats.decodes;
        // A macrotask yield without the 4 ms clamp of nested timers.
        const channel = new MessageChannel();
        const yieldNow = () => new Promise((resolve) => {
          channel.port1.onmessage = resolve;
          channel.port2.postMessage(0);
        });
        let frames = 0;
        let counting = true;
        const countFrames = () => {
          frames++;
          if (counting) requestAnimationFrame(countFrames);
        };
        requestAnimationFrame(countFrames);
        const start = performance.now();
        for (let k = 0; k < 1000; k++) {
          while (performance.now() - start < k) await yieldNow(); // one event per ms
          input.value = String(lo + ((hi - lo) * ((k * 7919) % 1000)) / 1000);
          input.dispatchEvent(new Event('input', { bubbles: true }));
        }
        const burstMs = performance.now() - start;
        const burstDecodes = window.vaeStats.decodes - decodesBefore;
        const burstFrames = frames;
        // Let the last decode and the deferred side panels land.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        counting = false;
        return { burstMs, burstFrames, burstDecodes, decodes: window.vaeStats.decodes - decodesBefore };
      });
      const tasks = await stopTrace();
      assert.ok(r.burstMs < 2000, `the burst took ${r.burstMs} ms`);
      // At most one decode per frame: 1,000 events, a few dozen images.
      assert.ok(r.burstDecodes > 0 && r.burstDecodes <= r.burstFrames + 2, `${r.burstDecodes} decodes for 1,000 events in ${r.burstFrames} frames`);
      assert.ok(tasks.tasks > 100, `the trace holds ${tasks.tasks} main-thread tasks`);
      assert.ok(tasks.longest_task_cpu_ms <= 100, `longest task ${tasks.longest_task_cpu_ms} ms of CPU time; long tasks: ${JSON.stringify(tasks.long_tasks)}`);
      console.log(JSON.stringify({ burst: { events: 1000, ms: Math.round(r.burstMs), frames: r.burstFrames, decodes: r.burstDecodes, longestTaskCpuMs: tasks.longest_task_cpu_ms, longestTaskMs: tasks.longest_task_ms } }));

      // The final image is the decode of the final z (a fresh Explorer on the same bundle).
      const z = await sliderValues(page);
      const want = await page.evaluate(async (zv) => {
        // The module the page decodes with on ?backend=cpu.
        const { openModel } = await import('/load.js');
        const { explorer: ex } = await openModel({ backend: 'cpu' });
        const px = await ex.decode(Float32Array.from(zv));
        ex.free();
        return Array.from(px, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      }, z);
      const got = await decodedPixels(page);
      const diff = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
      assert.ok(diff <= 1, `final image vs decode(final z): ${diff} grey levels`);
      assert.deepEqual(s.log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});

// ---------------------------------------------------------------- soak

const SOAK = {
  updates: Number(process.env.SOAK_UPDATES ?? 2000),
  drawings: Number(process.env.SOAK_DRAWINGS ?? 40),
  switches: Number(process.env.SOAK_SWITCHES ?? 40),
};

/** In the page: `count` slider updates, each waiting for its image; returns each latency. */
function updates(page, count, seed) {
  return page.evaluate(
    async ({ count, seed }) => {
      const stats = window.vaeStats;
      const latencies = [];
      const inputs = [...document.querySelectorAll('#sliders input[type=range]')];
      for (let k = 0; k < count; k++) {
        const input = inputs[(k + seed) % inputs.length];
        const [lo, hi] = [Number(input.min), Number(input.max)];
        const before = stats.decodes;
        input.value = String(lo + ((hi - lo) * (((k + seed) * 7919) % 997)) / 997);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        while (stats.decodes === before) await new Promise((resolve) => setTimeout(resolve, 0));
        latencies.push(stats.decodeMs[stats.decodeMs.length - 1]);
      }
      return latencies;
    },
    { count, seed },
  );
}

async function memory(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const wasm = await page.evaluate(() => window.vaeStats.wasmMemoryBytes?.() ?? 0);
  return { jsHeap: heap.usedSize, wasm };
}

describe('soak (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test(`${SOAK.updates} slider updates, ${SOAK.drawings} drawings, ${SOAK.switches} model switches: flat memory, steady latency, no error`, { timeout: 3_600_000 }, async () => {
    const s = await openPage(browser(), server, '?backend=cpu');
    try {
      const { page, log } = s;
      const cdp = await page.context().newCDPSession(page);
      const select = page.locator('#model-select');
      const models = await select.evaluate((el) => [...el.options].map((o) => o.value));
      const rounds = Math.max(SOAK.drawings, SOAK.switches);
      const perRound = Math.ceil(SOAK.updates / rounds);
      let switches = 0;
      let drawings = 0;
      let done = 0;
      const latencies = [];
      let warm = null;
      let peak = { jsHeap: 0, wasm: 0 };
      for (let round = 0; round < rounds; round++) {
        latencies.push(...(await updates(page, Math.min(perRound, SOAK.updates - done), round)));
        done = latencies.length;
        if (drawings < SOAK.drawings) {
          if (drawings % 2) await page.getByRole('button', { name: 'Clear', exact: true }).click();
          const n = await page.evaluate(() => window.vaeStats.encodeMs.length);
          await drawStrokes(page, drawings % 2 ? ONE : SEVEN, { steps: 3 });
          await page.waitForFunction((k) => window.vaeStats.encodeMs.length > k, n, { timeout: 30_000 });
          drawings++;
        }
        if (switches < SOAK.switches) {
          const next = models[(models.indexOf(await select.inputValue()) + 1) % models.length];
          await select.selectOption(next);
          await page.waitForFunction((m) => document.body.dataset.model === m && !document.getElementById('model-select').disabled, next, { timeout: 60_000 });
          switches++;
        }
        // Warm-up: one full cycle through the models (their pools and caches are filled).
        if (round === models.length * 2 - 1) warm = await memory(page, cdp);
        if (warm) {
          const m = await memory(page, cdp);
          peak = { jsHeap: Math.max(peak.jsHeap, m.jsHeap), wasm: Math.max(peak.wasm, m.wasm) };
        }
      }
      await settle(page);
      // Let retired models be freed (they wait until no scheduler has work on them).
      await page.waitForTimeout(1000);
      const end = await memory(page, cdp);
      const first = latencies.slice(0, 1000);
      const last = latencies.slice(-1000);
      const result = {
        soak: { updates: latencies.length, drawings, switches },
        jsHeapGrowthMB: +((end.jsHeap - warm.jsHeap) / 1e6).toFixed(2),
        jsHeapPeakGrowthMB: +((peak.jsHeap - warm.jsHeap) / 1e6).toFixed(2),
        wasmGrowthMB: +((end.wasm - warm.wasm) / 1e6).toFixed(2),
        wasmMB: +(end.wasm / 1e6).toFixed(1),
        p95FirstMs: +percentile(first, 95).toFixed(2),
        p95LastMs: +percentile(last, 95).toFixed(2),
      };
      console.log(JSON.stringify(result));
      assert.equal(latencies.length, SOAK.updates);
      assert.ok(result.jsHeapGrowthMB < 10, `JS heap grew ${result.jsHeapGrowthMB} MB after warm-up`);
      assert.ok(result.wasmGrowthMB < 10, `wasm memory grew ${result.wasmGrowthMB} MB after warm-up`);
      // 20 %, plus 2 ms of noise floor: the p95 here is the wait behind one 48-image side-panel
      // chunk (~15 ms), which varies by a few ms from run to run on these machines.
      assert.ok(result.p95LastMs <= result.p95FirstMs * 1.2 + 2, `p95 latency: first 1,000 ${result.p95FirstMs} ms, last 1,000 ${result.p95LastMs} ms`);
      assert.equal(await page.locator('#error').textContent(), '', 'no error shown');
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
      assert.deepEqual(log.foreignRequests, [], 'no request to another origin');
    } finally {
      await s.close();
    }
  });
});

describe('soak (WebGPU): GPU buffers are reused, not leaked', () => {
  const browser = browserForSuite({ webgpu: true });

  test('slider updates and model switches keep the live GPU buffers flat after warm-up', { timeout: 900_000 }, async () => {
    const s = await openPage(browser(), server, '?backend=webgpu', { readyTimeout: 150_000, init: countBuffers });
    try {
      const { page, log } = s;
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'WebGPU');
      const select = page.locator('#model-select');
      const models = await select.evaluate((el) => [...el.options].map((o) => o.value));
      const cdp = await page.context().newCDPSession(page);
      const live = async () => {
        // Collected buffers are counted by finalizers, which run after a collection.
        for (let k = 0; k < 3; k++) {
          await cdp.send('HeapProfiler.collectGarbage');
          await page.waitForTimeout(200);
        }
        return page.evaluate(() => ({ ...window.__gpuBuffersForTests }));
      };
      const cycle = async () => {
        for (let i = 0; i < models.length; i++) {
          await updates(page, 20, i);
          const next = models[(models.indexOf(await select.inputValue()) + 1) % models.length];
          await select.selectOption(next);
          await page.waitForFunction((m) => document.body.dataset.model === m && !document.getElementById('model-select').disabled, next, { timeout: 120_000 });
        }
        await settle(page);
        await page.waitForTimeout(1500); // retired models are freed
      };
      const after = [];
      for (let k = 0; k < 8; k++) {
        await cycle();
        after.push(await live());
      }
      console.log(JSON.stringify({ gpuBuffers: after }));
      // Finalizers run when the collector gets to them, so one snapshot can read low (23 live
      // buffers between two readings of 99 was seen): the baseline is the highest of three
      // warm-up rounds. A leak grows every round (it was ~4 MB per two switches).
      const warmRounds = after.slice(1, 4);
      const warm = { live: Math.max(...warmRounds.map((a) => a.live)), liveBytes: Math.max(...warmRounds.map((a) => a.liveBytes)) };
      // Likewise the end is the lower of the last two rounds (one read 113 buffers, 11.8 MB,
      // between two of 99, 6.6 MB): a leak raises both.
      const end = after.slice(-2).reduce((a, b) => (b.liveBytes < a.liveBytes ? b : a));
      assert.ok(end.liveBytes <= warm.liveBytes * 1.05 + (1 << 20), `live GPU bytes ${warm.liveBytes} → ${end.liveBytes}`);
      assert.ok(end.live <= warm.live + 16, `live GPU buffers ${warm.live} → ${end.live}`);
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});
