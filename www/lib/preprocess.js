// MNIST-style preprocessing of a drawing, as MNIST itself was made: the digit's bounding box is
// scaled (anti-aliased, aspect ratio kept) so that its longer side fills a 20×20 box, then
// placed in a 28×28 field with its centre of mass at the field's centre. For a model of
// another image size the box scales with the field (20/28 of each side). Pure: no DOM access,
// tested under Node.

import { clamp } from './format.js';
import { DEFAULT_IMAGE } from './image.js';

export const FIELD = DEFAULT_IMAGE.width;
export const BOX = 20;

/** The box the digit is scaled into, for a field of `width × height`. */
export function boxFor({ width, height }) {
  const side = (n) => Math.max(1, Math.round((n * BOX) / FIELD));
  return { width: side(width), height: side(height) };
}

/**
 * @param {ArrayLike<number>} data   ink samples, row-major; e.g. RGBA bytes from getImageData
 * @param {number} width
 * @param {number} height
 * @param {object} [opts]
 * @param {number} [opts.stride=1]     elements per pixel (4 for RGBA)
 * @param {number} [opts.channel=0]    which element holds the ink (3 = alpha in RGBA)
 * @param {number} [opts.scale=1]      value of full ink (255 for bytes, 1 for floats)
 * @param {number} [opts.threshold=0.05] ink fraction below which a pixel does not count for the bounding box
 * @param {{width: number, height: number}} [opts.field] the model's image size (28×28)
 * @returns {Float32Array|null} field width × height values in [0,1] (1 = ink), or null if there is no ink
 */
export function mnistPreprocess(data, width, height, opts = {}) {
  const { stride = 1, channel = 0, scale = 1, threshold = 0.05, field = DEFAULT_IMAGE } = opts;
  if (!(width > 0 && height > 0)) return null;
  if (data.length < width * height * stride) throw new RangeError('data is shorter than width*height*stride');

  // Ink as floats in [0,1], and its bounding box.
  const ink = new Float32Array(width * height);
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  const inv = 1 / scale;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let v = data[(row + x) * stride + channel] * inv;
      v = v > 1 ? 1 : v > 0 ? v : 0;
      ink[row + x] = v;
      if (v > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;

  const box = boxFor(field);
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const s = Math.min(box.width / bw, box.height / bh);
  const ow = Math.min(box.width, Math.max(1, Math.round(bw * s)));
  const oh = Math.min(box.height, Math.max(1, Math.round(bh * s)));

  // Separable area-averaging (box filter with fractional coverage): exact for downscaling.
  const tmp = new Float32Array(ow * bh); // horizontal pass: bh rows of ow
  const wx = coverage(bw, ow);
  for (let y = 0; y < bh; y++) {
    const src = (y0 + y) * width + x0;
    for (let i = 0; i < ow; i++) {
      const { start, weights, norm } = wx[i];
      let acc = 0;
      for (let k = 0; k < weights.length; k++) acc += weights[k] * ink[src + start + k];
      tmp[y * ow + i] = acc * norm;
    }
  }
  const patch = new Float32Array(ow * oh);
  const wy = coverage(bh, oh);
  for (let j = 0; j < oh; j++) {
    const { start, weights, norm } = wy[j];
    for (let i = 0; i < ow; i++) {
      let acc = 0;
      for (let k = 0; k < weights.length; k++) acc += weights[k] * tmp[(start + k) * ow + i];
      patch[j * ow + i] = acc * norm;
    }
  }

  const { x: cx, y: cy, mass } = centreOfMass(patch, ow, oh);
  const fw = field.width;
  const fh = field.height;
  const ox = clamp(Math.round(fw / 2 - (mass > 0 ? cx : ow / 2)), 0, fw - ow);
  const oy = clamp(Math.round(fh / 2 - (mass > 0 ? cy : oh / 2)), 0, fh - oh);

  const out = new Float32Array(fw * fh);
  for (let j = 0; j < oh; j++) {
    for (let i = 0; i < ow; i++) {
      const v = patch[j * ow + i];
      out[(oy + j) * fw + ox + i] = v > 1 ? 1 : v < 0 ? 0 : v;
    }
  }
  return out;
}

/** For each of `n` output cells over `len` input cells: the covered inputs and their coverage. */
function coverage(len, n) {
  const step = len / n;
  const cells = new Array(n);
  for (let i = 0; i < n; i++) {
    const a = i * step;
    const b = Math.min(len, (i + 1) * step);
    const start = Math.floor(a);
    const end = Math.min(len, Math.ceil(b));
    const weights = new Float32Array(Math.max(1, end - start));
    for (let k = start; k < end; k++) {
      weights[k - start] = Math.max(0, Math.min(b, k + 1) - Math.max(a, k));
    }
    cells[i] = { start, weights, norm: 1 / (b - a) };
  }
  return cells;
}

/** Centre of mass of a width × height field (pixel centres at index + 0.5): {x, y, mass}. */
export function centreOfMass(field, width = FIELD, height = width) {
  let m = 0, mx = 0, my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = field[y * width + x];
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  return { x: m ? mx / m : NaN, y: m ? my / m : NaN, mass: m };
}
