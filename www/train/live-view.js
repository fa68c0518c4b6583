// The Training panel's live view: the loss chart, KL per dimension, prior samples and the
// current z decoded by the model in training, the latent map of the fixed probe images (with
// its colour legend), the person's images reconstructed at the start and now, steps per
// second and the epoch's progress. Every picture has its words next to it. Fed by the
// controller with the worker's statistics (every chunk) and snapshots (about once a second).

import { LABEL_KEY, drawKlBars, drawLossChart, drawScatter, scatterBox } from './charts.js';
import { fillLegend } from '../latent-map.js';
import { LossHistory, coordinateVariance, epochText, klSummary, lossSummary, principalPlane, projectPoints, stepsPerSecond } from '../lib/training-view.js';
import { paintImages, sizeCanvas } from '../lib/image.js';
import { priorSamples } from '../lib/latent-math.js';
import { toFloats } from '../lib/training-data.js';

export const PRIOR = { cols: 8, rows: 2 };
const RECON_MAX = 8;

export class LiveView {
  history = new LossHistory();
  #rate = [];
  #frame = 0;
  #plane = null;
  #box = null;
  #active = null;

  constructor(doc) {
    const $ = (id) => doc.getElementById(id);
    this.els = {
      loss: $('train-loss-chart'),
      lossSummary: $('train-loss-summary'),
      kl: $('train-kl-chart'),
      klSummary: $('train-kl-summary'),
      samples: $('train-samples'),
      current: $('train-current'),
      currentCaption: $('train-current-caption'),
      map: $('train-map'),
      mapCaption: $('train-map-caption'),
      mapLegend: $('train-map-legend'),
      recon: $('train-recon'),
      reconFigure: $('train-recon-figure'),
      rate: $('train-rate'),
      epoch: $('train-epoch'),
      epochText: $('train-epoch-text'),
      probeLoss: $('train-probe-loss'),
    };
    // The map's colours in words, from the same table the dots are painted with.
    fillLegend(this.els.mapLegend, LABEL_KEY);
    this.#schedule();
  }

  /**
   * A new run: `latentDim`, `image` (the training's size), the probe's labels, and the
   * person's first images (bytes) whose reconstructions the strip shows.
   */
  reset({ latentDim, image, probeLabels, samples = [], explorerDim = 0 }) {
    Object.assign(this, { latentDim, image, probeLabels, samples: samples.slice(0, RECON_MAX) });
    this.priorZ = priorSamples(PRIOR.cols * PRIOR.rows, latentDim, 1);
    this.history.clear();
    this.#rate = [];
    this.#plane = null;
    this.#box = null;
    this.#active = null;
    this.before = null;
    sizeCanvas(this.els.samples, image, PRIOR.cols, PRIOR.rows);
    sizeCanvas(this.els.current, image);
    this.describeCurrent(explorerDim);
    this.els.reconFigure.hidden = this.samples.length === 0;
    if (this.samples.length) {
      sizeCanvas(this.els.recon, image, this.samples.length, 3);
      this.#paintRecon(null);
    }
    this.els.probeLoss.textContent = '';
    this.#schedule();
  }

  /** Says what the "current z" picture shows when the explorer's latent size is `explorerDim`. */
  describeCurrent(explorerDim) {
    const { latentDim } = this;
    this.els.currentCaption.textContent =
      explorerDim === latentDim ? 'The explorer’s current z, decoded by the model in training.' : `The explorer’s current z (${explorerDim}-D), cut or padded with zeros to ${latentDim} dimensions, decoded by the model in training.`;
  }

  /** The latent vectors a snapshot decodes: the fixed prior samples, then the current z. */
  zs(currentZ) {
    const d = this.latentDim;
    const out = new Float32Array((PRIOR.cols * PRIOR.rows + 1) * d);
    out.set(this.priorZ);
    for (let i = 0; i < d; i++) out[this.priorZ.length + i] = currentZ[i] ?? 0;
    return out;
  }

  /** The person's images as floats, for the worker's reconstructions. */
  reconInput() {
    const n = this.image.width * this.image.height;
    const out = new Float32Array(this.samples.length * n);
    this.samples.forEach((s, i) => out.set(toFloats(s), i * n));
    return { pixels: out, n: this.samples.length };
  }

  onStats(stats) {
    this.stats = stats;
    this.history.push(stats);
    this.#rate.push({ t: performance.now(), step: stats.step });
    while (this.#rate.length > 2 && this.#rate.at(-1).t - this.#rate[0].t > 5000) this.#rate.shift();
    this.#schedule();
  }

  /** Steps per second over the last few seconds (NaN before two reports). */
  get rate() {
    return stepsPerSecond(this.#rate);
  }

  /** A snapshot from the worker: {pixels, mu?, eval?, recon?}. */
  onSnapshot({ pixels, mu, eval: ev, recon }) {
    const { image } = this;
    const n = image.width * image.height;
    const k = PRIOR.cols * PRIOR.rows;
    paintImages(this.els.samples, pixels.subarray(0, k * n), { ...image, ...PRIOR });
    paintImages(this.els.current, pixels.subarray(k * n, (k + 1) * n), image);
    if (mu) this.#paintMap(mu);
    if (recon) {
      if (!this.before) this.before = recon;
      this.#paintRecon(recon);
    }
    if (ev && Number.isFinite(ev.loss)) {
      this.els.probeLoss.textContent = `On the ${Number(ev.images ?? this.probeLabels?.length ?? 0).toLocaleString('en')} probe images: loss ${ev.loss.toFixed(1)} nats (reconstruction ${ev.recon.toFixed(1)} + KL ${ev.kl.toFixed(1)}).`;
    }
  }

  #paintMap(mu) {
    const d = this.latentDim;
    const n = mu.length / d;
    this.#plane = principalPlane(mu, n, d, this.#plane);
    const xy = projectPoints(mu, n, d, this.#plane);
    this.#box = scatterBox(xy, this.#box);
    drawScatter(this.els.map, xy, this.probeLabels, this.#box);
    this.#active = coordinateVariance(mu, n, d).map((v) => v > 0.01);
    const active = this.#active.filter(Boolean).length;
    const pct = (v) => `${Math.round(100 * v)} %`;
    const plane = d <= 2 ? `the whole ${d}-D latent space` : `their two principal components (${pct(this.#plane.explained[0])} and ${pct(this.#plane.explained[1])} of the variance)`;
    this.els.mapCaption.textContent = `The encodings μ of ${n.toLocaleString('en')} fixed images, re-encoded as the model learns, on ${plane}, coloured by label. ${active} of ${d} dimensions are active (μ varies across images).`;
    this.#schedule();
  }

  #paintRecon(now) {
    const { image, samples } = this;
    const n = image.width * image.height;
    const cols = samples.length;
    const all = new Float32Array(3 * cols * n);
    samples.forEach((s, i) => all.set(toFloats(s), i * n));
    if (this.before) all.set(this.before, cols * n);
    if (now) all.set(now, 2 * cols * n);
    paintImages(this.els.recon, all, { ...image, cols, rows: 3 });
  }

  /** Charts are redrawn at most once a frame, however fast the statistics come. */
  #schedule() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#draw();
    });
  }

  #draw() {
    const { els, stats } = this;
    drawLossChart(els.loss, this.history.points);
    els.lossSummary.textContent = lossSummary(this.history);
    const kl = stats?.klPerDim ?? [];
    drawKlBars(els.kl, kl, this.#active);
    els.klSummary.textContent = klSummary(kl);
    const rate = this.rate;
    els.rate.textContent = Number.isFinite(rate) ? `${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} steps per second` : '';
    if (stats?.stepsPerEpoch) {
      els.epoch.max = stats.stepsPerEpoch;
      els.epoch.value = stats.finished ? stats.stepsPerEpoch : stats.stepInEpoch;
      els.epochText.textContent = `${epochText(stats)}: step ${Number(stats.finished ? stats.stepsPerEpoch : stats.stepInEpoch).toLocaleString('en')} of ${stats.stepsPerEpoch.toLocaleString('en')}`;
    }
  }
}
