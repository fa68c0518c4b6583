// The training worker: owns one Trainer (pkg/vae_explorer_train.js, burn's autodiff + Adam)
// and trains in chunks of steps, so the page stays responsive and a pause or a request for
// the live view waits at most one chunk. It keeps running while the tab is hidden (a dedicated
// worker is not suspended like the page's timers); the panel says so.
//
// Requests (page → worker): {id, type, ...}; each is answered by {id, ok: true, result} or
// {id, ok: false, error: "a sentence"}:
//   init {settings, backend, image: {width, height}, fineTune?: {manifestText, weights}}
//        → {backend, latentDim, imageWidth, imageHeight}   (replaces any previous trainer)
//   mnist {} → {train, test} image counts; fetches /data/mnist/ once, with 'progress' events
//   data {pixels, labels, count, mnist} → {count}  (mnist: the MNIST training set goes first)
//   probe {pixels, labels, count, mnist} → {count, labels}  (mnist: the first test images)
//   start {} → {step}; the loop runs, posting 'stats' after every chunk
//   pause {} → {step} once the running chunk has ended
//   snapshot {zs, n, map, evaluate, recon?: {pixels, n}} → {pixels, mu?, logVar?, eval?, recon?}
//   decode {zs, n} → {pixels}
//   export {name, title} → {manifestText, weights}
//   dispose {} → {}
// Events (worker → page): {type: 'stats', stats}, {type: 'progress', loaded, total},
// {type: 'stopped', reason: 'paused' | 'finished' | 'failed', message?, readable?, stats}
// (readable: false when the failure took the weights along, as a lost GPU device does).
// Big arrays travel as transferables both ways.

import { concatDatasets, fitToSize, firstImages, parseIdxPair, toFloats } from '../lib/training-data.js';
import { errorText, sentence } from '../lib/format.js';
import { readAll } from '../lib/streams.js';
import { fetchOk } from '../load.js';

/** The training build of the wasm (both backends), relative to this file's URL. */
const MODULE = '../pkg/vae_explorer_train.js';
const MNIST = {
  trainImages: '../data/mnist/train-images-idx3-ubyte',
  trainLabels: '../data/mnist/train-labels-idx1-ubyte',
  testImages: '../data/mnist/t10k-images-idx3-ubyte',
  testLabels: '../data/mnist/t10k-labels-idx1-ubyte',
};
const MNIST_SIZE = { width: 28, height: 28 };
/** A chunk aims at this long: pauses and live-view requests wait at most about this. */
const CHUNK_MS = 150;
const PROBE_IMAGES = 500;

let wasm = null;
let trainer = null;
let image = MNIST_SIZE;
let mnist = null; // {train, test} datasets of 28×28 bytes, kept across trainers
let probe = null; // {floats, labels, count} at the trainer's size
let running = false;
let loop = null;
// The first chunk is one step, so the chart starts at the untrained model's loss.
let chunk = 1;
let lastStats = null;

// Every call into the Trainer goes through this queue: a wasm object must not be entered
// again while one of its async methods is still running.
let queue = Promise.resolve();
function exclusive(fn) {
  const run = queue.then(fn);
  queue = run.catch(() => {});
  return run;
}

async function loadWasm() {
  if (wasm) return wasm;
  let mod;
  try {
    mod = await import(MODULE);
  } catch (err) {
    throw new Error(`Could not load the training module (${new URL(MODULE, import.meta.url).pathname}): ${sentence(errorText(err))} Has it been built?`);
  }
  try {
    await mod.default();
  } catch (err) {
    throw new Error(`Could not start the training module: ${sentence(errorText(err))}`);
  }
  if (typeof mod.Trainer?.create !== 'function') throw new Error('The training module has no Trainer: it does not match this page.');
  wasm = mod;
  return wasm;
}

function needTrainer() {
  if (!trainer) throw new Error('There is no model in training: press Start training first.');
  return trainer;
}

const post = (message, transfer = []) => self.postMessage(message, transfer);

/** The buffer of a typed array, copied if it is a view into a larger one (wasm memory). */
function own(array) {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength ? array : array.slice();
}

async function fetchIdx(path, onBytes) {
  const res = await fetchOk(new URL(path, import.meta.url), 'the MNIST training set');
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  return readAll(res.body, (chunk) => onBytes(chunk.length));
}

/** The four MNIST files, once per worker; progress counts bytes against their known sizes. */
async function loadMnist() {
  if (mnist) return mnist;
  // The raw sizes of MNIST's files: the server compresses them, so Content-Length says less.
  const total = 47_040_016 + 60_008 + 7_840_016 + 10_008;
  let loaded = 0;
  let lastPost = 0;
  const onBytes = (n) => {
    loaded += n;
    const now = performance.now();
    if (now - lastPost > 100) {
      lastPost = now;
      post({ type: 'progress', loaded: Math.min(loaded, total), total });
    }
  };
  const [ti, tl, si, sl] = await Promise.all([MNIST.trainImages, MNIST.trainLabels, MNIST.testImages, MNIST.testLabels].map((p) => fetchIdx(p, onBytes)));
  const name = (p) => p.split('/').pop();
  const train = parseIdxPair(ti, tl, { imagesName: name(MNIST.trainImages), labelsName: name(MNIST.trainLabels) });
  const test = parseIdxPair(si, sl, { imagesName: name(MNIST.testImages), labelsName: name(MNIST.testLabels) });
  post({ type: 'progress', loaded: total, total });
  mnist = { train, test };
  return mnist;
}

/** MNIST's 28×28 images at the trainer's size. */
function mnistAt(set) {
  if (image.width === MNIST_SIZE.width && image.height === MNIST_SIZE.height) return set;
  return { pixels: fitToSize(set.pixels, set.count, MNIST_SIZE, image), labels: set.labels, count: set.count };
}

const handlers = {
  async init({ settings, backend, image: size, fineTune }) {
    stopLoop();
    await loop;
    await exclusive(() => dispose());
    const mod = await loadWasm();
    const json = JSON.stringify(settings);
    trainer = await exclusive(() =>
      fineTune ? mod.Trainer.fineTune(fineTune.manifestText, fineTune.weights, json, backend) : mod.Trainer.create(json, size.width, size.height, backend),
    );
    image = { width: trainer.imageWidth, height: trainer.imageHeight };
    chunk = 1;
    lastStats = null;
    probe = null;
    return { backend: String(trainer.backend), latentDim: trainer.latentDim, imageWidth: image.width, imageHeight: image.height };
  },

  async mnist() {
    const { train, test } = await loadMnist();
    return { train: train.count, test: test.count };
  },

  async data({ pixels, labels, count, mnist: useMnist }) {
    const t = needTrainer();
    const parts = [];
    if (useMnist) parts.push(mnistAt((await loadMnist()).train));
    if (count > 0) parts.push({ pixels, labels, count });
    const all = concatDatasets(parts, image.width * image.height);
    await exclusive(() => t.setData(all.pixels, all.labels, all.count));
    return { count: all.count };
  },

  async probe({ pixels, labels, count, mnist: useMnist }) {
    const t = needTrainer();
    const n = image.width * image.height;
    const set = useMnist ? firstImages(mnistAt(firstImages((await loadMnist()).test, PROBE_IMAGES, MNIST_SIZE.width * MNIST_SIZE.height)), PROBE_IMAGES, n) : firstImages({ pixels, labels, count }, PROBE_IMAGES, n);
    if (set.count === 0) throw new Error('There are no images to follow the training with.');
    await exclusive(() => t.setProbe(set.pixels, set.labels, set.count));
    probe = { floats: toFloats(set.pixels), labels: set.labels, count: set.count };
    return { count: set.count, labels: Uint8Array.from(set.labels) };
  },

  async start() {
    needTrainer();
    if (!running) {
      running = true;
      loop = runLoop();
    }
    return { step: lastStats?.step ?? 0 };
  },

  async pause() {
    stopLoop();
    await loop;
    return { step: lastStats?.step ?? 0 };
  },

  async snapshot({ zs, n, map, evaluate, recon }) {
    const t = needTrainer();
    return exclusive(async () => {
      const out = { pixels: own(await t.decode(zs, n)) };
      if (map && probe) {
        const e = plain(await t.encode(probe.floats, probe.count));
        out.mu = Float32Array.from(e.mu);
      }
      if (evaluate && probe) out.eval = plain(await t.evaluate());
      if (recon?.n > 0) {
        const e = plain(await t.encode(recon.pixels, recon.n));
        out.recon = own(await t.decode(Float32Array.from(e.mu), recon.n));
      }
      return out;
    });
  },

  async decode({ zs, n }) {
    const t = needTrainer();
    return { pixels: own(await exclusive(() => t.decode(zs, n))) };
  },

  async export({ name, title }) {
    const t = needTrainer();
    const bundle = await exclusive(() => t.exportBundle(name, title));
    return { manifestText: bundle.manifest, weights: own(bundle.weights) };
  },

  async dispose() {
    stopLoop();
    await loop;
    await exclusive(() => dispose());
    return {};
  },
};

function dispose() {
  try {
    trainer?.free();
  } catch {
    // A trainer whose wasm trapped may refuse even this; the worker's memory goes with it.
  }
  trainer = null;
  probe = null;
}

function stopLoop() {
  running = false;
}

/** A wasm-bindgen Map or object → a plain object that survives postMessage. */
function plain(v) {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

async function runLoop() {
  const t = trainer;
  try {
    while (running && trainer === t) {
      const started = performance.now();
      let before = 0;
      const stats = plain(
        await exclusive(() => {
          before = t.step;
          return t.train(chunk);
        }),
      );
      const ms = performance.now() - started;
      // Aim the next chunk at CHUNK_MS, changing by at most a factor of two at a time.
      const perStep = ms / Math.max(1, stats.step - before);
      chunk = Math.max(1, Math.min(200, Math.round(Math.min(2 * chunk, Math.max(chunk / 2, CHUNK_MS / Math.max(perStep, 0.01))))));
      lastStats = { ...stats, chunkMs: ms };
      post({ type: 'stats', stats: lastStats });
      if (stats.finished) {
        running = false;
        post({ type: 'stopped', reason: 'finished', stats: lastStats });
        return;
      }
      // Lets queued messages (pause, the live view's snapshots) in between chunks.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    post({ type: 'stopped', reason: 'paused', stats: lastStats });
  } catch (err) {
    running = false;
    // Whether the weights of the last good step can still be read, or went with the failure
    // (a lost GPU device fails every read).
    const readable = await exclusive(() => t.decode(new Float32Array(t.latentDim), 1)).then(
      () => true,
      () => false,
    );
    post({ type: 'stopped', reason: 'failed', message: sentence(errorText(err)), readable, stats: lastStats });
  }
}

/** Arrays in a result that can move instead of being copied. */
function transferables(result) {
  return Object.values(result ?? {}).filter((v) => ArrayBuffer.isView(v)).map((v) => v.buffer);
}

self.onmessage = async ({ data }) => {
  const { id, type } = data ?? {};
  const handler = Object.hasOwn(handlers, type) ? handlers[type] : null;
  try {
    if (!handler) throw new Error(`unknown request “${type}”`);
    const result = await handler(data);
    post({ id, ok: true, result }, transferables(result));
  } catch (err) {
    post({ id, ok: false, error: sentence(errorText(err)) });
  }
};
