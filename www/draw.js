// Drawing pad and MNIST-style preprocessing.
//
// The core math (`mnistPreprocess`) is a pure function with no DOM access, so it
// can be tested under Node. It follows how MNIST itself was made: the digit's
// bounding box is scaled (anti-aliased, aspect ratio kept) so that its longer
// side is 20 px, then placed in a 28x28 field with its centre of mass at the
// field's centre (14, 14).

export const FIELD = 28;
export const BOX = 20;

/**
 * @param {ArrayLike<number>} data   ink samples, row-major; e.g. RGBA bytes from getImageData
 * @param {number} width
 * @param {number} height
 * @param {object} [opts]
 * @param {number} [opts.stride=1]     elements per pixel (4 for RGBA)
 * @param {number} [opts.channel=0]    which element holds the ink (3 = alpha in RGBA)
 * @param {number} [opts.scale=1]      value of full ink (255 for bytes, 1 for floats)
 * @param {number} [opts.threshold=0.05] ink fraction below which a pixel does not count for the bounding box
 * @returns {Float32Array|null} 784 values in [0,1] (1 = ink), or null if there is no ink
 */
export function mnistPreprocess(data, width, height, opts = {}) {
  const { stride = 1, channel = 0, scale = 1, threshold = 0.05 } = opts;
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

  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const s = BOX / Math.max(bw, bh);
  const ow = Math.min(BOX, Math.max(1, Math.round(bw * s)));
  const oh = Math.min(BOX, Math.max(1, Math.round(bh * s)));

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

  // Centre of mass (pixel centres at index + 0.5).
  let m = 0, mx = 0, my = 0;
  for (let j = 0; j < oh; j++) {
    for (let i = 0; i < ow; i++) {
      const v = patch[j * ow + i];
      m += v;
      mx += v * (i + 0.5);
      my += v * (j + 0.5);
    }
  }
  const cx = m > 0 ? mx / m : ow / 2;
  const cy = m > 0 ? my / m : oh / 2;
  const ox = clamp(Math.round(FIELD / 2 - cx), 0, FIELD - ow);
  const oy = clamp(Math.round(FIELD / 2 - cy), 0, FIELD - oh);

  const out = new Float32Array(FIELD * FIELD);
  for (let j = 0; j < oh; j++) {
    for (let i = 0; i < ow; i++) {
      const v = patch[j * ow + i];
      out[(oy + j) * FIELD + ox + i] = v > 1 ? 1 : v < 0 ? 0 : v;
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

function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Centre of mass of a 28x28 field (for tests/diagnostics): {x, y, mass}. */
export function centreOfMass(field, size = FIELD) {
  let m = 0, mx = 0, my = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = field[y * size + x];
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  return { x: m ? mx / m : NaN, y: m ? my / m : NaN, mass: m };
}

/** Paint 784 values in [0,1] (1 = white ink on black, like MNIST) into a 28x28 canvas. */
export function paintField(canvas, values, size = FIELD) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(size, size);
  const d = img.data;
  for (let i = 0; i < size * size; i++) {
    let v = values[i];
    v = v > 1 ? 1 : v > 0 ? v : 0; // also maps NaN to 0
    const g = Math.round(v * 255);
    const o = i * 4;
    d[o] = g;
    d[o + 1] = g;
    d[o + 2] = g;
    d[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// ---------------------------------------------------------------- the pad (DOM)

/**
 * A square drawing pad on a <canvas>: white round strokes on a transparent
 * canvas (the page background behind it is black), so alpha = ink.
 * Strokes are kept in normalised coordinates and redrawn on resize or a
 * devicePixelRatio change.
 */
export class DrawingPad {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {object} opts
   * @param {(info: {t: number, drawing: boolean}) => void} [opts.onChange] called on every change (t = event time)
   * @param {(info: {t: number}) => void} [opts.onStrokeEnd]
   * @param {number} [opts.lineWidth=1/12] stroke width as a fraction of the pad size
   */
  constructor(canvas, { onChange = () => {}, onStrokeEnd = () => {}, lineWidth = 1 / 12 } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.onChange = onChange;
    this.onStrokeEnd = onStrokeEnd;
    this.lineWidth = lineWidth;
    this.strokes = []; // arrays of [x, y] in [0,1]
    this.current = null;
    this.pointerId = null;
    this.cssSize = 0;

    canvas.addEventListener('pointerdown', (e) => this.#down(e));
    canvas.addEventListener('pointermove', (e) => this.#move(e));
    canvas.addEventListener('pointerup', (e) => this.#up(e));
    canvas.addEventListener('pointercancel', (e) => this.#up(e));
    canvas.addEventListener('lostpointercapture', (e) => this.#up(e));
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());

    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => this.resize()).observe(canvas);
    }
    this.#watchDpr();
    this.resize();
  }

  get isEmpty() {
    return this.strokes.length === 0;
  }

  clear() {
    this.strokes = [];
    this.current = null;
    this.pointerId = null;
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Ink for mnistPreprocess: RGBA bytes, alpha = ink. */
  ink() {
    const { width, height } = this.canvas;
    const img = this.ctx.getImageData(0, 0, width, height);
    return { data: img.data, width, height, stride: 4, channel: 3, scale: 255 };
  }

  resize() {
    const rect = this.canvas.getBoundingClientRect();
    const css = Math.max(1, Math.round(rect.width));
    const dpr = Math.min(3, globalThis.devicePixelRatio || 1);
    const px = Math.max(1, Math.round(css * dpr));
    if (px === this.canvas.width && px === this.canvas.height && css === this.cssSize) return;
    this.cssSize = css;
    this.canvas.width = px;
    this.canvas.height = px;
    this.#redraw();
  }

  #watchDpr() {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia(`(resolution: ${globalThis.devicePixelRatio || 1}dppx)`);
    mq.addEventListener?.('change', () => {
      this.resize();
      this.#watchDpr();
    }, { once: true });
  }

  #pos(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = (e.clientX - r.left) / (r.width || 1);
    const y = (e.clientY - r.top) / (r.height || 1);
    return [clamp(x, 0, 1), clamp(y, 0, 1)];
  }

  #style() {
    const c = this.ctx;
    const size = this.canvas.width;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.lineWidth = this.lineWidth * size;
    c.strokeStyle = '#fff';
    c.fillStyle = '#fff';
    return size;
  }

  #dot([x, y]) {
    const size = this.#style();
    this.ctx.beginPath();
    this.ctx.arc(x * size, y * size, (this.lineWidth * size) / 2, 0, Math.PI * 2);
    this.ctx.fill();
  }

  #segment(points, from) {
    const size = this.#style();
    const c = this.ctx;
    c.beginPath();
    c.moveTo(points[from - 1][0] * size, points[from - 1][1] * size);
    for (let i = from; i < points.length; i++) c.lineTo(points[i][0] * size, points[i][1] * size);
    c.stroke();
  }

  #redraw() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    for (const s of this.strokes) {
      this.#dot(s[0]);
      if (s.length > 1) this.#segment(s, 1);
    }
  }

  #down(e) {
    if (this.pointerId !== null) return; // one pointer at a time
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    this.pointerId = e.pointerId;
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      /* synthetic events may not be capturable */
    }
    const p = this.#pos(e);
    this.current = [p];
    this.strokes.push(this.current);
    this.#dot(p);
    this.onChange({ t: e.timeStamp, drawing: true });
  }

  #move(e) {
    if (e.pointerId !== this.pointerId || !this.current) return;
    e.preventDefault();
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    const from = this.current.length;
    for (const ev of events.length ? events : [e]) this.current.push(this.#pos(ev));
    this.#segment(this.current, from);
    this.onChange({ t: e.timeStamp, drawing: true });
  }

  #up(e) {
    if (e.pointerId !== this.pointerId) return;
    this.pointerId = null;
    this.current = null;
    this.onStrokeEnd({ t: e.timeStamp });
  }
}
