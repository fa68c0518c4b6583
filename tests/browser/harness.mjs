// Shared helpers for the browser tests (and scripts/measure.mjs): the dev server as a child
// process, headless Chromium with or without WebGPU, and small page helpers.

import { spawn } from 'node:child_process';
import { before, after } from 'node:test';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const BASE_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/**
 * Starts `node scripts/serve.mjs --port 0` and waits for its "Serving ... at URL" line.
 * @returns {Promise<{url: string, origin: string, port: number, stop: () => Promise<void>, stderr: () => string}>}
 */
export function startServer({ timeoutMs = 15_000 } = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'serve.mjs'), '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`serve.mjs printed no URL within ${timeoutMs} ms; stdout: ${out} stderr: ${err}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Serving vae-explorer at (http:\/\/[^\s]+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const url = m[1];
        const u = new URL(url);
        resolve({ url, origin: u.origin, port: Number(u.port), host: u.hostname, stop, stderr: () => err, child });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve.mjs exited (${code ?? signal}) before printing its URL; stderr: ${err}`));
    });
  });
}

/** Launches headless Chromium (a fresh temporary profile each time); `webgpu` adds --enable-unsafe-webgpu. */
export async function launchBrowser({ webgpu = false } = {}) {
  const args = [...BASE_ARGS];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: CHROMIUM, args, timeout: 60_000 });
}

/**
 * One browser for the enclosing describe block: launched before its tests, closed after them.
 * Returns a getter (the browser exists only once `before` has run).
 */
export function browserForSuite({ webgpu = false } = {}) {
  let browser;
  before(async () => {
    browser = await launchBrowser({ webgpu });
  }, { timeout: 180_000 });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
}

/**
 * Opens the page at `query` (e.g. "?backend=cpu") in a new context and records problems:
 * console errors, page errors, failed requests, requests to other origins.
 * `routes` is a list of [pattern, handler] passed to page.route before navigation; `init` a
 * function run in the page before any of its scripts.
 */
export async function openPage(browser, server, query = '', { routes = [], waitReady = true, readyTimeout = 90_000, viewport, hasTouch = false, colorScheme = 'light', init } = {}) {
  const context = await browser.newContext({ viewport: viewport ?? { width: 1280, height: 1000 }, hasTouch, colorScheme });
  // A script that runs in the page before its own (instrumentation or simulated faults).
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const log = { consoleErrors: [], consoleWarnings: [], pageErrors: [], failedRequests: [], foreignRequests: [], dialogs: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') log.consoleErrors.push(m.text());
    else if (m.type() === 'warning') log.consoleWarnings.push(m.text());
  });
  page.on('pageerror', (e) => log.pageErrors.push(`${e.name}: ${e.message}`));
  page.on('requestfailed', (r) => log.failedRequests.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    log.requests.push(r.url());
    if (u.protocol === 'data:' || u.protocol === 'blob:') return;
    if (u.origin !== server.origin) log.foreignRequests.push(r.url());
  });
  page.on('dialog', (d) => {
    log.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  // The manifest text the page itself received (the model files may be replaced while tests run).
  let manifestText = null;
  page.on('response', (r) => {
    if (r.url().endsWith('/manifest.json') && r.ok()) manifestText = r.text().catch(() => null);
  });
  log.manifest = async () => {
    const text = await manifestText;
    return text ? JSON.parse(text) : null;
  };
  for (const [pattern, handler] of routes) await page.route(pattern, handler);
  await page.goto(server.url + query);
  if (waitReady) await waitForReadyOrError(page, readyTimeout);
  return { page, context, log, close: () => context.close() };
}

/**
 * A route for openPage's `routes`: requests matching `pattern` get the file of the same name
 * from the directory `dir` (404 when it has none), e.g. a test bundle from tests/fixtures.
 */
export function directoryRoute(pattern, dir) {
  return [
    pattern,
    async (route) => {
      const name = path.basename(new URL(route.request().url()).pathname);
      const body = await readFile(path.join(dir, name)).catch(() => null);
      if (!body) return route.fulfill({ status: 404, body: 'not found' });
      await route.fulfill({ status: 200, body, contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    },
  ];
}

/** Waits until the page is ready (first image painted) or shows an error; returns which. */
export async function waitForReadyOrError(page, timeout = 90_000) {
  await page.waitForFunction(
    () => document.body.dataset.ready === 'true' || !document.getElementById('error').hidden,
    null,
    { timeout, polling: 50 },
  );
  return page.evaluate(() => (document.body.dataset.ready === 'true' ? 'ready' : 'error'));
}

/** Waits until the page shows its role="alert" with some text; returns the text. */
export async function waitForAlert(page, timeout = 90_000) {
  const alert = page.getByRole('alert');
  await alert.waitFor({ state: 'visible', timeout });
  await page.waitForFunction(() => document.querySelector('[role="alert"]').textContent.trim() !== '', null, { timeout });
  return (await alert.textContent()).trim();
}

/** The "Decoded image" canvas as 784 grey levels (the red channel, 0..255). */
export async function decodedPixels(page, name = 'Decoded image') {
  return page.getByRole('img', { name, exact: true }).evaluate(canvasGrey);
}

/**
 * Evaluated in the page on a canvas: the grey levels (red channel, 0..255) of the rectangle
 * `[x, y, w, h]` (the whole canvas by default), row-major. Self-contained, so that Playwright
 * and Puppeteer can both send it: `locator.evaluate(canvasGrey, rect)`.
 */
export function canvasGrey(canvas, rect = null) {
  const [x, y, w, h] = rect ?? [0, 0, canvas.width, canvas.height];
  const d = canvas.getContext('2d').getImageData(x, y, w, h).data;
  const out = new Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = d[i * 4];
  return out;
}

/** All latent sliders, shown or collapsed: [{name, value, min, max}] in dimension order (z's order). */
export async function sliders(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('#sliders input[type=range]')].sort((a, b) => Number(a.id.slice(2)) - Number(b.id.slice(2))).map((el) => ({
      name: el.labels?.[0]?.textContent ?? '',
      value: Number(el.value),
      min: Number(el.min),
      max: Number(el.max),
      step: el.step,
      disabled: el.disabled,
      id: el.id,
    })),
  );
}

export async function sliderValues(page) {
  return (await sliders(page)).map((s) => s.value);
}

/** Number of decodes painted so far. */
export function decodeCount(page) {
  return page.evaluate(() => window.vaeStats.decodes);
}

/** Waits until more than `n` images have been painted and the decode scheduler settled. */
export async function waitForDecodesAfter(page, n, timeout = 30_000) {
  await page.waitForFunction((k) => window.vaeStats.decodes > k, n, { timeout, polling: 20 });
  await settle(page);
}

/** Waits until the painted-image count stops changing for a few frames and no work is queued or running. */
export async function settle(page, quietFrames = 6, timeout = 30_000) {
  await page.waitForFunction(
    (q) =>
      new Promise((resolve) => {
        let last = window.vaeStats.decodes;
        let quiet = 0;
        const tick = () => {
          const now = window.vaeStats.decodes;
          // An encode or a decode still running would change the state after we return.
          if (now === last && !(window.vaeStats.busy?.() > 0)) quiet++;
          else {
            quiet = 0;
            last = now;
          }
          if (quiet >= q) resolve(true);
          else setTimeout(tick, 20);
        };
        tick();
      }),
    quietFrames,
    { timeout },
  );
}

/** Simple image statistics over 0..255 grey levels. */
export function pixelStats(px) {
  let min = 255;
  let max = 0;
  let sum = 0;
  for (const v of px) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / px.length;
  let sq = 0;
  for (const v of px) sq += (v - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(sq / px.length), distinct: new Set(px).size };
}

/** Sum of absolute differences between two pixel arrays. */
export function pixelDiff(a, b) {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d;
}

/** Strokes of a "1" and a "7" for drawStrokes (the same digits in every test file). */
export const ONE = [[[0.52, 0.12], [0.5, 0.5], [0.48, 0.88]]];
export const SEVEN = [[[0.25, 0.2], [0.75, 0.2], [0.42, 0.88]]];

/**
 * Draws strokes on the "Drawing pad" with the mouse. `strokes` are lists of [x, y] in [0,1]
 * of the pad's box.
 */
export async function drawStrokes(page, strokes, { steps = 6 } = {}) {
  const pad = page.getByRole('img', { name: 'Drawing pad', exact: true });
  await pad.scrollIntoViewIfNeeded();
  await strokeWithMouse(page.mouse, await pad.boundingBox(), strokes, steps);
}

/**
 * Moves `mouse` (Playwright's or Puppeteer's: the same move/down/up) along `strokes`, lists of
 * [x, y] in [0,1] of `box`.
 */
export async function strokeWithMouse(mouse, box, strokes, steps = 6) {
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  for (const stroke of strokes) {
    const [sx, sy] = at(stroke[0]);
    await mouse.move(sx, sy);
    await mouse.down();
    for (const p of stroke.slice(1)) {
      const [x, y] = at(p);
      await mouse.move(x, y, { steps });
    }
    await mouse.up();
  }
}

/** Percentile (nearest-rank on sorted copy, linear interpolation). */
export function percentile(values, p) {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const idx = (p / 100) * (s.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return s[lo] + (s[hi] - s[lo]) * (idx - lo);
}

export function median(values) {
  return percentile(values, 50);
}

// ---------------------------------------------------------------- main-thread tasks from a trace

const FRAME_MS = 1000 / 60;
// What Chromium calls one task of a thread's event loop (the name changed across versions).
const TASK_EVENTS = new Set(['RunTask', 'ThreadControllerImpl::RunTask']);

/**
 * The page's tasks on the renderer main thread in a trace: how many ran longer than one frame,
 * by the clock and by the thread's own CPU time (the difference is time the thread waited for
 * a core, with 2 cores shared by the browser, GPU and renderer processes), and what was in the
 * longest. Tasks that served the test driver (DevTools messages: Playwright's key presses and
 * queries) are counted apart: they are not the page's.
 */
function mainThreadTasks(trace) {
  const events = trace.traceEvents ?? trace;
  const main = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const isTask = (e) => e.ph === 'X' && TASK_EVENTS.has(e.name);
  const tasksOf = (m) => {
    const all = events.filter((e) => e.pid === m.pid && e.tid === m.tid && isTask(e));
    // Outermost only: a nested run loop reports tasks inside tasks.
    return all.filter((e) => !all.some((o) => o !== e && o.ts <= e.ts && o.ts + o.dur >= e.ts + e.dur && o.dur > e.dur));
  };
  // The page's renderer is the one whose main thread ran the most tasks.
  const candidates = main.map((m) => ({ m, tasks: tasksOf(m) })).sort((a, b) => b.tasks.length - a.tasks.length);
  if (!candidates.length) return { tasks: 0, tasks_over_frame: 0, tasks_over_frame_cpu: 0, longest_task_ms: 0, longest_task_cpu_ms: 0, long_tasks: [] };
  const { m, tasks: all } = candidates[0];
  const thread = events.filter((e) => e.pid === m.pid && e.tid === m.tid && e.ph === 'X' && !TASK_EVENTS.has(e.name));
  const within = (t, e) => e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur;
  const devtools = (t) => thread.some((e) => within(t, e) && e.name === 'Receive mojo message' && /DevTools/.test(e.args?.chrome_mojo_event_info?.mojo_interface_tag ?? ''));
  const driver = all.filter(devtools);
  const tasks = all.filter((t) => !driver.includes(t));
  const ms = (us) => Math.round((us ?? 0) / 100) / 10;
  const describe = (t) => {
    const inside = thread.filter((e) => within(t, e) && e.dur >= 1000);
    // The outermost named pieces of the task, biggest first.
    const top = inside.filter((e) => !inside.some((o) => o !== e && o.ts <= e.ts && o.ts + o.dur >= e.ts + e.dur && o.dur > e.dur));
    const what = top.sort((a, b) => b.dur - a.dur).slice(0, 3).map((e) => {
      const d = e.args?.data ?? {};
      const where = d.url ? ` ${d.url.split('/').pop()}${d.functionName ? `:${d.functionName}` : ''}` : d.type ? ` ${d.type}` : '';
      return `${e.name}${where} ${ms(e.dur)} ms`;
    });
    return { ms: ms(t.dur), cpu_ms: ms(cpuUs(t)), in_it: what.join(', ') || 'nothing traced over 1 ms' };
  };
  const frameUs = FRAME_MS * 1000;
  // A thread cannot use more CPU than the time that passed. On a loaded machine the trace's
  // thread clock has given a task shorter than a frame by the clock a CPU time of 100 ms (the
  // burst test failed with no long task in the trace); CPU time is capped at the wall time.
  const cpuUs = (t) => Math.min(t.tdur ?? t.dur, t.dur);
  const byWall = [...tasks].sort((a, b) => b.dur - a.dur);
  return {
    tasks: tasks.length,
    tasks_over_frame: tasks.filter((t) => t.dur > frameUs).length,
    tasks_over_frame_cpu: tasks.filter((t) => cpuUs(t) > frameUs).length,
    longest_task_ms: ms(byWall[0]?.dur),
    longest_task_cpu_ms: ms(Math.max(0, ...tasks.map(cpuUs))),
    long_tasks: byWall.filter((t) => t.dur > frameUs).slice(0, 5).map(describe),
    driver_tasks: driver.length,
  };
}

/**
 * Starts a Chromium trace of `page` (task boundaries with their CPU time, and what ran inside);
 * the returned function stops it and gives `mainThreadTasks` of the trace.
 */
export async function traceMainThread(browser, page) {
  await browser.startTracing(page, { categories: ['toplevel', 'devtools.timeline'] });
  return async () => mainThreadTasks(JSON.parse((await browser.stopTracing()).toString('utf8')));
}
