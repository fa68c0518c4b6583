// A grid of decoded images on one canvas (cells of the model's image size), for interpolation
// strips, palettes and sample grids. Click a cell, or focus the grid and move with the arrow keys and press Enter,
// to pick it.

import { DEFAULT_IMAGE, paintImages } from './lib/image.js';

export class ImageGrid {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{cols: number, rows: number, label: string, onPick?: (index: number, timeStamp: number) => void, image?: {width: number, height: number}}} options
   */
  constructor(canvas, { cols, rows, label, onPick = () => {}, image = DEFAULT_IMAGE }) {
    this.canvas = canvas;
    this.image = image;
    this.onPick = onPick;
    this.cursor = -1;
    this.pixels = null;
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', label);
    canvas.classList.add('image-grid');
    this.resize(cols, rows);
    canvas.addEventListener('click', (e) => {
      const r = canvas.getBoundingClientRect();
      const col = Math.min(this.cols - 1, Math.floor(((e.clientX - r.left) / r.width) * this.cols));
      const row = Math.min(this.rows - 1, Math.floor(((e.clientY - r.top) / r.height) * this.rows));
      if (this.pixels) this.onPick(row * this.cols + col, e.timeStamp);
    });
    canvas.addEventListener('keydown', (e) => {
      const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -this.cols, ArrowDown: this.cols };
      if (e.key in moves) {
        e.preventDefault();
        const n = this.cols * this.rows;
        this.cursor = Math.min(n - 1, Math.max(0, (this.cursor < 0 ? 0 : this.cursor + moves[e.key])));
        this.#draw();
      } else if ((e.key === 'Enter' || e.key === ' ') && this.cursor >= 0 && this.pixels) {
        e.preventDefault();
        this.onPick(this.cursor, e.timeStamp);
      }
    });
    canvas.addEventListener('blur', () => {
      this.cursor = -1;
      this.#draw();
    });
  }

  /** A model with another image size: cells of `image`; the grid is blank until painted. */
  setImage(image) {
    if (image.width === this.image.width && image.height === this.image.height) return;
    this.image = image;
    this.resize(this.cols, this.rows);
  }

  resize(cols, rows) {
    this.cols = cols;
    this.rows = rows;
    this.canvas.width = cols * this.image.width;
    this.canvas.height = rows * this.image.height;
    this.pixels = null;
    this.#draw();
  }

  /** `pixels`: cols·rows images, row-major, each width × height values in [0, 1]. */
  paint(pixels) {
    this.pixels = pixels;
    this.#draw();
  }

  #draw() {
    const { cols, rows } = this;
    const { width: w, height: h } = this.image;
    if (!this.pixels) {
      const ctx = this.canvas.getContext('2d');
      ctx.fillStyle = '#222';
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      return;
    }
    const ctx = paintImages(this.canvas, this.pixels, { width: w, height: h, cols, rows });
    if (this.cursor >= 0) {
      ctx.strokeStyle = '#3b82f6';
      ctx.lineWidth = 2;
      ctx.strokeRect((this.cursor % cols) * w + 1, Math.floor(this.cursor / cols) * h + 1, w - 2, h - 2);
    }
  }
}
