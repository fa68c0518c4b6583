// Latest-value-wins scheduling of async work (decode, encode), one dispatch per
// animation frame at most. No DOM access: the frame source and clock are
// injectable, so this module runs (and is testable) under plain Node.
//
//   const s = new LatestScheduler({
//     run: (z, seq) => explorer.decode(z),          // returns a promise
//     apply: (pixels, info) => paint(pixels),        // only for results newer than the last applied
//     onLatency: (ms, info) => stats.push(ms),       // submit() time -> after apply()
//     maxInFlight: 2,
//   });
//   slider.oninput = (e) => s.submit(z.slice(), e.timeStamp);
//
// Rules:
//  * submit() records the latest value; if no dispatch happened since the last animation
//    frame and fewer than maxInFlight runs are pending, it is dispatched at once (so a
//    decode never waits for a frame it does not need to); otherwise it waits for the next
//    frame: at most one dispatch per animation frame;
//  * a waiting value is dispatched on the next frame with free capacity, with an increasing
//    sequence number; only the newest value ever waits, never a queue;
//  * a result is applied only if its sequence number is newer than the last one
//    applied (out-of-order completions of older runs are dropped).

const defaultRequestFrame = (cb) =>
  typeof globalThis.requestAnimationFrame === 'function'
    ? globalThis.requestAnimationFrame(cb)
    : setTimeout(cb, 16);

const defaultNow = () => globalThis.performance.now();

export class LatestScheduler {
  #run;
  #apply;
  #onLatency;
  #onError;
  #requestFrame;
  #now;
  #pending = undefined;
  #pendingT0 = 0;
  #dirty = false;
  #frameRequested = false;
  /** A dispatch happened since the last animation frame. */
  #frameUsed = false;
  #idleWaiters = [];

  constructor({
    run,
    apply,
    onLatency = () => {},
    onError = (err) => console.error(err),
    maxInFlight = 2,
    requestFrame = defaultRequestFrame,
    now = defaultNow,
  }) {
    if (typeof run !== 'function' || typeof apply !== 'function') {
      throw new TypeError('LatestScheduler needs run() and apply() functions');
    }
    if (!(maxInFlight >= 1)) throw new RangeError('maxInFlight must be >= 1');
    this.#run = run;
    this.#apply = apply;
    this.#onLatency = onLatency;
    this.#onError = onError;
    this.#requestFrame = requestFrame;
    this.#now = now;
    this.maxInFlight = maxInFlight;
    /** Sequence number of the last dispatch (0 = none yet). */
    this.seq = 0;
    /** Sequence number of the last applied result. */
    this.lastApplied = 0;
    this.inFlight = 0;
    /** Counters, handy for tests and diagnostics. */
    this.stats = { submitted: 0, dispatched: 0, applied: 0, dropped: 0, failed: 0, maxInFlightSeen: 0 };
  }

  /** Record the newest value; `t0` is when the input that produced it happened. */
  submit(value, t0 = this.#now()) {
    this.#pending = value;
    this.#pendingT0 = t0;
    this.#dirty = true;
    this.stats.submitted++;
    this.#schedule();
  }

  /** True if a submitted value has not been dispatched yet. */
  get hasPending() {
    return this.#dirty;
  }

  /** Forget a value that has not been dispatched yet (runs in flight still complete). */
  cancelPending() {
    this.#dirty = false;
    this.#pending = undefined;
    this.#resolveIdle();
  }

  /** Resolves when nothing is pending and nothing is in flight. */
  idle() {
    if (!this.#dirty && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule() {
    if (!this.#dirty || this.inFlight >= this.maxInFlight) return; // re-run when a run completes
    if (!this.#frameUsed) this.#dispatch();
    else this.#requestFrameOnce();
  }

  #requestFrameOnce() {
    if (this.#frameRequested) return;
    this.#frameRequested = true;
    this.#requestFrame(() => this.#onFrame());
  }

  #onFrame() {
    this.#frameRequested = false;
    this.#frameUsed = false;
    this.#schedule();
  }

  #dispatch() {
    // The frame that follows ends this dispatch's frame and picks up any value that waited.
    this.#frameUsed = true;
    this.#requestFrameOnce();
    const value = this.#pending;
    const t0 = this.#pendingT0;
    this.#pending = undefined;
    this.#dirty = false;
    const seq = ++this.seq;
    this.inFlight++;
    this.stats.dispatched++;
    if (this.inFlight > this.stats.maxInFlightSeen) this.stats.maxInFlightSeen = this.inFlight;
    const info = { seq, t0, value, dispatchedAt: this.#now() };

    let promise;
    try {
      promise = Promise.resolve(this.#run(value, seq));
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(
      (result) => {
        this.inFlight--;
        if (seq > this.lastApplied) {
          this.lastApplied = seq;
          try {
            const applied = this.#apply(result, info);
            if (applied !== false) {
              this.stats.applied++;
              this.#onLatency(this.#now() - t0, info);
            }
          } catch (err) {
            this.stats.failed++;
            this.#onError(err, info);
          }
        } else {
          this.stats.dropped++;
        }
        this.#afterRun();
      },
      (err) => {
        this.inFlight--;
        this.stats.failed++;
        try {
          this.#onError(err, info);
        } finally {
          this.#afterRun();
        }
      },
    );
  }

  #afterRun() {
    this.#schedule();
    this.#resolveIdle();
  }

  #resolveIdle() {
    if (this.#dirty || this.inFlight > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** The decode scheduler: at most 2 decodes in flight. */
export class DecodeScheduler extends LatestScheduler {
  constructor(opts) {
    super({ maxInFlight: 2, ...opts });
  }
}

/** Median of an array of numbers (NaN for an empty array). Does not modify the input. */
export function median(values) {
  const n = values.length;
  if (n === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const m = n >> 1;
  return n % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Push into a bounded array in place (keeps the same array object; drops the oldest). */
export function pushBounded(arr, value, limit = 2000) {
  arr.push(value);
  if (arr.length > limit) arr.splice(0, arr.length - limit);
}

/**
 * Decodes a side-panel batch of `n` latent vectors in chunks of `chunk`, each started only once
 * `beforeEach()` resolves (the page: when the main image and the encoder are idle). They share
 * one device (and, on the CPU backend, the main thread), so this bounds how long the main
 * image can wait behind a batch to one chunk. `between()` runs after each chunk (the page
 * yields to the event loop there on the CPU). Returns all images, `imagePixels` values each.
 */
export async function decodeInChunks(ex, zs, n, { imagePixels, chunk, beforeEach = async () => {}, between = async () => {} }) {
  // Fixed at the start: a model switch between chunks changes the page's latent size, not this batch's.
  const dim = zs.length / n;
  const out = new Float32Array(n * imagePixels);
  // A batch submitted in the same task as a main-image request finds that request queued.
  await null;
  for (let start = 0; start < n; start += chunk) {
    await beforeEach();
    const m = Math.min(chunk, n - start);
    out.set(await ex.decodeBatch(zs.subarray(start * dim, (start + m) * dim), m), start * imagePixels);
    await between();
  }
  return out;
}

/**
 * Where a side-panel batch is quick (any real GPU, the CPU backend) it follows z live; where
 * one took longer than `slowMs` (a software GPU adapter: seconds for the traversal strips) it
 * waits until z has rested for `restMs`, so the main image is never stuck behind it. Returns
 * `update(job)`; a deferred job is submitted only if `stillCurrent(job)` holds by then.
 */
export function deferWhenSlow(submit, latencies, { stillCurrent = () => true, slowMs = 50, restMs = 300, timers = globalThis } = {}) {
  let timer = 0;
  return (job) => {
    timers.clearTimeout(timer);
    const last = latencies[latencies.length - 1] ?? 0;
    if (last <= slowMs) submit(job);
    else timer = timers.setTimeout(() => stillCurrent(job) && submit(job), restMs);
  };
}
