// The Training panel's drawings on canvases: the loss chart (−ELBO and its reconstruction
// part on one scale, KL on its own below), KL per latent dimension as bars, and the live
// latent map as a scatter coloured by label. Each has a text summary next to it in the page;
// these only paint.

import { classColour } from '../latent-map.js';
import { NO_LABEL } from '../lib/training-data.js';

export const COLOURS = Object.freeze({ elbo: '#16191d', recon: '#2456c7', kl: '#d55e00', grid: '#e3e6eb', text: '#525a66', inactive: '#b8bec8', unlabelled: '#777' });

/** The colour of a training image's dot on the live latent map: its digit's, or grey. */
export const labelColour = (label) => (label === NO_LABEL ? COLOURS.unlabelled : classColour(label));

/** The live latent map's legend: the digits 0–9 in the explorer's colours, then "no label". */
export const LABEL_KEY = Object.freeze([
  ...Array.from({ length: 10 }, (_, label) => ({ text: String(label), colour: labelColour(label) })),
  { text: 'no label', colour: labelColour(NO_LABEL) },
]);

/** A canvas sized to its CSS box at the device's pixel ratio; returns its context and CSS size. */
function prepare(canvas) {
  const dpr = Math.min(3, globalThis.devicePixelRatio || 1);
  const w = Math.max(1, Math.round(canvas.clientWidth || canvas.width));
  const h = Math.max(1, Math.round(canvas.clientHeight || canvas.height));
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = '11px system-ui, sans-serif';
  return { ctx, w, h };
}

/** A round number of about the right size for axis ticks. */
function niceStep(range, ticks) {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

function axis(ctx, { x0, x1, y0, y1, max, label, ticks = 4 }) {
  const step = niceStep(max || 1, ticks);
  ctx.strokeStyle = COLOURS.grid;
  ctx.fillStyle = COLOURS.text;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let v = 0; v <= max + 1e-9; v += step) {
    const y = y1 - (v / max) * (y1 - y0);
    ctx.beginPath();
    ctx.moveTo(x0, y);
    ctx.lineTo(x1, y);
    ctx.stroke();
    ctx.fillText(v >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3))), x0 - 4, y);
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(label, x0 + 4, y0);
}

function line(ctx, points, key, colour, sx, sy) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(sx(p.step), sy(p[key])) : ctx.moveTo(sx(p.step), sy(p[key]))));
  ctx.stroke();
}

/** points: [{step, recon, kl}] → −ELBO = recon + KL and recon on top, KL below. */
export function drawLossChart(canvas, points) {
  const { ctx, w, h } = prepare(canvas);
  const left = 40;
  const right = w - 8;
  const split = Math.round(h * 0.66);
  if (!points.length) {
    ctx.fillStyle = COLOURS.text;
    ctx.fillText('The loss appears here once training starts.', left, 16);
    return;
  }
  const elbo = points.map((p) => ({ step: p.step, elbo: p.recon + p.kl, recon: p.recon, kl: p.kl }));
  const last = points.at(-1).step;
  const first = Math.min(0, points[0].step);
  const sx = (s) => left + ((s - first) / Math.max(1, last - first)) * (right - left);
  const topMax = Math.max(...elbo.map((p) => p.elbo)) * 1.05 || 1;
  const klMax = Math.max(...elbo.map((p) => p.kl)) * 1.1 || 1;
  axis(ctx, { x0: left, x1: right, y0: 6, y1: split - 6, max: topMax, label: 'nats per image' });
  axis(ctx, { x0: left, x1: right, y0: split + 8, y1: h - 18, max: klMax, label: 'KL', ticks: 2 });
  line(ctx, elbo, 'recon', COLOURS.recon, sx, (v) => split - 6 - (v / topMax) * (split - 12));
  line(ctx, elbo, 'elbo', COLOURS.elbo, sx, (v) => split - 6 - (v / topMax) * (split - 12));
  line(ctx, elbo, 'kl', COLOURS.kl, sx, (v) => h - 18 - (v / klMax) * (h - 26 - split));
  ctx.fillStyle = COLOURS.text;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'bottom';
  ctx.fillText(`step ${last.toLocaleString('en')}`, right, h);
}

/** KL of each latent dimension (nats) as bars; `active` flags colour the collapsed ones grey. */
export function drawKlBars(canvas, kl, active = null) {
  const { ctx, w, h } = prepare(canvas);
  if (!kl?.length) return;
  const left = 34;
  const bottom = h - 14;
  const max = Math.max(0.5, ...kl) * 1.1;
  axis(ctx, { x0: left, x1: w - 4, y0: 4, y1: bottom, max, label: '' });
  const slot = (w - 4 - left) / kl.length;
  const bw = Math.max(1, Math.min(24, slot * 0.7));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  kl.forEach((v, i) => {
    const x = left + slot * i + (slot - bw) / 2;
    const y = bottom - (Math.max(0, v) / max) * (bottom - 4);
    ctx.fillStyle = active && !active[i] ? COLOURS.inactive : COLOURS.kl;
    ctx.fillRect(x, y, bw, bottom - y);
    if (kl.length <= 16 || i % 4 === 0) {
      ctx.fillStyle = COLOURS.text;
      ctx.fillText(String(i + 1), x + bw / 2, bottom + 2);
    }
  });
}

/**
 * Points [x0, y0, x1, y1, …] with their labels (NO_LABEL: grey), coloured as LABEL_KEY says;
 * `box` [x0, x1, y0, y1] is the plane's extent.
 */
export function drawScatter(canvas, xy, labels, box) {
  const { ctx, w, h } = prepare(canvas);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const [x0, x1, y0, y1] = box;
  const px = (x) => ((x - x0) / (x1 - x0)) * w;
  const py = (y) => h - ((y - y0) / (y1 - y0)) * h;
  ctx.strokeStyle = COLOURS.grid;
  ctx.beginPath();
  ctx.moveTo(px(0), 0);
  ctx.lineTo(px(0), h);
  ctx.moveTo(0, py(0));
  ctx.lineTo(w, py(0));
  ctx.stroke();
  ctx.globalAlpha = 0.7;
  for (let k = 0; k < xy.length / 2; k++) {
    ctx.fillStyle = labelColour(labels?.[k] ?? NO_LABEL);
    ctx.fillRect(px(xy[2 * k]) - 2, py(xy[2 * k + 1]) - 2, 4, 4);
  }
  ctx.globalAlpha = 1;
}

/** The extent of a scatter: central 98 % of the points plus a margin, eased towards the last. */
export function scatterBox(xy, previous = null, ease = 0.5) {
  const n = xy.length / 2;
  if (!n) return previous ?? [-3, 3, -3, 3];
  const xs = Float32Array.from({ length: n }, (_, k) => xy[2 * k]).sort();
  const ys = Float32Array.from({ length: n }, (_, k) => xy[2 * k + 1]).sort();
  const q = (v, f) => v[Math.min(v.length - 1, Math.max(0, Math.round((v.length - 1) * f)))];
  const span = (v) => Math.max(0.5, q(v, 0.99) - q(v, 0.01));
  const box = [q(xs, 0.01) - 0.15 * span(xs), q(xs, 0.99) + 0.15 * span(xs), q(ys, 0.01) - 0.15 * span(ys), q(ys, 0.99) + 0.15 * span(ys)];
  if (!previous || !box.every(Number.isFinite)) return box.every(Number.isFinite) ? box : previous ?? [-3, 3, -3, 3];
  return box.map((v, i) => previous[i] + ease * (v - previous[i]));
}
