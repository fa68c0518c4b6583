// vae-explorer page: loads the wasm model, wires the sliders, the drawing pad and
// the decoder view. The wasm API is src/web.rs; the README's Layout section lists the rest.

import { DecodeScheduler, LatestScheduler, median, pushBounded } from './decode-scheduler.js';
import { DrawingPad, mnistPreprocess, paintField, FIELD } from './draw.js';
import { LatentMap, CLASS_COLOURS } from './latent-map.js';
import { Traversals, STEPS } from './traversals.js';
import { ImageGrid } from './image-grid.js';
import * as lm from './latent-math.js';
import { measureBackend, chooseBackend } from './backend-choice.js';

const PIXELS = FIELD * FIELD;
const STATS_LIMIT = 2000;

/** Measurements read by scripts/measure.mjs and the browser tests; busy() counts queued or running work. */
const stats = { decodeMs: [], encodeMs: [], traversalMs: [], gridMs: {}, backend: '', decodes: 0 };
window.vaeStats = stats;

const $ = (id) => document.getElementById(id);
const els = {
  modelInfo: $('model-info'),
  modelField: $('model-field'),
  modelSelect: $('model-select'),
  backendSelect: $('backend-select'),
  statusMain: $('status-main'),
  statusReason: $('status-reason'),
  notice: $('notice'),
  noticeTitle: $('notice-title'),
  noticeText: $('notice-text'),
  error: $('error'),
  pad: $('pad'),
  clear: $('clear'),
  samplePosterior: $('sample-posterior'),
  encoderInput: $('encoder-input'),
  decoded: $('decoded'),
  samplePrior: $('sample-prior'),
  zero: $('zero'),
  zReadout: $('z-readout'),
  sliders: $('sliders'),
  latentMap: $('latent-map'),
  traversals: $('traversals'),
  orderSelect: $('order-select'),
  anchors: ['a', 'b', 'c', 'd'].map((k) => ({ canvas: $(`anchor-${k}`), button: $(`set-${k}`) })),
  slerp: $('slerp'),
  play: $('play'),
  arithmetic: $('arithmetic'),
  temperature: $('temperature'),
  temperatureValue: $('temperature-value'),
  newSamples: $('new-samples'),
  attributeClass: $('attribute-class'),
  attributeStrength: $('attribute-strength'),
  attributeValue: $('attribute-value'),
  latencyBackend: $('latency-backend'),
  latencyBody: document.querySelector('#latency-table tbody'),
  mapLegend: $('map-legend'),
  mapCaption: $('map-caption'),
};

// ---------------------------------------------------------------- URL parameters

const BACKENDS = ['auto', 'webgpu', 'cpu'];
const BACKEND_LABEL = { auto: 'Auto', webgpu: 'WebGPU', cpu: 'CPU' };
const params = new URLSearchParams(location.search);
const backendParam = (params.get('backend') ?? 'auto').trim().toLowerCase();
const requestedBackend = BACKENDS.includes(backendParam) ? backendParam : 'auto';
const requestedModel = params.get('model');

els.backendSelect.value = requestedBackend;
els.backendSelect.addEventListener('change', () => {
  reloadWith('backend', els.backendSelect.value);
});
els.modelSelect.addEventListener('change', () => {
  switchModel(els.modelSelect.value);
});

function reloadWith(key, value) {
  const url = new URL(location.href);
  url.searchParams.set(key, value);
  location.assign(url.href);
}

// ---------------------------------------------------------------- messages

let errorSource = null;

/** Show an error in words in the role="alert" element; the page stays usable. */
function showError(message, source = 'load') {
  errorSource = source;
  els.error.textContent = message;
  els.error.hidden = false;
}

function clearError(source) {
  if (source && errorSource !== source) return;
  errorSource = null;
  els.error.textContent = '';
  els.error.hidden = true;
}

function showNotice(title, text) {
  els.noticeTitle.textContent = title;
  els.noticeText.textContent = text;
  els.notice.hidden = false;
}

function hideNotice() {
  els.notice.hidden = true;
}

function errorText(err) {
  if (err == null) return 'unknown error';
  if (typeof err === 'string') return err;
  const m = err.message ?? String(err);
  return m.replace(/\s+$/, '');
}

function sentence(text) {
  const t = String(text).trim();
  return t === '' || /[.!?]$/.test(t) ? t : `${t}.`;
}

if (backendParam !== requestedBackend) {
  showError(`Unknown backend “${backendParam}” in the address; using Auto. Choose WebGPU, CPU or Auto from the Backend menu.`, 'url');
}

// Anything not caught where it happened still reaches the user in words, not only the console.
window.addEventListener('error', (e) => showError(`Something went wrong: ${sentence(errorText(e.error ?? e.message))}`, 'page'));
window.addEventListener('unhandledrejection', (e) => showError(`Something went wrong: ${sentence(errorText(e.reason))}`, 'page'));

// ---------------------------------------------------------------- status line

let explorer = null;
let statusTimer = 0;
let lastStatusAt = 0;

function fmtMs(ms) {
  return ms < 10 ? ms.toFixed(1) : ms < 100 ? ms.toFixed(0) : Math.round(ms).toString();
}

function renderStatus() {
  statusTimer = 0;
  lastStatusAt = performance.now();
  if (!explorer) return;
  const d = stats.decodeMs;
  let text = `Backend: ${stats.backend}`;
  if (d.length) {
    text += ` — decode ${fmtMs(d[d.length - 1])} ms`;
    if (d.length > 1) text += ` (median ${fmtMs(median(d))} ms over ${d.length})`;
  } else {
    text += ' — decoding…';
  }
  els.statusMain.textContent = text;
  renderLatency();
}

/** Status updates are throttled (the status is a live region) but the last value always lands. */
function scheduleStatus() {
  if (statusTimer) return;
  const wait = Math.max(0, 150 - (performance.now() - lastStatusAt));
  statusTimer = setTimeout(renderStatus, wait);
}

// ---------------------------------------------------------------- latent state

let manifest = null;
let latentDim = 0;
/** Current latent vector. */
let z = new Float32Array(0);
/** Slider ranges, per dimension. */
let ranges = [];
/** Posterior of the current drawing: {mu: number[], sigma: number[]} or null. */
let posterior = null;
/** Slider row elements, per dimension. */
let rows = [];
let zCells = [];

const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);

function fmtSigned(v, digits = 2) {
  const s = Math.abs(v).toFixed(digits);
  if (Number(s) === 0) return ` ${(0).toFixed(digits)}`;
  return (v < 0 ? '−' : '+') + s;
}

function fmtPlain(v, digits = 2) {
  const s = Math.abs(v).toFixed(digits);
  return (v < 0 && Number(s) !== 0 ? '−' : '') + s;
}

function buildSliders() {
  els.sliders.replaceChildren();
  rows = [];
  for (let i = 0; i < latentDim; i++) {
    const info = manifest.latent?.[i] ?? {};
    let lo = Number(info.slider_min);
    let hi = Number(info.slider_max);
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
      lo = -3;
      hi = 3;
    }
    // Round outwards to the 0.01 step so that the step grid contains 0 and round values.
    lo = Math.floor(lo * 100 + 1e-9) / 100;
    hi = Math.ceil(hi * 100 - 1e-9) / 100;
    ranges.push([lo, hi]);
    const active = info.active !== false;
    const n = i + 1;
    const id = `z-${n}`;

    const row = document.createElement('div');
    row.className = active ? 'slider-row' : 'slider-row inactive';

    const label = document.createElement('label');
    label.htmlFor = id;
    label.className = 'slider-label';
    label.textContent = `Latent dimension ${n}`;

    const track = document.createElement('div');
    track.className = 'slider-track';

    const input = document.createElement('input');
    input.type = 'range';
    input.id = id;
    input.min = String(lo);
    input.max = String(hi);
    input.step = '0.01';
    input.value = String(clamp(0, lo, hi));
    input.disabled = true;

    const band = document.createElement('div');
    band.className = 'posterior';
    band.setAttribute('aria-hidden', 'true');
    band.hidden = true;
    const bar = document.createElement('span');
    bar.className = 'posterior-band';
    const muTick = document.createElement('span');
    muTick.className = 'posterior-mu';
    band.append(bar, muTick);

    const zeroTick = document.createElement('span');
    zeroTick.className = 'zero-tick';
    zeroTick.setAttribute('aria-hidden', 'true');
    if (lo < 0 && hi > 0) zeroTick.style.left = `${(100 * (0 - lo)) / (hi - lo)}%`;
    else zeroTick.hidden = true;

    const rail = document.createElement('div');
    rail.className = 'slider-rail';
    rail.append(zeroTick, band);
    track.append(rail, input);

    const output = document.createElement('output');
    output.htmlFor = id;
    output.className = 'slider-value';
    // Not a live region: the range input already exposes its value, and 16 "status"
    // elements would drown the real status line.
    output.setAttribute('role', 'none');
    output.textContent = fmtSigned(Number(input.value));

    const post = document.createElement('span');
    post.className = 'slider-posterior';
    post.id = `${id}-posterior`;

    const described = [post.id];
    const name = document.createElement('span');
    name.className = 'slider-name';
    name.append(label);
    if (!active) {
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.id = `${id}-inactive`;
      const kl = Number(info.kl_nats);
      tag.textContent = 'inactive';
      tag.title = `KL ${Number.isFinite(kl) ? kl.toFixed(2) : '≈ 0'} nats on the test set: the decoder ignores this dimension`;
      name.append(' ', tag);
      described.push(tag.id);
    }
    input.setAttribute('aria-describedby', described.join(' '));

    input.addEventListener('input', (e) => {
      resetAttribute();
      z[i] = Number(input.value);
      output.textContent = fmtSigned(z[i]);
      updateZReadout(i);
      requestDecode(eventTime(e));
    });

    row.append(name, post, output, track);
    els.sliders.append(row);
    rows.push({ row, input, output, band, bar, muTick, post, lo, hi });
  }
}

function buildZReadout() {
  els.zReadout.replaceChildren();
  zCells = [];
  for (let i = 0; i < latentDim; i++) {
    const cell = document.createElement('span');
    cell.className = manifest.latent?.[i]?.active === false ? 'z-cell inactive' : 'z-cell';
    const idx = document.createElement('span');
    idx.className = 'z-index';
    idx.textContent = `${i + 1}`;
    const val = document.createElement('span');
    val.className = 'z-value';
    cell.append(idx, val);
    els.zReadout.append(cell);
    zCells.push(val);
  }
  updateZReadout();
}

function updateZReadout(only = -1) {
  if (only >= 0) {
    zCells[only].textContent = fmtSigned(z[only]);
    return;
  }
  for (let i = 0; i < latentDim; i++) zCells[i].textContent = fmtSigned(z[i]);
}

/** Move the sliders to z (after a programmatic change). */
function syncSliders() {
  if (!attributeMoving) resetAttribute();
  for (let i = 0; i < latentDim; i++) {
    const r = rows[i];
    r.input.value = String(clamp(z[i], r.lo, r.hi));
    r.output.textContent = fmtSigned(z[i]);
  }
  updateZReadout();
}

function showPosterior() {
  for (let i = 0; i < latentDim; i++) {
    const r = rows[i];
    if (!posterior) {
      r.band.hidden = true;
      r.post.textContent = '';
      continue;
    }
    const mu = posterior.mu[i];
    const s = posterior.sigma[i];
    const span = r.hi - r.lo;
    const pct = (v) => (100 * (clamp(v, r.lo, r.hi) - r.lo)) / span;
    const a = pct(mu - s);
    const b = pct(mu + s);
    r.bar.style.left = `${a}%`;
    r.bar.style.width = `${Math.max(0, b - a)}%`;
    r.muTick.style.left = `${pct(mu)}%`;
    r.band.hidden = false;
    r.post.textContent = `μ ${fmtPlain(mu)} ± ${s.toFixed(2)}`;
  }
}

function setControlsEnabled(on) {
  for (const r of rows) r.input.disabled = !on;
  for (const a of els.anchors) a.button.disabled = !on;
  for (const el of [els.play, els.arithmetic, els.temperature, els.newSamples, els.attributeClass, els.attributeStrength]) el.disabled = !on;
  els.samplePrior.disabled = !on;
  els.zero.disabled = !on;
  els.samplePosterior.disabled = !on || !posterior;
}

/** Time of the event that caused a change, on the performance.now() clock. */
function eventTime(e) {
  const now = performance.now();
  const t = e?.timeStamp;
  return typeof t === 'number' && t > 0 && t <= now && now - t < 10_000 ? t : now;
}

// ---------------------------------------------------------------- decoding

let firstPainted = false;
let firstImagePainted;
const firstImage = new Promise((resolve) => { firstImagePainted = resolve; });

const decoder = new DecodeScheduler({
  run: (zv) => explorer.decode(zv),
  apply: (pixels) => {
    if (!pixels || pixels.length !== PIXELS) {
      throw new Error(`the decoder returned ${pixels?.length ?? 'no'} values instead of ${PIXELS}`);
    }
    paintField(els.decoded, pixels);
    clearError('decode');
  },
  // Runs synchronously right after apply(), i.e. after the pixels are painted.
  onLatency: (ms) => {
    pushBounded(stats.decodeMs, ms, STATS_LIMIT);
    stats.decodes++;
    // The strips follow the main image, so they never delay it.
    traversalUpdate(Float32Array.from(z));
    if (!firstPainted) {
      firstPainted = true;
      renderStatus();
      performance.mark('first-decode');
      firstImagePainted();
      document.body.dataset.ready = 'true';
    } else {
      scheduleStatus();
    }
  },
  onError: (err) => {
    console.error(err);
    if (switchToCpu(err)) return;
    showError(`Decoding failed: ${sentence(errorText(err))}`, 'decode');
  },
});

/** What is needed to start the same model again on another backend. */
let loaded = null;
let switching = false;

/**
 * A WebGPU call failed after start-up (device lost, driver reset, ...): start the same model
 * on the CPU backend, keep z and the drawing, and tell the user. Returns false when there is
 * nothing to switch to (already on the CPU).
 */
function switchToCpu(err) {
  if (!explorer || !loaded || String(explorer.backend) !== 'WebGPU') return false;
  gpuLost = true;
  if (switching) return true;
  switching = true;
  const why = sentence(errorText(err));
  loaded.Explorer.create(loaded.manifestText, loaded.weights, 'cpu').then(
    (cpu) => {
      explorer = cpu;
      stats.backend = 'CPU';
      document.body.dataset.backend = 'CPU';
      els.statusReason.textContent = `WebGPU stopped working (${why.replace(/\.$/, '')}); switched to the CPU.`;
      showNotice('WebGPU stopped working.', `${why[0].toUpperCase()}${why.slice(1)} Decoding continues on the CPU backend; your z and drawing are kept.`);
      renderStatus();
      requestDecode(performance.now());
      if (!pad.isEmpty) encoder.submit(null, performance.now());
    },
    (cpuErr) => showError(`Decoding failed on WebGPU (${why}) and the CPU backend could not start: ${sentence(errorText(cpuErr))}`, 'decode'),
  ).finally(() => { switching = false; });
  return true;
}

// burn creates its WebGPU device inside the wasm. Watching requestDevice from here lets the page
// hear of a lost device (driver reset, GPU removed, destroy()) at once instead of on the next read.
let gpuLost = false;
if (globalThis.GPUAdapter?.prototype?.requestDevice) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function watchedRequestDevice(...args) {
    const device = await requestDevice.apply(this, args);
    device.lost?.then((info) => {
      gpuLost = true;
      const why = info?.message || info?.reason || 'no reason given';
      switchToCpu(new Error(`the WebGPU device was lost (${String(why).replace(/\.$/, '')})`));
    });
    return device;
  };
}

function requestDecode(t0 = performance.now()) {
  if (!explorer) return;
  latentMap.setZ(z);
  decoder.submit(Float32Array.from(z), t0);
  scheduleUrl();
}

// ---------------------------------------------------------------- traversals

const traversals = new Traversals(els.traversals, {
  onPick: (dim, value, t) => {
    z[dim] = value;
    syncSliders();
    requestDecode(eventTime({ timeStamp: t }));
  },
});

/** Waits while the main image or the drawing's encoding has work queued or running. */
async function mainIdle() {
  const main = [decoder, encoder];
  while (main.some((s) => s.inFlight > 0 || s.hasPending)) await Promise.all(main.map((s) => s.idle()));
}

/**
 * Side-panel batches go in chunks, each started only when the main image and the encoder are
 * idle: they share one device (and, on the CPU backend, the main thread), so this bounds how
 * long the main image can wait behind them to one chunk. On the CPU a chunk is ~3 ms and the
 * page yields between chunks; on WebGPU chunks are larger, since GPUs want big batches.
 */
async function decodeInChunks(ex, zs, n) {
  const cpu = String(ex.backend) === 'CPU';
  const chunk = cpu ? 48 : 64;
  // Fixed at the start: a model switch between chunks changes the page's latentDim, not this batch's.
  const dim = zs.length / n;
  const out = new Float32Array(n * PIXELS);
  for (let start = 0; start < n; start += chunk) {
    await mainIdle();
    const m = Math.min(chunk, n - start);
    out.set(await ex.decodeBatch(zs.subarray(start * dim, (start + m) * dim), m), start * PIXELS);
    if (cpu) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return out;
}

const traversalDecoder = new LatestScheduler({
  maxInFlight: 1,
  run: async (job) => {
    if (job.ex !== explorer) return null; // queued for the model before a switch
    const { ex, dim, value: zv } = job;
    return { ex, zv, pixels: await decodeInChunks(ex, traversals.batchFor(zv), dim * STEPS) };
  },
  apply: (res) => {
    if (!res || res.ex !== explorer) return false; // from the model before a switch
    const { zv, pixels } = res;
    if (pixels?.length !== latentDim * STEPS * PIXELS) {
      throw new Error(`the decoder returned ${pixels?.length ?? 'no'} values for ${latentDim * STEPS} traversal images`);
    }
    traversals.paint(zv, pixels);
    clearError('traversals');
  },
  onLatency: (ms) => {
    pushBounded(stats.traversalMs, ms, STATS_LIMIT);
    scheduleStatus();
  },
  onError: (err) => {
    console.error(err);
    if (switchToCpu(err)) return;
    showError(`Decoding the traversals failed: ${sentence(errorText(err))}`, 'traversals');
  },
});

/**
 * Batches for the side panels go to the same device as the main image. Where a batch is quick
 * (any real GPU, the CPU backend) they follow z live; where one takes longer than a frame or
 * so (a software GPU adapter: seconds for the 288 traversal images) they wait until z has
 * rested for a moment, so the main image is never stuck behind them.
 */
const SLOW_BATCH_MS = 50;
const REST_MS = 300;
function deferWhenSlow(submit, latencies) {
  let timer = 0;
  return (value) => {
    clearTimeout(timer);
    // A job names the model it was made for: after a switch it is dropped, never decoded by
    // a model with another latent size.
    const job = { ex: explorer, dim: latentDim, value };
    const last = latencies[latencies.length - 1] ?? 0;
    if (last <= SLOW_BATCH_MS) submit(job);
    else timer = setTimeout(() => job.ex === explorer && submit(job), REST_MS);
  };
}
const traversalUpdate = deferWhenSlow((v) => traversalDecoder.submit(v), stats.traversalMs);

/** Dimension order for the sliders and the strips: by number, or by KL (largest first). */
function applyOrder() {
  const byKl = els.orderSelect.value === 'kl';
  const kl = (i) => Number(manifest.latent?.[i]?.kl_nats) || 0;
  const order = [...Array(latentDim).keys()];
  if (byKl) order.sort((a, b) => kl(b) - kl(a) || a - b);
  for (const i of order) els.sliders.append(rows[i].row);
  traversals.setOrder(order);
}
els.orderSelect.addEventListener('change', () => {
  applyOrder();
  scheduleUrl();
});

// ---------------------------------------------------------------- image grids

/** In-flight counts of every scheduler: a replaced model is freed once they are all 0. */
const busy = [() => decoder.inFlight, () => encoder.inFlight, () => traversalDecoder.inFlight, () => (auto.state === 'measuring' ? 1 : 0)];
/** Work queued or running anywhere (tests wait for 0 before comparing state). */
stats.busy = () => busy.reduce((n, count) => n + count(), 0) + [decoder, encoder].filter((s) => s.hasPending).length;

const POSTERIOR_SAMPLES = 9;

/** Moves z to a picked latent vector (from a grid or a strip) and decodes it. */
function jumpTo(v, t) {
  z.set(v);
  syncSliders();
  requestDecode(eventTime({ timeStamp: t }));
}

/** A grid decoded in one batch per update (latest wins); picking a cell jumps to its z. */
function gridPanel(grid, name) {
  let shown = null;
  stats.gridMs[name] = [];
  const scheduler = new LatestScheduler({
    maxInFlight: 1,
    run: async (job) => {
      if (job.ex !== explorer) return null; // queued for the model before a switch
      const { ex, dim, value: batch } = job;
      return { ex, batch, pixels: await decodeInChunks(ex, batch, batch.length / dim) };
    },
    apply: (res) => {
      if (!res || res.ex !== explorer) return false; // from the model before a switch
      const { batch, pixels } = res;
      if (pixels?.length !== (batch.length / latentDim) * PIXELS) throw new Error(`the decoder returned ${pixels?.length ?? 'no'} values`);
      shown = batch;
      grid.paint(pixels);
      clearError(name);
    },
    onLatency: (ms) => {
      pushBounded(stats.gridMs[name], ms, STATS_LIMIT);
      scheduleStatus();
    },
    onError: (err) => {
      console.error(err);
      if (switchToCpu(err)) return;
      showError(`Decoding the ${name} failed: ${sentence(errorText(err))}`, name);
    },
  });
  grid.onPick = (k, t) => shown && jumpTo(shown.subarray(k * latentDim, (k + 1) * latentDim), t);
  const update = deferWhenSlow((job) => job.ex && scheduler.submit(job), stats.gridMs[name]);
  busy.push(() => scheduler.inFlight);
  return { update };
}

const STRIP = 9;
const PALETTE = 7;
const interpGrid = new ImageGrid($('interp-strip'), { cols: STRIP, rows: 1, label: 'Interpolation from A to B' });
const paletteGrid = new ImageGrid($('palette'), { cols: PALETTE, rows: PALETTE, label: 'Palette blending anchors A (top left), B (top right), C (bottom left) and D (bottom right)' });
const priorGrid = new ImageGrid($('prior-grid'), { cols: 8, rows: 4, label: 'Prior samples' });
const posteriorGrid = new ImageGrid($('posterior-grid'), { cols: POSTERIOR_SAMPLES, rows: 1, label: 'Posterior samples' });
const interpPanel = gridPanel(interpGrid, 'interpolation');
const palettePanel = gridPanel(paletteGrid, 'palette');
const priorPanel = gridPanel(priorGrid, 'prior samples');
const posteriorPanel = gridPanel(posteriorGrid, 'posterior samples');
const anchorPanels = els.anchors.map((a, k) => {
  const grid = new ImageGrid(a.canvas, { cols: 1, rows: 1, label: `Anchor ${'ABCD'[k]}` });
  return gridPanel(grid, `anchor ${'ABCD'[k]}`);
});

/** Anchors A–D: latent vectors the interpolation strip and the palette blend. */
let anchors = [];
const interpolate = (a, b, t) => (els.slerp.checked ? lm.slerp(a, b, t) : lm.lerp(a, b, t));

function concat(vectors) {
  const out = new Float32Array(vectors.length * latentDim);
  vectors.forEach((v, k) => out.set(v, k * latentDim));
  return out;
}

function updateInterpolation() {
  if (anchors.length !== 4) return;
  const [a, b, c, d] = anchors;
  interpPanel.update(concat(Array.from({ length: STRIP }, (_, k) => interpolate(a, b, k / (STRIP - 1)))));
  const cells = [];
  for (let r = 0; r < PALETTE; r++) for (let q = 0; q < PALETTE; q++) cells.push(lm.bilinear(a, b, c, d, q / (PALETTE - 1), r / (PALETTE - 1)));
  palettePanel.update(concat(cells));
  anchors.forEach((v, k) => anchorPanels[k].update(Float32Array.from(v)));
  scheduleUrl();
}

/** Default anchors: the mean encodings of four digit classes (or prior samples). */
function defaultAnchors() {
  const classes = manifest.map?.classes ?? [];
  const pick = [0, 1, 7, 8].map((l) => classes.find((c) => c.label === l)).filter(Boolean);
  if (pick.length === 4) return pick.map((c) => Float32Array.from(c.mean));
  return [0, 1, 2, 3].map(() => Float32Array.from({ length: latentDim }, () => lm.randn()));
}

els.anchors.forEach((a, k) => {
  a.button.addEventListener('click', () => {
    anchors[k] = Float32Array.from(z);
    updateInterpolation();
  });
});
els.slerp.addEventListener('change', updateInterpolation);
els.arithmetic.addEventListener('click', (e) => {
  const [a, b, c] = anchors;
  jumpTo(lm.arithmetic(a, b, c), e.timeStamp);
});

// Play: z walks A → B → A along the strip's path (4 s a round trip) until pressed again.
let playing = 0;
els.play.addEventListener('click', () => {
  if (playing) {
    cancelAnimationFrame(playing);
    playing = 0;
    els.play.setAttribute('aria-pressed', 'false');
    return;
  }
  const start = performance.now();
  els.play.setAttribute('aria-pressed', 'true');
  const step = (now) => {
    const phase = ((now - start) / 4000) % 1;
    const t = phase < 0.5 ? 2 * phase : 2 - 2 * phase;
    z.set(interpolate(anchors[0], anchors[1], t));
    syncSliders();
    requestDecode(now);
    playing = requestAnimationFrame(step);
  };
  playing = requestAnimationFrame(step);
});

function newPriorSamples() {
  const t = Number(els.temperature.value) || 1;
  priorPanel.update(lm.priorSamples(32, latentDim, t));
}
els.newSamples.addEventListener('click', newPriorSamples);
els.temperature.addEventListener('input', () => {
  els.temperatureValue.textContent = Number(els.temperature.value).toFixed(2);
  newPriorSamples();
  scheduleUrl();
});

// ---------------------------------------------------------------- attribute vectors

let directions = new Map();
let attributeBase = null;
let attributeMoving = false;

function resetAttribute() {
  attributeBase = null;
  if (Number(els.attributeStrength.value) !== 0) {
    els.attributeStrength.value = '0';
    els.attributeValue.textContent = '0.00';
  }
}

function setupAttributes() {
  directions = manifest.map?.classes?.length ? lm.classDirections(manifest.map.classes) : new Map();
  els.attributeClass.replaceChildren();
  for (const label of directions.keys()) {
    const opt = document.createElement('option');
    opt.value = String(label);
    opt.textContent = `towards a ${label}`;
    els.attributeClass.append(opt);
  }
  if (directions.has(7)) els.attributeClass.value = '7';
  resetAttribute();
}

els.attributeClass.addEventListener('change', resetAttribute);
els.attributeStrength.addEventListener('input', (e) => {
  const dir = directions.get(Number(els.attributeClass.value));
  if (!dir) return;
  if (!attributeBase) attributeBase = Float32Array.from(z);
  const s = Number(els.attributeStrength.value);
  els.attributeValue.textContent = fmtSigned(s);
  for (let i = 0; i < latentDim; i++) z[i] = attributeBase[i] + s * dir[i];
  attributeMoving = true;
  syncSliders();
  attributeMoving = false;
  requestDecode(eventTime(e));
});

// ---------------------------------------------------------------- shareable state

/** The view lives in the address: model, z, anchors, order, interpolation, temperature. */
let urlTimer = 0;
function scheduleUrl() {
  if (urlTimer || !manifest || !latentDim) return;
  urlTimer = setTimeout(() => {
    urlTimer = 0;
    const p = new URLSearchParams(location.search);
    p.set('model', currentEntry?.name ?? manifest.name);
    p.set('z', lm.encodeZ(z));
    anchors.forEach((v, k) => p.set('abcd'[k], lm.encodeZ(v)));
    p.set('order', els.orderSelect.value);
    p.set('interp', els.slerp.checked ? 'slerp' : 'linear');
    p.set('t', els.temperature.value);
    history.replaceState(null, '', `${location.pathname}?${p}`);
  }, 250);
}

/** Restores what the address says (after the model is loaded); bad values are reported and ignored. */
function restoreFromUrl() {
  const bad = [];
  const zText = params.get('z');
  if (zText !== null) {
    const v = lm.decodeZ(zText, latentDim);
    if (v) z.set(v);
    else bad.push(`z (expected ${latentDim} numbers)`);
  }
  anchors = defaultAnchors();
  ['a', 'b', 'c', 'd'].forEach((k, i) => {
    const text = params.get(k);
    if (text === null) return;
    const v = lm.decodeZ(text, latentDim);
    if (v) anchors[i] = v;
    else bad.push(`anchor ${k.toUpperCase()}`);
  });
  const order = params.get('order');
  if (order === 'kl' || order === 'index') els.orderSelect.value = order;
  els.slerp.checked = params.get('interp') === 'slerp';
  const t = Number(params.get('t'));
  if (params.has('t') && t >= 0.1 && t <= 2) els.temperature.value = String(t);
  els.temperatureValue.textContent = Number(els.temperature.value).toFixed(2);
  if (bad.length) showError(`The address has values that do not fit this model (${bad.join(', ')}); they were ignored.`, 'url');
}

// ---------------------------------------------------------------- latency display

const OPS = [
  ['image', () => stats.decodeMs],
  ['traversals', () => stats.traversalMs],
  ['encode', () => stats.encodeMs],
  ...['interpolation', 'palette', 'prior samples', 'posterior samples'].map((n) => [n, () => stats.gridMs[n] ?? []]),
];

function percentile(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function renderLatency() {
  els.latencyBackend.textContent = stats.backend ? `· ${stats.backend}` : '';
  const rowsHtml = [];
  for (const [name, get] of OPS) {
    const v = get().slice(-200);
    if (!v.length) continue;
    const tr = document.createElement('tr');
    for (const text of [name, fmtMs(percentile(v, 50)), fmtMs(percentile(v, 95)), String(get().length)]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    rowsHtml.push(tr);
  }
  els.latencyBody.replaceChildren(...rowsHtml);
}

// ---------------------------------------------------------------- latent map

const latentMap = new LatentMap(els.latentMap, {
  onPick: (next, t) => {
    z.set(next);
    syncSliders();
    requestDecode(eventTime({ timeStamp: t }));
  },
});

/** Legend and caption for the model's map (built by `vae map` into the manifest). */
function setupMap() {
  const map = manifest.map;
  latentMap.setModel(map, latentDim, ranges);
  els.mapLegend.replaceChildren();
  if (!map) {
    els.mapCaption.textContent = 'This model bundle has no latent map (run “vae map” on it to add one).';
    return;
  }
  for (const c of map.classes ?? []) {
    const li = document.createElement('li');
    li.style.setProperty('--swatch', CLASS_COLOURS[c.label % CLASS_COLOURS.length]);
    li.textContent = String(c.label);
    els.mapLegend.append(li);
  }
  const pct = (v) => `${Math.round(100 * v)} %`;
  const plane = {
    latent: 'The plane is the whole 2-D latent space: every point decodes to an image.',
    pca: `The plane passes through the mean encoding along the two directions in which the encodings vary most (principal components: ${pct(map.explained[0])} and ${pct(map.explained[1])} of their variance). Moving on it changes z only within the plane.`,
    dims: `The plane shows two chosen latent dimensions (${map.axes.map((a) => a.indexOf(Math.max(...a)) + 1).join(' and ')}); moving on it changes only those.`,
  }[map.projection] ?? '';
  els.mapCaption.textContent = `Each dot is the encoding μ of one of ${map.points.length.toLocaleString('en')} test images, coloured by its digit. ${plane} The red cross is the current z; after a drawing, the blue ellipse is its posterior μ ± σ.`;
}

// ---------------------------------------------------------------- drawing and encoding

let drawEpoch = 0; // bumped by Clear: results of encodes started before are dropped

const encoder = new LatestScheduler({
  maxInFlight: 1,
  run: async () => {
    const epoch = drawEpoch;
    if (pad.isEmpty) return null;
    const ink = pad.ink();
    const pixels = mnistPreprocess(ink.data, ink.width, ink.height, ink);
    if (!pixels) return null; // no ink: nothing to encode
    paintField(els.encoderInput, pixels);
    const r = await explorer.encode(pixels);
    return { r, epoch };
  },
  apply: (res) => {
    if (!res || res.epoch !== drawEpoch) return false;
    const get = (k) => (res.r instanceof Map ? res.r.get(k) : res.r?.[k]);
    const mu = Array.from(get('mu') ?? []);
    const logVar = Array.from(get('logVar') ?? get('log_var') ?? []);
    if (mu.length !== latentDim || logVar.length !== latentDim) {
      throw new Error(`the encoder returned ${mu.length} means and ${logVar.length} log-variances for ${latentDim} dimensions`);
    }
    posterior = { mu, sigma: logVar.map((lv) => Math.exp(0.5 * lv)) };
    latentMap.setPosterior(posterior);
    posteriorPanel.update(lm.posteriorSamples(POSTERIOR_SAMPLES, posterior.mu, posterior.sigma));
    for (let i = 0; i < latentDim; i++) z[i] = mu[i];
    syncSliders();
    showPosterior();
    els.samplePosterior.disabled = false;
    clearError('encode');
    requestDecode(performance.now());
    return true;
  },
  onLatency: (ms) => {
    pushBounded(stats.encodeMs, ms, STATS_LIMIT);
    scheduleStatus();
  },
  onError: (err) => {
    console.error(err);
    if (switchToCpu(err)) return;
    showError(`Encoding the drawing failed: ${sentence(errorText(err))}`, 'encode');
  },
});

const pad = new DrawingPad(els.pad, {
  onChange: ({ t }) => {
    if (!explorer) return;
    encoder.submit(null, t);
  },
});

function clearEncoderInput() {
  paintField(els.encoderInput, new Float32Array(PIXELS));
}
clearEncoderInput();
paintField(els.decoded, new Float32Array(PIXELS));

els.clear.addEventListener('click', () => {
  drawEpoch++;
  pad.clear();
  encoder.cancelPending();
  posterior = null;
  latentMap.setPosterior(null);
  posteriorGrid.paint(null);
  showPosterior();
  clearEncoderInput();
  els.samplePosterior.disabled = true;
  clearError('encode');
});

// ---------------------------------------------------------------- sampling

els.samplePrior.addEventListener('click', (e) => {
  const t = Number(els.temperature.value) || 1;
  for (let i = 0; i < latentDim; i++) z[i] = clamp(t * lm.randn(), ranges[i][0], ranges[i][1]);
  syncSliders();
  requestDecode(eventTime(e));
});

els.samplePosterior.addEventListener('click', (e) => {
  if (!posterior) return;
  for (let i = 0; i < latentDim; i++) z[i] = posterior.mu[i] + posterior.sigma[i] * lm.randn();
  syncSliders();
  requestDecode(eventTime(e));
});

els.zero.addEventListener('click', (e) => {
  for (let i = 0; i < latentDim; i++) z[i] = clamp(0, ranges[i][0], ranges[i][1]);
  syncSliders();
  requestDecode(eventTime(e));
});

// ---------------------------------------------------------------- loading

async function fetchOk(url, what) {
  let res;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`Could not download ${what} (${url.pathname}): ${errorText(err)}`);
  }
  if (!res.ok) throw new Error(`Could not download ${what} (${url.pathname}): the server answered ${res.status} ${res.statusText}`.trim());
  return res;
}

/** The wasm refuses bigger weights too; stopping the download here saves the memory. */
const MAX_WEIGHTS_BYTES = 512 * 2 ** 20;

async function fetchBytes(url, what, onProgress) {
  const res = await fetchOk(url, what);
  const tooBig = () => new Error(`${what} (${url.pathname}) are larger than ${MAX_WEIGHTS_BYTES / 2 ** 20} MB: not a model this explorer can load.`);
  if (Number(res.headers.get('content-length')) > MAX_WEIGHTS_BYTES) throw tooBig();
  if (!res.body || !onProgress) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    if (total > MAX_WEIGHTS_BYTES) {
      reader.cancel().catch(() => {});
      throw tooBig();
    }
    onProgress(total);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Two builds of the same API: the CPU-only module (a tenth of the download) paints first; the
 * one with WebGPU is loaded for ?backend=webgpu, and under auto after the first image, to be
 * measured against the CPU.
 */
const MODULES = { cpu: 'pkg/vae_explorer_cpu.js', webgpu: 'pkg/vae_explorer.js' };
const modules = {};
const wasmMemories = [];
// For the soak test: WebAssembly memory grows but never shrinks, so this is its peak.
stats.wasmMemoryBytes = () => wasmMemories.reduce((sum, m) => sum + (m?.buffer?.byteLength ?? 0), 0);

function loadModule(kind) {
  if (!modules[kind]) {
    modules[kind] = loadWasm(MODULES[kind]);
    modules[kind].catch(() => {}); // reported where it is awaited
  }
  return modules[kind];
}

async function loadWasm(path) {
  const url = new URL(path, document.baseURI);
  let mod;
  try {
    mod = await import(url.href);
  } catch (err) {
    throw new Error(`Could not load the WebAssembly module (${url.pathname}): ${sentence(errorText(err))} Has it been built with “make wasm”?`);
  }
  try {
    if (typeof mod.default === 'function') {
      const wasm = await mod.default();
      wasmMemories.push(wasm?.memory);
    }
  } catch (err) {
    throw new Error(`Could not start the WebAssembly module: ${sentence(errorText(err))}`);
  }
  if (!mod.Explorer || typeof mod.Explorer.create !== 'function') {
    throw new Error('The WebAssembly module has no Explorer.create: it does not match this page.');
  }
  return mod;
}

function describeModel(m, entry) {
  const parts = [];
  parts.push(m.title || entry.title || m.name || entry.name);
  const met = m.metrics ?? {};
  if (Number.isFinite(met.test_loss_nats)) {
    let s = `test loss ${met.test_loss_nats.toFixed(1)} nats`;
    if (Number.isFinite(met.recon_nats) && Number.isFinite(met.kl_nats)) {
      s += ` (reconstruction ${met.recon_nats.toFixed(1)} + KL ${met.kl_nats.toFixed(1)})`;
    }
    if (Number.isFinite(met.images)) s += ` on ${met.images.toLocaleString('en')} test images`;
    parts.push(s);
  }
  const activeCount = (m.latent ?? []).filter((l) => l.active !== false).length;
  if (m.latent?.length) parts.push(`${activeCount} of ${m.latent.length} latent dimensions active`);
  const arch = m.architecture;
  if (arch?.kind) {
    const hidden = Array.isArray(arch.hidden) && arch.hidden.length ? ` ${arch.hidden.join('–')}` : '';
    const channels = Array.isArray(arch.channels) && arch.channels.length ? ` channels ${arch.channels.join('–')}` : '';
    const kind = arch.kind === 'conv' ? 'Convolutional' : String(arch.kind).toUpperCase();
    parts.push(`${kind}${channels}${hidden}`);
  }
  if (Number.isFinite(m.training?.epochs)) parts.push(`${m.training.epochs} epochs`);
  return parts.join(' · ');
}

/** Fallback reason when 'webgpu' was requested and failed, else null. */
let fallbackReason = null;

/**
 * The backend new explorers are created on: the address's choice; under auto the measured one
 * (the CPU until it is measured). After a lost device every later model starts on the CPU.
 */
function backendForNewModels() {
  if (gpuLost) return 'cpu';
  if (requestedBackend === 'auto') return auto.decision?.backend ?? 'cpu';
  return requestedBackend;
}

async function createExplorer(Explorer, manifestText, weights, backend) {
  try {
    return await Explorer.create(manifestText, weights, backend);
  } catch (err) {
    if (backend !== 'webgpu') throw err;
    console.warn('WebGPU backend failed, falling back to CPU:', err);
    els.statusMain.textContent = 'Backend: CPU — starting…';
    // If the CPU fails too, the bundle itself is at fault (damaged weights, ...): that error
    // is reported alone, without a notice blaming WebGPU.
    const ex = await Explorer.create(manifestText, weights, 'cpu');
    fallbackReason = sentence(errorText(err));
    showNotice('WebGPU is unavailable.', `${fallbackReason} Using the CPU backend instead.`);
    return ex;
  }
}

let wasmPromise = null;

let indexUrl = null;
let modelList = [];
/** The model the page shows: its index entry. */
let currentEntry = null;

/** Downloads a bundle and starts it; changes nothing on the page but the status line. */
async function fetchModel(entry) {
  const base = new URL(entry.path.endsWith('/') ? entry.path : `${entry.path}/`, indexUrl);
  const manifestUrl = new URL('manifest.json', base);
  let failed = false;
  const progress = (n) => {
    // A download still running after the load failed must not overwrite the failure.
    if (!failed) els.statusMain.textContent = `Backend: ${BACKEND_LABEL[requestedBackend]} — loading weights (${(n / 1e6).toFixed(1)} MB)…`;
  };
  try {
    return await startModel(entry, base, manifestUrl, progress);
  } catch (err) {
    failed = true;
    throw err;
  }
}

async function startModel(entry, base, manifestUrl, progress) {
  // The manifest and the weights (named "weights.bpk" by the contract) download in parallel.
  const defaultWeightsUrl = new URL('weights.bpk', base);
  const weightsPromise = fetchBytes(defaultWeightsUrl, 'the model weights', progress);
  weightsPromise.catch(() => {});
  const manifestText = await (await fetchOk(manifestUrl, 'the model manifest')).text();
  let parsed;
  try {
    parsed = JSON.parse(manifestText);
  } catch (err) {
    throw new Error(`The model manifest (${manifestUrl.pathname}) is not valid JSON: ${errorText(err)}`);
  }
  if (!manifest) els.modelInfo.textContent = describeModel(parsed, entry);
  const weightsUrl = new URL(parsed.weights || 'weights.bpk', base);
  const backend = backendForNewModels();
  const [mod, weights] = await Promise.all([
    backend === 'webgpu' ? loadModule('webgpu') : wasmPromise,
    weightsUrl.href === defaultWeightsUrl.href ? weightsPromise : fetchBytes(weightsUrl, 'the model weights', progress),
  ]);
  els.statusMain.textContent = `Backend: ${BACKEND_LABEL[requestedBackend]} — starting the model…`;
  let ex;
  try {
    ex = await createExplorer(mod.Explorer, manifestText, weights, backend);
  } catch (err) {
    throw new Error(`Could not start the model: ${sentence(errorText(err))}`);
  }
  const dim = Number(ex.latentDim) || Number(parsed.latent_dim) || parsed.latent?.length || 0;
  if (!(dim > 0)) throw new Error('The model reports no latent dimensions.');
  return { entry, manifest: parsed, manifestText, weights, ex, Explorer: mod.Explorer, releaseGpuMemory: mod.releaseGpuMemory, dim };
}

/** Makes a started model the page's model: sliders, map, strips, grids; z from the address on first load. */
function activate(m, { fromUrl }) {
  const ex = m.ex;
  explorer = ex;
  manifest = m.manifest;
  currentEntry = m.entry;
  latentDim = m.dim;
  loaded = { Explorer: m.Explorer, manifestText: m.manifestText, weights: m.weights, releaseGpuMemory: m.releaseGpuMemory };
  stats.backend = String(ex.backend);
  els.modelInfo.textContent = describeModel(manifest, m.entry);
  els.modelSelect.value = m.entry.name;

  const reason = fallbackReason
    ? `WebGPU was requested but failed (${fallbackReason.replace(/\.$/, '')}); fell back to the CPU.`
    : requestedBackend === 'auto' && !gpuLost ? autoReason()
    : ex.backendReason ? sentence(ex.backendReason) : '';
  const adapter = ex.adapter ? ` Adapter: ${ex.adapter}.` : '';
  els.statusReason.textContent = `${reason}${adapter}`;
  if (requestedBackend === 'auto' && stats.backend !== 'WebGPU') {
    // While WebGPU is being measured there is nothing to warn about yet.
    if (auto.state !== 'measuring') showNotice('WebGPU is not in use: decoding runs on the CPU.', reason || 'No usable WebGPU adapter was found.');
  } else if (requestedBackend === 'webgpu' && stats.backend !== 'WebGPU' && els.notice.hidden) {
    showNotice('WebGPU is unavailable.', reason || 'The page fell back to the CPU backend.');
  }
  document.body.dataset.backend = stats.backend;

  posterior = null;
  latentMap.setPosterior(null);
  posteriorGrid.paint(null);
  z = new Float32Array(latentDim);
  ranges = [];
  buildSliders();
  for (let i = 0; i < latentDim; i++) z[i] = clamp(0, ranges[i][0], ranges[i][1]);
  if (fromUrl) restoreFromUrl();
  else anchors = defaultAnchors();
  buildZReadout();
  syncSliders();
  showPosterior();
  setupMap();
  setupAttributes();
  traversals.setModel(ranges, [...Array(latentDim).keys()].map((i) => manifest.latent?.[i]?.active === false));
  applyOrder();
  setControlsEnabled(true);
  els.samplePosterior.disabled = true;
  renderStatus();
  requestDecode(performance.now());
  updateInterpolation();
  newPriorSamples();
  // A drawing on the pad is encoded again by the new model.
  if (!pad.isEmpty) encoder.submit(null, performance.now());
}

/** Frees a replaced model once nothing is running on it any more. */
function retire(ex) {
  const started = performance.now();
  const poll = () => {
    if (busy.every((count) => count() === 0) || performance.now() - started > 60_000) {
      ex.free();
      loaded?.releaseGpuMemory?.();
    }
    else setTimeout(poll, 200);
  };
  setTimeout(poll, 200);
}

let switchingModel = false;

/**
 * Switches models in place: the current model stays active and responsive while the new one
 * downloads and starts; if that fails, it stays active and the page says why.
 */
async function switchModel(name) {
  const entry = modelList.find((m) => m.name === name);
  if (!entry || switchingModel || entry === currentEntry) return;
  switchingModel = true;
  els.modelSelect.disabled = true;
  els.modelSelect.setAttribute('aria-busy', 'true');
  const old = explorer;
  try {
    const m = await fetchModel(entry);
    activate(m, { fromUrl: false });
    clearError('model');
    if (old && old !== explorer) retire(old);
  } catch (err) {
    console.error(err);
    els.modelSelect.value = currentEntry?.name ?? '';
    showError(`Could not switch to “${entry.title || entry.name}”: ${sentence(errorText(err))} The previous model stays active.`, 'model');
    renderStatus();
  } finally {
    switchingModel = false;
    els.modelSelect.disabled = false;
    els.modelSelect.removeAttribute('aria-busy');
    document.body.dataset.model = currentEntry?.name ?? '';
  }
}

async function load() {
  els.statusMain.textContent = `Backend: ${BACKEND_LABEL[requestedBackend]} — loading…`;
  indexUrl = new URL('models/index.json', document.baseURI);
  wasmPromise = loadModule(requestedBackend === 'webgpu' ? 'webgpu' : 'cpu');
  // Under auto, whether there is a WebGPU adapter at all decides whether there is anything to
  // measure (and to download); asked in parallel with the downloads.
  const adapterPromise = requestedBackend === 'auto' ? hasWebGpuAdapter() : Promise.resolve(false);

  const index = await (await fetchOk(indexUrl, 'the model list')).json().catch((err) => {
    throw new Error(`The model list (${indexUrl.pathname}) is not valid JSON: ${errorText(err)}`);
  });
  modelList = Array.isArray(index?.models) ? index.models.filter((m) => m && m.name && m.path) : [];
  if (modelList.length === 0) throw new Error(`The model list (${indexUrl.pathname}) names no models.`);
  let entry = modelList[0];
  if (requestedModel) {
    const found = modelList.find((m) => m.name === requestedModel);
    if (found) entry = found;
    else showError(`There is no model named “${requestedModel}”; showing “${entry.name}” instead.`, 'url');
  }
  if (modelList.length > 1) {
    for (const m of modelList) {
      const opt = document.createElement('option');
      opt.value = m.name;
      opt.textContent = m.title || m.name;
      els.modelSelect.append(opt);
    }
    els.modelSelect.value = entry.name;
    els.modelField.hidden = false;
  }
  const [m, adapter] = await Promise.all([fetchModel(entry), adapterPromise]);
  if (requestedBackend === 'auto') auto.state = adapter ? 'measuring' : 'no-webgpu';
  activate(m, { fromUrl: true });
  document.body.dataset.model = entry.name;
  if (auto.state === 'measuring') measureAuto();
}

// ---------------------------------------------------------------- auto: measured, not assumed

/** state: 'off' (a backend was named), 'no-webgpu', 'measuring', 'decided'. */
const auto = { state: 'off', decision: null };
stats.auto = auto;

async function hasWebGpuAdapter() {
  try {
    return Boolean(await navigator.gpu?.requestAdapter());
  } catch {
    return false;
  }
}

function autoReason() {
  switch (auto.state) {
    case 'no-webgpu': return 'auto: this browser offers no WebGPU adapter; using the CPU backend.';
    case 'measuring': return 'auto: the CPU backend paints first while WebGPU is measured…';
    default: return sentence(auto.decision?.reason ?? '');
  }
}

/**
 * Loads the WebGPU module after the first image, times the current model on it and on the CPU
 * (backend-choice.js), and moves to WebGPU in place (z, drawing and panels kept) if it is faster.
 */
async function measureAuto() {
  // The WebGPU module streams in only after the first image: nothing competes with it.
  await firstImage;
  const target = { ex: explorer, loaded, dim: latentDim };
  const zv = Float32Array.from(z);
  const strips = traversals.batchFor(zv);
  const stripCount = latentDim * STEPS;
  let gpu = null;
  let gpuMod = null;
  try {
    gpuMod = await loadModule('webgpu');
    gpu = await gpuMod.Explorer.create(target.loaded.manifestText, target.loaded.weights, 'webgpu');
    const opts = { z: zv, strips, stripCount, beforeEach: mainIdle };
    const cpu = await measureBackend(target.ex, opts);
    const webgpu = await measureBackend(gpu, { ...opts, loseAbove: cpu.totalMs });
    // Tests play a machine where WebGPU wins through this hook; the page never sets it.
    globalThis.vaeTestHooks?.adjustAutoMeasurement?.({ cpu, webgpu });
    auto.measured = { cpu, webgpu, adapter: String(gpu.adapter) };
    auto.decision = chooseBackend(cpu, webgpu);
  } catch (err) {
    console.warn('auto: WebGPU could not be measured:', err);
    auto.decision = { backend: 'cpu', reason: `auto: WebGPU could not be measured (${sentence(errorText(err)).replace(/\.$/, '')}); using the CPU backend` };
  }
  if (gpuLost) auto.decision = { backend: 'cpu', reason: 'auto: the WebGPU device was lost while it was measured; using the CPU backend' };
  auto.state = 'decided';
  performance.mark('auto-decided');
  if (auto.decision.backend === 'webgpu' && explorer === target.ex) {
    adoptExplorer(gpu, gpuMod);
    gpu = null;
  }
  if (gpu) {
    gpu.free();
    gpuMod.releaseGpuMemory?.();
  }
  if (auto.decision.backend === 'webgpu' && explorer !== target.ex && String(explorer?.backend) === 'CPU') {
    // The model was switched while it was measured: start the new one on WebGPU too.
    const now = loaded;
    gpuMod.Explorer.create(now.manifestText, now.weights, 'webgpu').then(
      (ex) => (loaded === now ? adoptExplorer(ex, gpuMod) : ex.free()),
      (err) => console.warn('auto: the model could not start on WebGPU; it stays on the CPU:', err),
    );
  }
  if (auto.decision.backend === 'cpu' && String(explorer?.backend) === 'CPU') {
    els.statusReason.textContent = sentence(auto.decision.reason);
    showNotice('WebGPU is not in use: decoding runs on the CPU.', sentence(auto.decision.reason));
  }
}

/** Makes `ex` (the same model on another backend) the page's explorer; z and the panels stay. */
function adoptExplorer(ex, mod) {
  const old = explorer;
  explorer = ex;
  loaded = { ...loaded, Explorer: mod.Explorer, releaseGpuMemory: mod.releaseGpuMemory };
  stats.backend = String(ex.backend);
  document.body.dataset.backend = stats.backend;
  const adapter = ex.adapter ? ` Adapter: ${ex.adapter}.` : '';
  els.statusReason.textContent = `${autoReason()}${adapter}`;
  hideNotice();
  renderStatus();
  requestDecode(performance.now());
  retire(old);
}

load().catch(async (err) => {
  console.error(err);
  explorer = null;
  els.statusMain.textContent = 'Backend: not loaded';
  let message = sentence(errorText(err));
  // If the wasm module failed too, say so as well (both are missing before the first build).
  const [wasm] = await Promise.allSettled([wasmPromise]);
  if (wasm.status === 'rejected' && wasm.reason !== err) message += ` ${sentence(errorText(wasm.reason))}`;
  showError(message, 'load');
  if (!manifest) els.modelInfo.textContent = 'No model loaded.';
});
