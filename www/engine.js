// The explorer's life: which explorer the page decodes with, the schedulers that feed it (the
// main image, the drawing's encoder, side-panel batches), how busy they are, and the one path
// by which an explorer is replaced (a model switch, auto's move to WebGPU, WebGPU failing),
// after which the old one is freed once nothing runs on it.
//
// Events: 'image' (pixels, before they count as painted), 'painted' {ms}, 'first-image',
// 'explorer' {explorer, old, reencode} after a swap.

import { Emitter } from './lib/emitter.js';
import { DecodeScheduler, LatestScheduler, decodeInChunks, deferWhenSlow, median, pushBounded } from './lib/decode-scheduler.js';
import { Backend, backendOf } from './lib/backends.js';
import { errorText, fmtMs, sentence } from './lib/format.js';

const STATS_LIMIT = 2000;
/** Latency of every operation, read by the latency table, the tests and scripts/measure.mjs. */
export function createStats() {
  return { decodeMs: [], encodeMs: [], traversalMs: [], gridMs: {}, backend: '', decodes: 0 };
}

export class Engine extends Emitter {
  /** The explorer the page decodes with, its wasm module and bundle (to start it again elsewhere). */
  explorer = null;
  module = null;
  bundle = null;
  #busy = [];
  #main = [];
  #painted = false;
  #fault = () => false;
  #oneOff = 0;

  constructor({ state, stats, messages }) {
    super();
    this.state = state;
    this.stats = stats;
    this.messages = messages;
    this.firstImage = new Promise((resolve) => this.once('first-image', resolve));
    this.countBusy(() => this.#oneOff);
    this.decoder = this.#track(new DecodeScheduler({
      run: (zv) => this.explorer.decode(zv),
      apply: (pixels) => {
        if (!pixels || pixels.length !== this.imagePixels) {
          throw new Error(`the decoder returned ${pixels?.length ?? 'no'} values instead of ${this.imagePixels}`);
        }
        this.emit('image', pixels);
        messages.clearError('decode');
      },
      // Runs synchronously right after apply(), i.e. after the pixels are painted.
      onLatency: (ms) => {
        pushBounded(stats.decodeMs, ms, STATS_LIMIT);
        stats.decodes++;
        this.emit('painted', { ms });
        if (this.#painted) return messages.scheduleStatus();
        this.#painted = true;
        messages.renderStatus();
        performance.mark('first-decode');
        this.emit('first-image');
      },
      onError: this.#onError('Decoding failed', 'decode'),
    }), true);
  }

  once(type, fn) {
    const off = this.on(type, (d) => {
      off();
      fn(d);
    });
  }

  /** Values per image of the current model. */
  get imagePixels() {
    const { width, height } = this.state.model.image;
    return width * height;
  }

  /** Who handles a failed call (the backend policy: WebGPU → CPU); returns true if it did. */
  onFault(handler) {
    this.#fault = handler;
  }

  /** Counts something else as running work (a replaced explorer is freed only at 0). */
  countBusy(count) {
    this.#busy.push(count);
  }

  /** Work queued or running anywhere (tests wait for 0 before comparing state). */
  busy() {
    return this.#busy.reduce((n, count) => n + count(), 0) + this.#main.filter((s) => s.hasPending).length;
  }

  /** Waits while the main image or the drawing's encoding has work queued or running. */
  async mainIdle() {
    while (this.#main.some((s) => s.inFlight > 0 || s.hasPending)) await Promise.all(this.#main.map((s) => s.idle()));
  }

  /** Decodes the current z for the main image (at most one dispatch per frame, latest wins). */
  requestDecode(t0 = performance.now()) {
    if (!this.explorer) return;
    this.decoder.submit(Float32Array.from(this.state.z), t0);
  }

  /** The status line: backend and decode times, or null before there is an explorer. */
  statusLine() {
    if (!this.explorer) return null;
    const d = this.stats.decodeMs;
    let text = `Backend: ${this.stats.backend}`;
    if (!d.length) return `${text} — decoding…`;
    text += ` — decode ${fmtMs(d[d.length - 1])} ms`;
    if (d.length > 1) text += ` (median ${fmtMs(median(d))} ms over ${d.length})`;
    return text;
  }

  /**
   * The drawing's encoder: `run(explorer)` encodes, `apply(result)` uses it (false: dropped).
   * Counts as main work: side-panel batches wait for it.
   */
  createEncoder({ run, apply }) {
    this.encoder = this.#track(new LatestScheduler({
      maxInFlight: 1,
      run: () => run(this.explorer),
      apply,
      onLatency: (ms) => {
        pushBounded(this.stats.encodeMs, ms, STATS_LIMIT);
        this.messages.scheduleStatus();
      },
      onError: this.#onError('Encoding the drawing failed', 'encode'),
    }), true);
    return this.encoder;
  }

  /**
   * A side panel's batches: `update({zs, n, ...})` decodes n latent vectors (zs, or a function
   * giving them) in chunks while the main image is idle, latest wins; `apply(pixels, job)`
   * paints them. A job names the explorer it was made for: after a swap it is dropped, never
   * decoded by a model with another latent size.
   */
  sideBatch({ latencies, failure, source, apply }) {
    const scheduler = this.#track(new LatestScheduler({
      maxInFlight: 1,
      run: async (job) => {
        if (job.ex !== this.explorer) return null; // queued before a swap
        const zs = typeof job.zs === 'function' ? job.zs() : job.zs;
        return { job, pixels: await this.#decodeInChunks(job.ex, zs, job.n) };
      },
      apply: (res) => {
        if (!res || res.job.ex !== this.explorer) return false; // from the explorer before a swap
        if (res.pixels?.length !== res.job.n * this.imagePixels) {
          throw new Error(`the decoder returned ${res.pixels?.length ?? 'no'} values for ${res.job.n} images`);
        }
        apply(res.pixels, res.job);
        this.messages.clearError(source);
      },
      onLatency: (ms) => {
        pushBounded(latencies, ms, STATS_LIMIT);
        this.messages.scheduleStatus();
      },
      onError: this.#onError(failure, source),
    }));
    const update = deferWhenSlow((job) => job.ex && scheduler.submit(job), latencies, { stillCurrent: (job) => job.ex === this.explorer });
    return (value) => update({ ...value, ex: this.explorer });
  }

  /**
   * A one-off batch (an animation to download): decoded in chunks like the side panels, each
   * waiting for the main image. Returns n × image pixels.
   */
  async decodeOnce(zs, n) {
    const ex = this.explorer;
    if (!ex) throw new Error('no model is loaded yet');
    const pixels = await this.#decodeInChunks(ex, zs, n);
    if (pixels?.length !== n * this.imagePixels) throw new Error(`the decoder returned ${pixels?.length ?? 'no'} values for ${n} images`);
    return pixels;
  }

  /**
   * A one-off encoding of n images (`pixels`: grey levels in [0, 1], image after image, or a
   * function (start, count) giving those of a range, so the caller need not hold all as
   * floats), in chunks that each wait for the main image. Resolves to {mu, logVar} (n × latent
   * size each), or to null when the explorer was replaced meanwhile: the rows would mix models.
   */
  async encodeOnce(pixels, n, { onProgress } = {}) {
    const ex = this.explorer;
    if (!ex) throw new Error('no model is loaded yet');
    const dim = this.state.latentDim;
    const size = this.imagePixels;
    const cpu = backendOf(ex) === Backend.CPU;
    const chunk = cpu ? 64 : 1024;
    const mu = new Float32Array(n * dim);
    const logVar = new Float32Array(n * dim);
    for (let start = 0; start < n; start += chunk) {
      await this.mainIdle();
      if (ex !== this.explorer) return null;
      const m = Math.min(chunk, n - start);
      const input = typeof pixels === 'function' ? pixels(start, m) : pixels.subarray(start * size, (start + m) * size);
      // Counted as running work, so that a swap meanwhile frees the old explorer only after it.
      this.#oneOff++;
      let r;
      try {
        r = await ex.encodeBatch(input, m);
      } finally {
        this.#oneOff--;
      }
      if (ex !== this.explorer) return null;
      if (r?.mu?.length !== m * dim || r?.logVar?.length !== m * dim) throw new Error(`the encoder returned ${r?.mu?.length ?? 'no'} means for ${m} images of ${dim} dimensions`);
      mu.set(r.mu, start * dim);
      logVar.set(r.logVar, start * dim);
      onProgress?.(start + m);
      if (cpu) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return { mu, logVar };
  }

  /**
   * The one swap path. Makes `explorer` (from `module`, started from `bundle`) the page's;
   * with `model`, the page's model changes too (z and anchors given). The replaced explorer
   * is freed once idle. `reencode` asks for the drawing to be encoded again.
   */
  swap({ explorer, module, bundle = this.bundle, model, z, anchors, reencode = false }) {
    const old = this.explorer;
    const oldModule = this.module;
    this.explorer = explorer;
    this.module = module;
    this.bundle = bundle;
    this.stats.backend = String(explorer.backend);
    if (model) this.state.setModel(model, { z, anchors });
    this.messages.renderStatus();
    this.requestDecode(performance.now());
    this.emit('explorer', { explorer, old, reencode });
    if (old && old !== explorer) this.#retire(old, oldModule);
  }

  /** Frees a replaced explorer once nothing is running on it any more. */
  #retire(ex, module) {
    const started = performance.now();
    const poll = () => {
      if (!this.#busy.every((count) => count() === 0) && performance.now() - started <= 60_000) return setTimeout(poll, 200);
      freeExplorer(ex, module);
    };
    setTimeout(poll, 200);
  }

  /**
   * On the CPU a chunk is small and the page yields between chunks (they share the main
   * thread); on WebGPU chunks are larger, since GPUs want big batches.
   */
  #decodeInChunks(ex, zs, n) {
    const cpu = backendOf(ex) === Backend.CPU;
    return decodeInChunks(ex, zs, n, {
      imagePixels: this.imagePixels,
      chunk: cpu ? 48 : 64,
      beforeEach: () => this.mainIdle(),
      between: () => (cpu ? new Promise((resolve) => setTimeout(resolve, 0)) : null),
    });
  }

  #track(scheduler, main = false) {
    this.#busy.push(() => scheduler.inFlight);
    if (main) this.#main.push(scheduler);
    return scheduler;
  }

  #onError(failure, source) {
    return (err) => {
      console.error(err);
      if (this.#fault(err)) return;
      this.messages.error(`${failure}: ${sentence(errorText(err))}`, source);
    };
  }
}

/** Frees an explorer nothing runs on any more, and returns its module's pooled GPU memory. */
export function freeExplorer(ex, module) {
  try {
    ex.free();
    module?.releaseGpuMemory?.();
  } catch (err) {
    // A lost device may refuse even this; the memory goes with the page.
    console.warn('freeing an explorer failed:', err);
  }
}
