// A grid of decoded images on one canvas (28×28 cells), for interpolation strips, palettes and
// sample grids. Click a cell, or focus the grid and move with the arrow keys and press Enter,
// to pick it.

export class ImageGrid {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{cols: number, rows: number, label: string, onPick?: (index: number, timeStamp: number) => void, size?: number}} options
   */
  constructor(canvas, { cols, rows, label, onPick = () => {}, size = 28 }) {
    this.canvas = canvas;
    this.size = size;
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

  resize(cols, rows) {
    this.cols = cols;
    this.rows = rows;
    this.canvas.width = cols * this.size;
    this.canvas.height = rows * this.size;
    this.pixels = null;
    this.#draw();
  }

  /** `pixels`: cols·rows images, row-major, each size² values in [0, 1]. */
  paint(pixels) {
    this.pixels = pixels;
    this.#draw();
  }

  #draw() {
    const { size: s, cols, rows } = this;
    const ctx = this.canvas.getContext('2d');
    if (!this.pixels) {
      ctx.fillStyle = '#222';
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      return;
    }
    const img = ctx.createImageData(cols * s, rows * s);
    const d = img.data;
    for (let cell = 0; cell < cols * rows; cell++) {
      const cx = (cell % cols) * s;
      const cy = Math.floor(cell / cols) * s;
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          let v = this.pixels[cell * s * s + y * s + x];
          v = v > 1 ? 1 : v > 0 ? v : 0;
          const g = Math.round(v * 255);
          const o = ((cy + y) * cols * s + cx + x) * 4;
          d[o] = g;
          d[o + 1] = g;
          d[o + 2] = g;
          d[o + 3] = 255;
        }
      }
    }
    ctx.putImageData(img, 0, 0);
    if (this.cursor >= 0) {
      ctx.strokeStyle = '#3b82f6';
      ctx.lineWidth = 2;
      ctx.strokeRect((this.cursor % cols) * s + 1, Math.floor(this.cursor / cols) * s + 1, s - 2, s - 2);
    }
  }
}
