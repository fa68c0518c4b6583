// `auto` picks the backend on numbers measured in this browser, not on a rule about adapters.
//
// One slider step costs the page one decode of the main image (batch 1) and one decode of the
// traversal strips (latent size × STEPS images): that sum is what `auto` compares. The page paints
// first with the small CPU-only module, then measures the WebGPU module's explorer against it.
// No DOM access: the timing loop and the decision run (and are tested) under plain Node.

import { median } from './decode-scheduler.js';
import { Backend } from './backends.js';

/** Timed decodes per measurement, after the warm-up the explorer did when it was created. */
export const SLIDER_RUNS = 5;
export const STRIP_RUNS = 2;

/**
 * A browser's clock is coarse (Chromium rounds performance.now() to 0.1 ms on a page that is not
 * cross-origin isolated) and one CPU decode of the main image can take less than that: a run
 * repeats its decode until it spans at least MIN_RUN_MS (or MAX_REPEATS decodes) and counts the
 * mean of its repeats.
 */
export const MIN_RUN_MS = 2;
export const MAX_REPEATS = 64;

/**
 * Median wall time per decode of `runs` runs decoding `n` latent vectors `zs` on `ex` (z in,
 * pixels back in JS, as the page uses it). `beforeEach` waits until the page's own decodes are
 * idle.
 */
export async function timeDecodes(ex, zs, n, runs, { beforeEach = async () => {}, now = () => performance.now() } = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    await beforeEach();
    const t0 = now();
    let reps = 0;
    let elapsed = 0;
    do {
      await (n === 1 ? ex.decode(zs) : ex.decodeBatch(zs, n));
      reps++;
      elapsed = now() - t0;
    } while (elapsed < MIN_RUN_MS && reps < MAX_REPEATS);
    times.push(elapsed / reps);
  }
  return median(times);
}

/** A first, smaller strip batch on a backend that may already be losing. */
export const PROBE_BATCH = 16;

/**
 * Measures one backend: the slider decode, then the strips. With `loseAbove` (the other
 * backend's cost) it stops as soon as a lower bound says this one cannot win, so a slow adapter
 * (a software GPU needs seconds for the strips) is never timed on the full batch. The bounds
 * assume a batch never decodes faster than a smaller one.
 * Returns { sliderMs, stripsMs, totalMs }; stripsMs and totalMs are null when it stopped early.
 */
export async function measureBackend(ex, { z, strips, stripCount, loseAbove = Infinity, ...opts }) {
  const sliderMs = await timeDecodes(ex, z, 1, SLIDER_RUNS, opts);
  if (stripCount === 0) return { sliderMs, stripsMs: 0, totalMs: sliderMs };
  const lost = { sliderMs, stripsMs: null, totalMs: null };
  // The strips cost at least one more decode.
  if (2 * sliderMs >= loseAbove) return lost;
  if (stripCount > PROBE_BATCH && Number.isFinite(loseAbove)) {
    const dim = strips.length / stripCount;
    const partMs = await timeDecodes(ex, strips.subarray(0, PROBE_BATCH * dim), PROBE_BATCH, 1, opts);
    if (sliderMs + partMs >= loseAbove) return lost;
  }
  const stripsMs = await timeDecodes(ex, strips, stripCount, STRIP_RUNS, opts);
  return { sliderMs, stripsMs, totalMs: sliderMs + stripsMs };
}

const ms = (v) => (v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));

/** One measurement in words: "0.62 ms image + 31 ms strips = 32 ms" or "43 ms for the image alone". */
export function describeCost(m) {
  if (m.totalMs === null) return `${ms(m.sliderMs)} ms for the image alone`;
  if (!m.stripsMs) return `${ms(m.sliderMs)} ms`;
  return `${ms(m.sliderMs)} ms image + ${ms(m.stripsMs)} ms strips = ${ms(m.totalMs)} ms`;
}

/**
 * The decision: 'webgpu' only when its full cost per slider step is measured and lower than the
 * CPU's (a tie keeps the CPU: no device to lose, no GPU memory held). Returns { backend, reason }.
 */
export function chooseBackend(cpu, gpu) {
  const per = 'per slider step';
  const faster = gpu.totalMs !== null && gpu.totalMs < cpu.totalMs;
  const numbers = `WebGPU ${describeCost(gpu)}, CPU ${describeCost(cpu)}`;
  return faster
    ? { backend: Backend.WEBGPU, reason: `auto: WebGPU is faster here (${per}: ${numbers})` }
    : { backend: Backend.CPU, reason: `auto: the CPU is faster here (${per}: ${numbers})` };
}
