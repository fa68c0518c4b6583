// Latent traversals: for every dimension a strip of images decoded with that one coordinate
// swept across its slider range and the others held at the current z. All strips come from
// one batched decode. Click a strip image (or focus a strip, pick with ←/→, press Enter) to
// jump there.

export const STEPS = 9;

export class Traversals {
  /**
   * @param {HTMLElement} container  where the strips go
   * @param {{onPick: (dim: number, value: number, timeStamp: number) => void, size?: number}} options
   */
  constructor(container, { onPick, size = 28 }) {
    this.container = container;
    this.onPick = onPick;
    this.size = size;
    this.strips = [];
    this.ranges = [];
    this.z = null;
  }

  /** One strip per dimension; `names[i]` labels it, `inactive[i]` greys it. */
  setModel(ranges, inactive) {
    this.ranges = ranges;
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
      canvas.width = STEPS * this.size;
      canvas.height = this.size;
      canvas.className = 'strip-canvas';
      canvas.tabIndex = 0;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute(
        'aria-label',
        `Traversal of latent dimension ${i + 1}: ${STEPS} images from ${lo.toFixed(1)} to ${hi.toFixed(1)}`,
      );
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

  /** The batch to decode for z: `[dims × STEPS, latentDim]`, row-major. */
  batchFor(z) {
    const d = z.length;
    const out = new Float32Array(d * STEPS * d);
    for (let i = 0; i < d; i++) {
      for (let k = 0; k < STEPS; k++) {
        const o = (i * STEPS + k) * d;
        out.set(z, o);
        out[o + i] = this.strips[i].values[k];
      }
    }
    return out;
  }

  /** Paints the result of decoding `batchFor(z)`. */
  paint(z, pixels) {
    this.z = Float32Array.from(z);
    const px = this.size * this.size;
    for (const strip of this.strips) {
      strip.pixels = pixels.subarray(strip.dim * STEPS * px, (strip.dim + 1) * STEPS * px);
      this.#frame(strip);
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
    const s = this.size;
    const ctx = strip.canvas.getContext('2d');
    const img = ctx.createImageData(STEPS * s, s);
    const d = img.data;
    for (let k = 0; k < STEPS; k++) {
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          let v = strip.pixels[k * s * s + y * s + x];
          v = v > 1 ? 1 : v > 0 ? v : 0;
          const g = Math.round(v * 255);
          const o = (y * STEPS * s + k * s + x) * 4;
          d[o] = g;
          d[o + 1] = g;
          d[o + 2] = g;
          d[o + 3] = 255;
        }
      }
    }
    ctx.putImageData(img, 0, 0);
    // Where the current z sits along this dimension (red), and the keyboard cursor (blue).
    const [lo, hi] = this.ranges[strip.dim];
    if (this.z) {
      const x = ((this.z[strip.dim] - lo) / (hi - lo)) * (STEPS - 1) * s + s / 2;
      ctx.fillStyle = '#e11d48';
      ctx.fillRect(Math.round(Math.min(Math.max(x, 1), STEPS * s - 1)) - 1, s - 3, 2, 3);
    }
    if (strip.cursor >= 0) {
      ctx.strokeStyle = '#3b82f6';
      ctx.lineWidth = 2;
      ctx.strokeRect(strip.cursor * s + 1, 1, s - 2, s - 2);
    }
  }
}

function linspace(lo, hi, n) {
  return Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1));
}
