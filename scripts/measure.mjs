#!/usr/bin/env node
// Sizes, cold start and decode latency of vae-explorer in headless Chromium (run by `make measure`).
// Prints a markdown table and writes bench/measure.json.
//
//   node scripts/measure.mjs [--loads N] [--quick]
//
// Backends: "CPU" runs in Chromium without WebGPU; "WebGPU" runs with --enable-unsafe-webgpu,
// which on a machine without a GPU is SwiftShader (a software adapter): its numbers say how
// the WebGPU path behaves, not how fast a real GPU is.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import os from 'node:os';
import { startServer, launchBrowser, openPage, percentile, median, traceMainThread, ROOT } from '../tests/browser/harness.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const LOADS = Number(argv[argv.indexOf('--loads') + 1]) || (quick ? 2 : 5);
const API_RUNS = { CPU: quick ? 50 : 200, WebGPU: quick ? 20 : 50 };
const ENCODE_RUNS = { CPU: quick ? 30 : 100, WebGPU: quick ? 10 : 30 };
const SLIDER_EVENTS = quick ? 60 : 300;
const MAP_MOVES = quick ? 40 : 150;

const log = (...a) => process.stderr.write(`measure: ${a.join(' ')}\n`);

// ---------------------------------------------------------------- sizes

function sizes() {
  const gz = (buf) => zlib.gzipSync(buf, { level: 9 }).length;
  const wasm = fs.readFileSync(path.join(ROOT, 'pkg/vae_explorer_bg.wasm'));
  const js = fs.readFileSync(path.join(ROOT, 'pkg/vae_explorer.js'));
  const wasmCpu = fs.readFileSync(path.join(ROOT, 'pkg/vae_explorer_cpu_bg.wasm'));
  const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/index.json'), 'utf8'));
  const entry = index.models[0];
  const dir = path.join(ROOT, 'models', entry.path);
  const manifestText = fs.readFileSync(path.join(dir, 'manifest.json'));
  const manifest = JSON.parse(manifestText);
  const weights = fs.readFileSync(path.join(dir, manifest.weights || 'weights.bpk'));
  const out = {
    model: entry.name,
    wasm: { raw: wasm.length, gzip: gz(wasm) },
    wasm_cpu: { raw: wasmCpu.length, gzip: gz(wasmCpu) },
    glue_js: { raw: js.length, gzip: gz(js) },
    weights: { raw: weights.length, gzip: gz(weights) },
    manifest: { raw: manifestText.length, gzip: gz(manifestText) },
  };
  out.bundle = { raw: out.weights.raw + out.manifest.raw, gzip: out.weights.gzip + out.manifest.gzip };
  out.wasm_plus_bundle_gzip = out.wasm.gzip + out.bundle.gzip;
  // What the page downloads before its first image (auto and cpu): the CPU-only module.
  out.first_image_download_gzip = out.wasm_cpu.gzip + out.bundle.gzip;
  return out;
}

// ---------------------------------------------------------------- browser measurements

async function firstDecode(browser, server, query) {
  const times = [];
  const decided = [];
  let backend = '';
  let choice = null;
  for (let i = 0; i < LOADS; i++) {
    // A new context per load: empty HTTP cache, fresh page.
    const s = await openPage(browser, server, query, { waitReady: false });
    try {
      await s.page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000, polling: 20 });
      const r = await s.page.evaluate(() => ({
        t: performance.getEntriesByName('first-decode')[0]?.startTime,
        backend: window.vaeStats.backend,
      }));
      times.push(r.t);
      backend = r.backend;
      if (query.includes('auto')) {
        // auto paints on the CPU module, then measures WebGPU and may move to it.
        await s.page.waitForFunction(() => window.vaeStats.auto.state !== 'measuring', null, { timeout: 120_000, polling: 50 });
        const a = await s.page.evaluate(() => ({
          t: performance.getEntriesByName('auto-decided')[0]?.startTime ?? null,
          choice: window.vaeStats.auto.decision?.backend ?? null,
          reason: window.vaeStats.auto.decision?.reason ?? null,
        }));
        if (a.t !== null) decided.push(a.t);
        choice = { backend: a.choice, reason: a.reason };
      }
    } finally {
      await s.close();
    }
  }
  return { query, backend, runs: times, median_ms: median(times), ...(choice && { auto: choice, decided_ms: decided.length ? median(decided) : null }) };
}

/** Warm decode/encode latency through the wasm API, in a page of this browser. */
async function apiLatency(browser, server, backend) {
  const s = await openPage(browser, server, `?backend=${backend === 'WebGPU' ? 'webgpu' : 'cpu'}`);
  try {
    return await s.page.evaluate(
      async ({ backend, decodeRuns, encodeRuns }) => {
        const { openModel } = await import('/load.js');
        const { explorer: ex } = await openModel({ backend: backend === 'WebGPU' ? 'webgpu' : 'cpu', module: 'webgpu' });
        const D = ex.latentDim;
        const randomZ = () => Float32Array.from({ length: D }, () => 3 * (Math.random() * 2 - 1));
        for (let i = 0; i < 10; i++) await ex.decode(randomZ()); // warm-up
        const decodeMs = [];
        let t = performance.now();
        const t0 = t;
        for (let i = 0; i < decodeRuns; i++) {
          await ex.decode(randomZ());
          const now = performance.now();
          decodeMs.push(now - t);
          t = now;
        }
        const decodeMean = (t - t0) / decodeRuns;
        const img = () => Float32Array.from({ length: 784 }, () => (Math.random() < 0.2 ? Math.random() : 0));
        for (let i = 0; i < 5; i++) await ex.encode(img());
        const encodeMs = [];
        for (let i = 0; i < encodeRuns; i++) {
          const x = img();
          const a = performance.now();
          await ex.encode(x);
          encodeMs.push(performance.now() - a);
        }
        // Where a decode's time goes: the fixed cost of any call on this backend (upload, one
        // trivial kernel, read back) against batch 1, 16 and 256 decodes.
        const timed = async (fn, runs) => {
          for (let i = 0; i < 3; i++) await fn();
          const ms = [];
          for (let i = 0; i < runs; i++) {
            const a = performance.now();
            await fn();
            ms.push(performance.now() - a);
          }
          ms.sort((x, y) => x - y);
          return ms[ms.length >> 1];
        };
        const runs = Math.max(10, decodeRuns >> 2);
        const breakdown = {
          round_trip_p50: await timed(() => ex.roundTrip(randomZ()), runs),
          batch1_p50: await timed(() => ex.decode(randomZ()), runs),
        };
        for (const n of [16, 256]) {
          const zs = Float32Array.from({ length: n * D }, () => 3 * (Math.random() * 2 - 1));
          breakdown[`batch${n}_p50`] = await timed(() => ex.decodeBatch(zs, n), Math.max(5, runs >> 1));
        }
        // The traversal panel: one batch of 9 images per latent dimension.
        const tz = Float32Array.from({ length: 9 * D * D }, () => 3 * (Math.random() * 2 - 1));
        await ex.decodeBatch(tz, 9 * D);
        const traversalMs = [];
        for (let i = 0; i < Math.max(5, runs >> 1); i++) {
          const a = performance.now();
          await ex.decodeBatch(tz, 9 * D);
          traversalMs.push(performance.now() - a);
        }
        const out = { backend: ex.backend, adapter: ex.adapter, decodeMs, decodeMean, encodeMs, breakdown, traversalMs, traversalImages: 9 * D, crossOriginIsolated: self.crossOriginIsolated };
        ex.free();
        return out;
      },
      { backend, decodeRuns: API_RUNS[backend], encodeRuns: ENCODE_RUNS[backend] },
    );
  } finally {
    await s.close();
  }
}

/**
 * Slider-to-pixels in the page: `events` real key presses (ArrowRight, then ArrowLeft) on the
 * focused first latent slider through Chromium's input pipeline, one per animation frame.
 * The page records each painted image's latency, from the input event's timestamp to just
 * after putImageData, in window.vaeStats.decodeMs.
 */
/**
 * Watches the main thread while the driver drags: frame gaps (requestAnimationFrame), and from a
 * Chromium trace every task the renderer's main thread ran, so a long one is named (script,
 * garbage collection, layout, paint …) rather than guessed at. One frame is 16.7 ms. Call the
 * returned function to stop and read them.
 */
async function watchFrames(browser, page) {
  await page.evaluate(() => {
    const w = { gaps: [], run: true };
    window.__frameWatch = w;
    let last = performance.now();
    const tick = (t) => {
      w.gaps.push(t - last);
      last = t;
      if (w.run) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const stopTrace = await traceMainThread(browser, page);
  return async () => {
    const frames = await page.evaluate(() => {
      const w = window.__frameWatch;
      w.run = false;
      return w.gaps.slice(1).sort((a, b) => a - b);
    });
    const tasks = await stopTrace();
    return { frames: frames.length, max_frame_gap_ms: frames.at(-1) ?? 0, p99_frame_gap_ms: frames[Math.floor(frames.length * 0.99)] ?? 0, ...tasks };
  };
}

async function sliderLatency(browser, server, query, events) {
  const s = await openPage(browser, server, query);
  try {
    const { page } = s;
    const before = await page.evaluate(() => window.vaeStats.decodeMs.length);
    const slider = page.getByRole('slider', { name: 'Latent dimension 1', exact: true });
    await slider.focus();
    const stopWatch = await watchFrames(browser, page);
    const start = Date.now();
    for (let k = 0; k < events; k++) {
      await page.keyboard.press(k < events / 2 ? 'ArrowRight' : 'ArrowLeft');
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    }
    // Wait for the last decode to land.
    await page.evaluate(async () => {
      const frame = () => new Promise((r) => requestAnimationFrame(r));
      let quiet = 0;
      let last = window.vaeStats.decodeMs.length;
      while (quiet < 10) {
        await frame();
        const n = window.vaeStats.decodeMs.length;
        quiet = n === last ? quiet + 1 : 0;
        last = n;
      }
    });
    const elapsed = Date.now() - start;
    const mainThread = await stopWatch();
    const r = await page.evaluate((b) => ({ backend: window.vaeStats.backend, decodeMs: window.vaeStats.decodeMs.slice(b) }), before);
    return { ...r, events, elapsed, mainThread };
  } finally {
    await s.close();
  }
}

/**
 * Dragging on the latent map: `moves` pointer moves across it, one per animation frame; the
 * page records each painted image's latency from the pointer event's timestamp.
 */
async function mapDragLatency(browser, server, query, moves) {
  const s = await openPage(browser, server, query);
  try {
    const { page } = s;
    const map = page.getByRole('application', { name: 'Latent map' });
    await map.scrollIntoViewIfNeeded();
    const box = await map.boundingBox();
    const before = await page.evaluate(() => window.vaeStats.decodeMs.length);
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    const stopWatch = await watchFrames(browser, page);
    await page.mouse.down();
    for (let k = 0; k < moves; k++) {
      const t = k / moves;
      await page.mouse.move(box.x + box.width * (0.2 + 0.6 * t), box.y + box.height * (0.5 + 0.3 * Math.sin(6 * t)));
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    }
    await page.mouse.up();
    const mainThread = await stopWatch();
    await page.waitForTimeout(1000);
    const r = await page.evaluate((b) => ({ decodeMs: window.vaeStats.decodeMs.slice(b) }), before);
    return { ...r, moves, mainThread };
  } finally {
    await s.close();
  }
}

async function adapterInfo(browser, server) {
  const s = await openPage(browser, server, '?backend=cpu');
  try {
    return await s.page.evaluate(async () => {
      if (!navigator.gpu) return { available: false, text: 'none (navigator.gpu missing)' };
      const a = await navigator.gpu.requestAdapter();
      if (!a) return { available: false, text: 'none (no adapter)' };
      const i = a.info ?? {};
      const text = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unnamed adapter';
      return { available: true, text, vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter ?? a.isFallbackAdapter ?? null };
    });
  } finally {
    await s.close();
  }
}

// ---------------------------------------------------------------- main

const fmtBytes = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);
const fmtMs = (v) => (v == null || Number.isNaN(v) ? '–' : v < 1 ? v.toFixed(2) : v < 10 ? v.toFixed(1) : v.toFixed(0));
const pct = (values) => ({ n: values.length, p50: percentile(values, 50), p95: percentile(values, 95) });

async function main() {
  const size = sizes();
  log('sizes done');
  const server = await startServer();
  const cpuBrowser = await launchBrowser({ webgpu: false });
  const gpuBrowser = await launchBrowser({ webgpu: true });
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    chromium: gpuBrowser.version(),
    sizes: size,
  };
  try {
    result.adapter = await adapterInfo(gpuBrowser, server);
    log('adapter:', result.adapter.text);

    result.first_decode = {
      cpu: await firstDecode(cpuBrowser, server, '?backend=cpu'),
      webgpu: await firstDecode(gpuBrowser, server, '?backend=webgpu'),
      auto: await firstDecode(gpuBrowser, server, '?backend=auto'),
    };
    log('first decode done');

    result.api = {};
    result.slider = {};
    for (const [name, browser, query] of [
      ['CPU', cpuBrowser, '?backend=cpu'],
      ['WebGPU', gpuBrowser, '?backend=webgpu'],
    ]) {
      const api = await apiLatency(browser, server, name);
      result.api[name] = {
        backend: api.backend,
        crossOriginIsolated: api.crossOriginIsolated,
        decode: { ...pct(api.decodeMs), mean: api.decodeMean },
        encode: pct(api.encodeMs),
        breakdown: api.breakdown,
        traversal: { ...pct(api.traversalMs), images: api.traversalImages },
      };
      const sl = await sliderLatency(browser, server, query, SLIDER_EVENTS);
      result.slider[name] = { backend: sl.backend, events: sl.events, elapsed_ms: sl.elapsed, ...pct(sl.decodeMs), main_thread: sl.mainThread };
      result.map_drag = result.map_drag ?? {};
      const md = await mapDragLatency(browser, server, query, MAP_MOVES);
      result.map_drag[name] = { moves: md.moves, ...pct(md.decodeMs), main_thread: md.mainThread };
      log(name, 'latency done');
    }
  } finally {
    await cpuBrowser.close();
    await gpuBrowser.close();
    await server.stop();
  }

  fs.mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench/measure.json'), `${JSON.stringify(result, null, 2)}\n`);

  const fd = result.first_decode;
  const a = result.api;
  const sl = result.slider;
  const rows = [
    ['CPU-only wasm (pkg/vae_explorer_cpu_bg.wasm, paints first)', `${fmtBytes(size.wasm_cpu.raw)} raw, ${fmtBytes(size.wasm_cpu.gzip)} gzip -9`],
    ['WebGPU + CPU wasm (pkg/vae_explorer_bg.wasm, streamed in after)', `${fmtBytes(size.wasm.raw)} raw, ${fmtBytes(size.wasm.gzip)} gzip -9`],
    [`model bundle (${size.model}: weights.bpk + manifest.json)`, `${fmtBytes(size.bundle.raw)} raw, ${fmtBytes(size.bundle.gzip)} gzip -9`],
    ['download before the first image, CPU-only wasm + bundle (gzip -9)', fmtBytes(size.first_image_download_gzip)],
    ['download with WebGPU, WebGPU wasm + bundle (gzip -9)', fmtBytes(size.wasm_plus_bundle_gzip)],
    [`navigation → first decoded image, ?backend=cpu (median of ${LOADS})`, `${fmtMs(fd.cpu.median_ms)} ms`],
    [`navigation → first decoded image, ?backend=webgpu (median of ${LOADS})`, `${fmtMs(fd.webgpu.median_ms)} ms (${fd.webgpu.backend})`],
    [`navigation → first decoded image, ?backend=auto (median of ${LOADS})`, `${fmtMs(fd.auto.median_ms)} ms on the CPU module; measured and chose ${fd.auto.auto?.backend ?? '?'} at ${fd.auto.decided_ms === null ? '?' : fmtMs(fd.auto.decided_ms)} ms`],
    [`decode, batch 1, API, CPU (${a.CPU.decode.n} warm calls)`, `p50 ${fmtMs(a.CPU.decode.p50)} ms, p95 ${fmtMs(a.CPU.decode.p95)} ms`],
    [`decode, batch 1, API, WebGPU (${a.WebGPU.decode.n} warm calls)`, `p50 ${fmtMs(a.WebGPU.decode.p50)} ms, p95 ${fmtMs(a.WebGPU.decode.p95)} ms`],
    [`slider → pixels in the page, CPU (${sl.CPU.events} key presses, ${sl.CPU.n} paints)`, `p50 ${fmtMs(sl.CPU.p50)} ms, p95 ${fmtMs(sl.CPU.p95)} ms`],
    [`slider → pixels in the page, WebGPU (${sl.WebGPU.events} key presses, ${sl.WebGPU.n} paints)`, `p50 ${fmtMs(sl.WebGPU.p50)} ms, p95 ${fmtMs(sl.WebGPU.p95)} ms`],
    ...['CPU', 'WebGPU'].map((b) => [
      `traversal panel, ${b}: one batch of ${a[b].traversal.images} images (${a[b].traversal.n} calls)`,
      `p50 ${fmtMs(a[b].traversal.p50)} ms, p95 ${fmtMs(a[b].traversal.p95)} ms`,
    ]),
    ...['CPU', 'WebGPU'].map((b) => [
      `latent map drag → pixels, ${b} (${result.map_drag[b].moves} pointer moves, ${result.map_drag[b].n} paints)`,
      `p50 ${fmtMs(result.map_drag[b].p50)} ms, p95 ${fmtMs(result.map_drag[b].p95)} ms`,
    ]),
    ...['CPU', 'WebGPU'].flatMap((b) => [['slider', sl[b]], ['map drag', result.map_drag[b]]].map(([what, r]) => [
      `main thread during the ${what}, ${b}: the page's longest task, CPU time (wall) · tasks over one frame by CPU (by wall) · longest frame gap`,
      `${fmtMs(r.main_thread.longest_task_cpu_ms)} ms (${fmtMs(r.main_thread.longest_task_ms)} ms) · ${r.main_thread.tasks_over_frame_cpu} (${r.main_thread.tasks_over_frame}) of ${r.main_thread.tasks} · ${fmtMs(r.main_thread.max_frame_gap_ms)} ms`,
    ])),
    [`encode, API, CPU (${a.CPU.encode.n} calls)`, `p50 ${fmtMs(a.CPU.encode.p50)} ms, p95 ${fmtMs(a.CPU.encode.p95)} ms`],
    [`encode, API, WebGPU (${a.WebGPU.encode.n} calls)`, `p50 ${fmtMs(a.WebGPU.encode.p50)} ms, p95 ${fmtMs(a.WebGPU.encode.p95)} ms`],
    ...['CPU', 'WebGPU'].map((b) => {
      const k = a[b].breakdown;
      return [
        `${b}: fixed cost of a call (upload, 1 trivial kernel, read back) · decode batch 1 · 16 · 256 (p50)`,
        `${fmtMs(k.round_trip_p50)} · ${fmtMs(k.batch1_p50)} · ${fmtMs(k.batch16_p50)} · ${fmtMs(k.batch256_p50)} ms`,
      ];
    }),
  ];
  const lines = [
    `Headless ${result.chromium} · WebGPU adapter: ${result.adapter.text}${result.adapter.isFallbackAdapter ? ' (fallback adapter)' : ''} · ${result.machine.cpus} CPU cores (${result.machine.cpu}) · ${result.date.slice(0, 10)}`,
    '',
    '| Measure | Value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `Slider → pixels runs from the key event's timestamp to just after putImageData. The page starts a decode at once when none was started since the last animation frame, otherwise on the next frame (at most one per frame).`,
    `performance.now() resolution here is ${a.CPU.crossOriginIsolated ? '5 µs (cross-origin isolated)' : '100 µs (page not cross-origin isolated)'}; CPU API decode mean: ${a.CPU.decode.mean.toFixed(3)} ms. First-decode runs use a new browser context each (cold HTTP cache, same browser process). Raw numbers: bench/measure.json.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`measure: ${err?.stack ?? err}\n`);
  process.exit(1);
});
