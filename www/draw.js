// The drawing pad (DOM). What the encoder sees of a drawing is made by lib/preprocess.js.

import { clamp } from './lib/format.js';

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
