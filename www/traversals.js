// Latent traversals: for every dimension a strip of images decoded with that one coordinate
// swept across its slider range and the others held at the current z. All strips come from
// one batched decode. Click a strip image (or focus a strip, pick with ←/→, press Enter) to
// jump there.

import { DEFAULT_IMAGE, paintImages } from './lib/image.js';
import { fmtSigned } from './lib/format.js';

export const STEPS = 9;

export class Traversals {
  /**
   * @param {HTMLElement} container  where the strips go
   * @param {{onPick: (dim: number, value: number, timeStamp: number) => void}} options
   */
  constructor(container, { onPick }) {
    this.container = container;
    this.onPick = onPick;
    this.image = DEFAULT_IMAGE;
    this.strips = [];
    this.ranges = [];
    this.z = null;
  }

  /** One strip per dimension of `image`-sized pictures; `inactive[i]` greys strip i. */
  setModel(ranges, inactive, image = DEFAULT_IMAGE) {
    this.ranges = ranges;
    this.image = image;
    this.container.replaceChildren();
    this.strips = ranges.map(([lo, hi], i) => {
      const row = document.createElement('div');
      row.className = inactive[i] ? 'strip inactive' : 'strip';
      row.dataset.dim = String(i);
      const label = document.createElement('span');
      label.className = 'strip-label';
      label.textContent = String(i + 1);
      label.setAttribute('aria-hidden', 'true');
      const canvas = document.createElement('canvas');
      canvas.width = STEPS * image.width;
      canvas.height = image.height;
      canvas.className = 'strip-canvas';
      canvas.tabIndex = 0;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', stripLabel(i, lo, hi));
      const strip = { row, canvas, dim: i, values: linspace(lo, hi, STEPS), cursor: -1 };
      canvas.addEventListener('click', (e) => {
        const r = canvas.getBoundingClientRect();
        const k = Math.min(STEPS - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * STEPS)));
        this.onPick(i, strip.values[k], e.timeStamp);
      });
      canvas.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
          e.preventDefault();
          const start = strip.cursor >= 0 ? strip.cursor : this.#nearest(strip);
          strip.cursor = Math.min(STEPS - 1, Math.max(0, start + (e.key === 'ArrowRight' ? 1 : -1)));
          this.#frame(strip);
        } else if ((e.key === 'Enter' || e.key === ' ') && strip.cursor >= 0) {
          e.preventDefault();
          this.onPick(i, strip.values[strip.cursor], e.timeStamp);
        }
      });
      canvas.addEventListener('blur', () => {
        strip.cursor = -1;
        this.#frame(strip);
      });
      row.append(label, canvas);
      this.container.append(row);
      strip.pixels = null;
      return strip;
    });
  }

  /** Shows rows in `order` (dimension indices). */
  setOrder(order) {
    for (const i of order) this.container.append(this.strips[i].row);
  }

  /** Shows the strips of the dimensions with `visible[i]` and hides the others. */
  setVisible(visible) {
    for (const strip of this.strips) strip.row.hidden = !visible[strip.dim];
  }

  /** The strips on show in their order, painted without the markers, as fresh canvases. */
  plainCanvases(doc = document) {
    const { width: w, height: h } = this.image;
    return [...this.container.children]
      .map((row) => this.strips[Number(row.dataset.dim)])
      .filter((strip) => !strip.row.hidden && strip.pixels)
      .map((strip) => {
        const c = doc.createElement('canvas');
        c.width = STEPS * w;
        c.height = h;
        paintImages(c, strip.pixels, { width: w, height: h, cols: STEPS });
        return c;
      });
  }

  /** The batch to decode for z (see traversalBatch). */
  batchFor(z) {
    return traversalBatch(z, this.ranges);
  }

  /** Paints the result of decoding `batchFor(z)`; each strip's name says where z sits on it. */
  paint(z, pixels) {
    this.z = Float32Array.from(z);
    const px = this.image.width * this.image.height;
    for (const strip of this.strips) {
      strip.pixels = pixels.subarray(strip.dim * STEPS * px, (strip.dim + 1) * STEPS * px);
      this.#frame(strip);
      const [lo, hi] = this.ranges[strip.dim];
      strip.canvas.setAttribute('aria-label', stripLabel(strip.dim, lo, hi, this.z[strip.dim]));
    }
  }

  #nearest(strip) {
    const v = this.z ? this.z[strip.dim] : 0;
    let best = 0;
    for (let k = 1; k < STEPS; k++) if (Math.abs(strip.values[k] - v) < Math.abs(strip.values[best] - v)) best = k;
    return best;
  }

  #frame(strip) {
    if (!strip.pixels) return;
    const { width: w, height: h } = this.image;
    const ctx = paintImages(strip.canvas, strip.pixels, { width: w, height: h, cols: STEPS });
    // Where the current z sits along this dimension (red), and the keyboard cursor (blue).
    const [lo, hi] = this.ranges[strip.dim];
    if (this.z) {
      const x = ((this.z[strip.dim] - lo) / (hi - lo)) * (STEPS - 1) * w + w / 2;
      ctx.fillStyle = '#e11d48';
      ctx.fillRect(Math.round(Math.min(Math.max(x, 1), STEPS * w - 1)) - 1, h - 3, 2, 3);
    }
    if (strip.cursor >= 0) {
      ctx.strokeStyle = '#3b82f6';
      ctx.lineWidth = 2;
      ctx.strokeRect(strip.cursor * w + 1, 1, w - 2, h - 2);
    }
  }
}

/**
 * The images every strip shows for z, as one batch `[dims × STEPS, latentDim]`, row-major:
 * strip i sweeps dimension i across `ranges[i]` with the rest of z held. Pure (the auto
 * backend choice times this batch too).
 */
export function traversalBatch(z, ranges) {
  const d = z.length;
  const out = new Float32Array(d * STEPS * d);
  for (let i = 0; i < d; i++) {
    const values = linspace(ranges[i][0], ranges[i][1], STEPS);
    for (let k = 0; k < STEPS; k++) {
      const o = (i * STEPS + k) * d;
      out.set(z, o);
      out[o + i] = values[k];
    }
  }
  return out;
}

/** A strip's accessible name: the dimension, its range and, once painted, the current value. */
export function stripLabel(dim, lo, hi, value) {
  const at = value === undefined ? '' : `; the current value, ${fmtSigned(value).trim()}, is marked`;
  return `Traversal of latent dimension ${dim + 1}: ${STEPS} images from ${lo.toFixed(1)} to ${hi.toFixed(1)}${at}`;
}

function linspace(lo, hi, n) {
  return Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1));
}
