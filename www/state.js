// What the page shows, in one place: the current model, z, the anchors, the drawing's
// posterior and the view options. Panels change it through these methods and redraw on its
// events; none of them keeps its own copy. No DOM access: tested under Node.
//
// Events: 'models' (the index), 'selected' (the entry the first load shows), 'preview' (a
// manifest before its model starts), 'failed' (no model could be loaded), 'model',
// 'z' {t, source, dim}, 'posterior', 'anchors', 'view' (changed keys), 'drawing', 'classifier'.

import { Emitter } from './lib/emitter.js';
import { clamp } from './lib/format.js';
import { imageSize } from './lib/image.js';
import { randn } from './lib/latent-math.js';

/** Slider range of one dimension from the manifest, rounded outwards to the 0.01 step. */
export function sliderRange(info) {
  let lo = Number(info?.slider_min);
  let hi = Number(info?.slider_max);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    lo = -3;
    hi = 3;
  }
  // Outwards to the step, so that the step grid contains 0 and round values.
  return [Math.floor(lo * 100 + 1e-9) / 100, Math.ceil(hi * 100 - 1e-9) / 100];
}

/** A started model as the page uses it: entry, manifest, latent size, ranges, image size. */
export function describeLatents(entry, manifest, latentDim) {
  const info = (i) => manifest.latent?.[i] ?? {};
  const dims = [...Array(latentDim).keys()];
  return {
    entry,
    manifest,
    latentDim,
    image: imageSize(manifest),
    ranges: dims.map((i) => sliderRange(info(i))),
    inactive: dims.map((i) => info(i).active === false),
    kl: dims.map((i) => Number(info(i).kl_nats) || 0),
  };
}

/** Dimension order for the sliders and the strips: by number, or by KL (largest first). */
export function dimensionOrder(model, order) {
  const dims = [...Array(model.latentDim).keys()];
  if (order === 'kl') dims.sort((a, b) => model.kl[b] - model.kl[a] || a - b);
  return dims;
}

/** z = 0, inside each slider's range. */
export function originZ(model) {
  return Float32Array.from(model.ranges, ([lo, hi]) => clamp(0, lo, hi));
}

/** Default anchors: the mean encodings of 0, 1, 7 and 8 (or prior samples without class means). */
export function defaultAnchors(model, random = Math.random) {
  const classes = model.manifest.map?.classes ?? [];
  const pick = [0, 1, 7, 8].map((l) => classes.find((c) => c.label === l)).filter(Boolean);
  if (pick.length === 4) return pick.map((c) => Float32Array.from(c.mean));
  return [0, 1, 2, 3].map(() => Float32Array.from({ length: model.latentDim }, () => randn(random)));
}

export class State extends Emitter {
  /** The model list from models/index.json. */
  models = [];
  /** See describeLatents; null until a model has started. */
  model = null;
  /** The current latent vector (one array, changed in place). */
  z = new Float32Array(0);
  /** Anchors A–D for the interpolation panel. */
  anchors = [];
  /** The drawing's posterior {mu, sigma}, or null. */
  posterior = null;
  /** The drawing as the encoder saw it: {pixels ([0, 1] floats), width, height}, or null. */
  drawing = null;
  /** How the dimensions are shown: most informative first, inactive ones collapsed; class regions on the map or not. */
  view = { order: 'kl', inactive: 'hidden', interp: 'linear', temperature: 1, regions: false };
  /**
   * The current model's digit classifier ({model, classes, classify(images, n)}: see
   * panels/classifier.js), or null while there is none; then `noClassifier` says why.
   */
  classifier = null;
  noClassifier = '';

  get latentDim() {
    return this.model?.latentDim ?? 0;
  }

  /** Dimension order of the current model under the current view. */
  get order() {
    return this.model ? dimensionOrder(this.model, this.view.order) : [];
  }

  setModels(models) {
    this.models = models;
    this.emit('models', models);
  }

  /** Makes `model` the page's model with z and the anchors given; the posterior is forgotten. */
  setModel(model, { z = originZ(model), anchors = defaultAnchors(model) } = {}) {
    this.model = model;
    this.z = Float32Array.from(z);
    this.anchors = anchors.map((v) => Float32Array.from(v));
    this.posterior = null;
    this.emit('model', model);
  }

  /** Moves z; `source` names who moved it (panels skip their own echo), `t` when the input happened. */
  setZ(values, { t = performance.now(), source = '' } = {}) {
    this.z.set(values);
    this.emit('z', { t, source, dim: -1 });
  }

  /** Moves one coordinate of z (a slider). */
  setDim(dim, value, { t = performance.now(), source = '' } = {}) {
    this.z[dim] = value;
    this.emit('z', { t, source, dim });
  }

  setPosterior(posterior) {
    this.posterior = posterior;
    this.emit('posterior', posterior);
  }

  setDrawing(drawing) {
    this.drawing = drawing;
    this.emit('drawing', drawing);
  }

  setClassifier(classifier, why = '') {
    this.classifier = classifier;
    this.noClassifier = classifier ? '' : why;
    this.emit('classifier', classifier);
  }

  setAnchor(k, v) {
    this.anchors[k] = Float32Array.from(v);
    this.emit('anchors', this.anchors);
  }

  /** Changes view options ({order, inactive, interp, temperature, regions}); emits the keys that changed. */
  setView(patch) {
    const changed = Object.keys(patch).filter((k) => this.view[k] !== patch[k]);
    Object.assign(this.view, patch);
    if (changed.length) this.emit('view', changed);
  }
}
