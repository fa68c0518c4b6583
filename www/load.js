// The one load path, for the page, the browser tests, scripts/measure.mjs and the decoder
// benchmark: load a wasm module → fetch models/index.json → pick an entry → fetch its manifest
// and weights (size cap, progress, errors in words) → Explorer.create. No DOM access beyond
// fetch and dynamic import.
//
//   const { openModel } = await import('/load.js');
//   const { explorer, manifest } = await openModel({ backend: 'cpu' });

import { errorText, sentence } from './lib/format.js';
import { Backend } from './lib/backends.js';
import { readAll } from './lib/streams.js';

/**
 * Two builds of the same API: the CPU-only module (a tenth of the download) paints first; the
 * one with WebGPU (and the CPU backend too) is loaded for ?backend=webgpu, and under auto
 * after the first image, to be measured against the CPU.
 */
export const MODULES = Object.freeze({ [Backend.CPU]: 'pkg/vae_explorer_cpu.js', [Backend.WEBGPU]: 'pkg/vae_explorer.js' });

/** The wasm refuses bigger weights too; stopping the download here saves the memory. */
export const MAX_WEIGHTS_BYTES = 512 * 2 ** 20;

const here = () => globalThis.document?.baseURI ?? globalThis.location?.href;

const modules = new Map();
const wasmMemories = [];

/** Bytes of every wasm memory started so far (it grows but never shrinks: its peak). */
export function wasmMemoryBytes() {
  return wasmMemories.reduce((sum, m) => sum + (m?.buffer?.byteLength ?? 0), 0);
}

/** The wasm module of `kind` (Backend.CPU or Backend.WEBGPU), loaded and started once. */
export function loadModule(kind, base = here()) {
  const url = new URL(MODULES[kind], base).href;
  if (!modules.has(url)) {
    const promise = startModule(url);
    promise.catch(() => {}); // reported where it is awaited
    modules.set(url, promise);
  }
  return modules.get(url);
}

async function startModule(href) {
  const { pathname } = new URL(href);
  let mod;
  try {
    mod = await import(href);
  } catch (err) {
    throw new Error(`Could not load the WebAssembly module (${pathname}): ${sentence(errorText(err))} Has it been built with “make wasm”?`);
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

/** fetch() whose failures say in words what could not be downloaded. */
export async function fetchOk(url, what, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new Error(`Could not download ${what} (${url.pathname}): ${errorText(err)}`);
  }
  if (!res.ok) throw new Error(`Could not download ${what} (${url.pathname}): the server answered ${res.status} ${res.statusText}`.trim());
  return res;
}

/** A download as bytes, refused past MAX_WEIGHTS_BYTES; `onProgress(bytes)` while it streams. */
export async function fetchBytes(url, what, onProgress, init) {
  const res = await fetchOk(url, what, init);
  const tooBig = () => new Error(`${what} (${url.pathname}) are larger than ${MAX_WEIGHTS_BYTES / 2 ** 20} MB: not a model this explorer can load.`);
  if (Number(res.headers.get('content-length')) > MAX_WEIGHTS_BYTES) throw tooBig();
  if (!res.body || !onProgress) return new Uint8Array(await res.arrayBuffer());
  return readAll(res.body, (_, total) => {
    if (total > MAX_WEIGHTS_BYTES) throw tooBig();
    onProgress(total);
  });
}

/** The model list: index entries with a name and a path; an error in words if there are none. */
export async function fetchIndex(url, init) {
  const index = await (await fetchOk(url, 'the model list', init)).json().catch((err) => {
    throw new Error(`The model list (${url.pathname}) is not valid JSON: ${errorText(err)}`);
  });
  const models = Array.isArray(index?.models) ? index.models.filter((m) => m && m.name && m.path) : [];
  if (models.length === 0) throw new Error(`The model list (${url.pathname}) names no models.`);
  return models;
}

/** The directory of an index entry's bundle. */
export function bundleBase(entry, indexUrl) {
  return new URL(entry.path.endsWith('/') ? entry.path : `${entry.path}/`, indexUrl);
}

/**
 * Downloads a bundle: manifest.json and the weights (named "weights.bpk" by the contract, so
 * both start at once). `onManifest(parsed)` runs as soon as the manifest is read; what it
 * returns is awaited alongside the weights and comes back as `extra`.
 * @returns {Promise<{manifest: object, manifestText: string, weights: Uint8Array, extra: any}>}
 */
export async function fetchBundle(base, { onProgress, onManifest = () => null, cache } = {}) {
  const init = cache ? { cache } : undefined;
  const manifestUrl = new URL('manifest.json', base);
  const defaultWeightsUrl = new URL('weights.bpk', base);
  const weightsPromise = fetchBytes(defaultWeightsUrl, 'the model weights', onProgress, init);
  weightsPromise.catch(() => {});
  const manifestText = await (await fetchOk(manifestUrl, 'the model manifest', init)).text();
  let manifest;
  try {
    manifest = JSON.parse(manifestText);
  } catch (err) {
    throw new Error(`The model manifest (${manifestUrl.pathname}) is not valid JSON: ${errorText(err)}`);
  }
  const weightsUrl = new URL(manifest.weights || 'weights.bpk', base);
  const [extra, weights] = await Promise.all([
    onManifest(manifest),
    weightsUrl.href === defaultWeightsUrl.href ? weightsPromise : fetchBytes(weightsUrl, 'the model weights', onProgress, init),
  ]);
  return { manifest, manifestText, weights, extra };
}

/**
 * The whole sequence short of starting an explorer: the `module` build (Backend.CPU or
 * Backend.WEBGPU) and the bundle of the index entry named `model` (default: the first), or of
 * the bundle directory `path`. For starting one bundle on several backends.
 */
export async function openBundle({ module = Backend.CPU, model, path, index = 'models/index.json', cache, base = here() } = {}) {
  const init = cache ? { cache } : undefined;
  let entry = null;
  let dir;
  if (path) {
    dir = new URL(path.endsWith('/') ? path : `${path}/`, base);
  } else {
    const indexUrl = new URL(index, base);
    const models = await fetchIndex(indexUrl, init);
    entry = model ? models.find((m) => m.name === model) : models[0];
    if (!entry) throw new Error(`There is no model named “${model}”.`);
    dir = bundleBase(entry, indexUrl);
  }
  const [mod, bundle] = await Promise.all([loadModule(module, base), fetchBundle(dir, { cache })]);
  return { module: mod, entry, base: dir.href, manifest: bundle.manifest, manifestText: bundle.manifestText, weights: bundle.weights };
}

/** Starts a downloaded bundle ({manifestText, weights}) on `backend` with the wasm module `mod`. */
export function startExplorer(mod, bundle, backend) {
  return mod.Explorer.create(bundle.manifestText, bundle.weights, backend);
}

/**
 * Everything in one call (tests, measurements, the benchmark): openBundle, then an explorer
 * on `backend` from the `module` build (default: the build named like the backend).
 */
export async function openModel({ backend = Backend.CPU, module = backend, ...where } = {}) {
  const opened = await openBundle({ module, ...where });
  const explorer = await startExplorer(opened.module, opened, backend);
  return { explorer, ...opened };
}
