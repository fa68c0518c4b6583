// The latent map: test-set encodings μ (precomputed into the bundle by `vae map`) drawn on a
// plane through latent space, coloured by class. A point (x, y) of the plane is
// z = origin + x·a + y·b with orthonormal a, b. Picking a point moves the current z within the
// plane and keeps its component orthogonal to it, so for "two chosen dimensions" only those
// two change. Pointer (mouse, touch, pen) and keyboard (arrows; Shift for bigger steps).

/** Ten colours that stay distinct for common colour-vision deficiencies (Okabe–Ito + 2). */
export const CLASS_COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000', '#999999', '#8c564b'];

/** The colour of a class's dots. */
export const classColour = (label) => CLASS_COLOURS[label % CLASS_COLOURS.length];

/**
 * Fills a legend (a <ul class="map-legend">): one item per entry {text, colour}, its words
 * after a swatch of its colour, so that no class is told by colour alone.
 */
export function fillLegend(list, entries) {
  list.replaceChildren(...entries.map(({ text, colour }) => {
    const li = list.ownerDocument.createElement('li');
    li.style.setProperty('--swatch', colour);
    li.textContent = text;
    return li;
  }));
}

const dot = (u, v) => {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * v[i];
  return s;
};

export class LatentMap {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{onPick: (z: Float32Array, timeStamp: number) => void}} options
   */
  constructor(canvas, { onPick }) {
    this.canvas = canvas;
    this.onPick = onPick;
    this.map = null;
    this.z = null;
    this.posterior = null;
    this.regions = null;
    this.dragging = false;
    this.frame = 0;
    canvas.addEventListener('pointerdown', (e) => this.#pointer(e, true));
    canvas.addEventListener('pointermove', (e) => this.dragging && this.#pointer(e, false));
    const end = (e) => {
      if (!this.dragging) return;
      this.dragging = false;
      canvas.releasePointerCapture?.(e.pointerId);
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener('keydown', (e) => this.#key(e));
  }

  /** `map` from the manifest (or null: the panel says there is none). */
  setModel(map, latentDim, ranges) {
    this.map = null;
    this.z = new Float32Array(latentDim);
    this.posterior = null;
    this.regions = null;
    if (map && Array.isArray(map.points) && map.axes?.[0]?.length === latentDim) {
      const origin = Float32Array.from(map.origin);
      const axes = map.axes.map((a) => Float32Array.from(a));
      // Extent: the 2-D model shows the slider box itself (an exact map of its latent space);
      // a projection shows where the data is, plus a margin.
      let box;
      if (map.projection === 'latent' && ranges.length === 2) {
        box = [ranges[0][0], ranges[0][1], ranges[1][0], ranges[1][1]];
      } else {
        const xs = map.points.map((p) => p[0]).sort((a, b) => a - b);
        const ys = map.points.map((p) => p[1]).sort((a, b) => a - b);
        const q = (v, f) => v[Math.round((v.length - 1) * f)] ?? 0;
        const mx = Math.max(0.5, 0.15 * (q(xs, 0.995) - q(xs, 0.005)));
        const my = Math.max(0.5, 0.15 * (q(ys, 0.995) - q(ys, 0.005)));
        box = [q(xs, 0.005) - mx, q(xs, 0.995) + mx, q(ys, 0.005) - my, q(ys, 0.995) + my];
      }
      this.map = { ...map, origin, axes, box };
    }
    this.#draw();
  }

  /** Plane coordinates of a latent vector. */
  project(v) {
    const { origin, axes } = this.map;
    const d = v.map((x, i) => x - origin[i]);
    return [dot(d, axes[0]), dot(d, axes[1])];
  }

  setZ(z) {
    this.z = Float32Array.from(z);
    this.#schedule();
  }

  /**
   * A background under the dots: `regions` {cols, rows, rgba} is one RGBA pixel per cell of
   * a grid over the map's box (rows from the top), or null for none.
   */
  setRegions(regions) {
    if (regions === this.regions) return;
    this.regions = regions;
    this.#schedule();
  }

  /** `posterior`: {mu, sigma} of a drawing, or null. */
  setPosterior(posterior) {
    this.posterior = posterior;
    this.#schedule();
  }

  #schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.#draw();
    });
  }

  #toCanvas([x, y]) {
    const { width, height } = this.canvas;
    const [x0, x1, y0, y1] = this.map.box;
    return [((x - x0) / (x1 - x0)) * width, height - ((y - y0) / (y1 - y0)) * height];
  }

  #fromCanvas(px, py) {
    const { width, height } = this.canvas;
    const [x0, x1, y0, y1] = this.map.box;
    return [x0 + (px / width) * (x1 - x0), y0 + ((height - py) / height) * (y1 - y0)];
  }

  /** Move z so that its projection is (x, y), keeping the part orthogonal to the plane. */
  #moveTo(x, y, timeStamp) {
    const [cx, cy] = this.project(this.z);
    const { axes } = this.map;
    const next = this.z.map((v, i) => v + (x - cx) * axes[0][i] + (y - cy) * axes[1][i]);
    this.setZ(next);
    this.onPick(next, timeStamp);
  }

  #pointer(e, down) {
    if (!this.map) return;
    if (down) {
      if (e.button !== 0) return;
      this.dragging = true;
      this.canvas.setPointerCapture?.(e.pointerId);
      this.canvas.focus({ preventScroll: true });
    }
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    const px = ((e.clientX - r.left) / r.width) * this.canvas.width;
    const py = ((e.clientY - r.top) / r.height) * this.canvas.height;
    const [x, y] = this.#fromCanvas(px, py);
    this.#moveTo(x, y, e.timeStamp);
  }

  #key(e) {
    if (!this.map) return;
    const dirs = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    const d = dirs[e.key];
    if (!d) return;
    e.preventDefault();
    const [x0, x1, y0, y1] = this.map.box;
    const step = e.shiftKey ? 0.1 : 0.02;
    const [cx, cy] = this.project(this.z);
    this.#moveTo(cx + d[0] * step * (x1 - x0), cy + d[1] * step * (y1 - y0), e.timeStamp);
  }

  /**
   * The background, axes and scatter of encodings: thousands of rectangles that only change
   * with the model, so they are drawn once into a second canvas and copied on every frame
   * (redrawing them per frame was most of the page's script time while dragging).
   */
  #scatter() {
    const { width, height } = this.canvas;
    const key = `${width}x${height}`;
    if (this.layer?.map === this.map && this.layer.regions === this.regions && this.layer.key === key) return this.layer.canvas;
    const canvas = this.layer?.canvas ?? document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    if (this.map && this.regions) this.#drawRegions(ctx);
    if (this.map) this.#drawScatter(ctx);
    this.layer = { map: this.map, regions: this.regions, key, canvas };
    return canvas;
  }

  #draw() {
    const ctx = this.canvas.getContext('2d');
    ctx.drawImage(this.#scatter(), 0, 0);
    if (!this.map) return;
    if (this.posterior) this.#drawPosterior(ctx);
    if (this.z) this.#drawZ(ctx);
  }

  /** The regions' cells scaled up to the canvas, smoothed so that borders blend rather than step. */
  #drawRegions(ctx) {
    const { cols, rows, rgba } = this.regions;
    const cells = document.createElement('canvas');
    cells.width = cols;
    cells.height = rows;
    cells.getContext('2d').putImageData(new ImageData(rgba, cols, rows), 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(cells, 0, 0, this.canvas.width, this.canvas.height);
  }

  #drawScatter(ctx) {
    const { width, height } = this.canvas;
    // Axes through the origin of the plane.
    ctx.strokeStyle = '#ddd';
    ctx.lineWidth = 1;
    const [ox, oy] = this.#toCanvas([0, 0]);
    ctx.beginPath();
    ctx.moveTo(0, oy);
    ctx.lineTo(width, oy);
    ctx.moveTo(ox, 0);
    ctx.lineTo(ox, height);
    ctx.stroke();
    ctx.globalAlpha = 0.55;
    for (const [x, y, label] of this.map.points) {
      const [px, py] = this.#toCanvas([x, y]);
      ctx.fillStyle = classColour(label);
      ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
    }
    ctx.globalAlpha = 1;
  }

  /** The current z: a red cross-hair ringed in white. */
  #drawZ(ctx) {
    const [px, py] = this.#toCanvas(this.project(this.z));
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = '#fff';
    ctx.beginPath();
    ctx.arc(px, py, 7, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = '#c00';
    ctx.beginPath();
    ctx.arc(px, py, 7, 0, 2 * Math.PI);
    ctx.moveTo(px - 11, py);
    ctx.lineTo(px + 11, py);
    ctx.moveTo(px, py - 11);
    ctx.lineTo(px, py + 11);
    ctx.stroke();
  }

  /** The 1σ ellipse of q(z|x) projected onto the plane: covariance A diag(σ²) Aᵀ. */
  #drawPosterior(ctx) {
    const { mu, sigma } = this.posterior;
    const [a, b] = this.map.axes;
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    for (let i = 0; i < sigma.length; i++) {
      const v = sigma[i] * sigma[i];
      sxx += a[i] * a[i] * v;
      sxy += a[i] * b[i] * v;
      syy += b[i] * b[i] * v;
    }
    const [cx, cy] = this.project(Float32Array.from(mu));
    const t = Math.atan2(2 * sxy, sxx - syy) / 2;
    const c = Math.cos(t);
    const s = Math.sin(t);
    const l1 = Math.sqrt(Math.max(0, c * c * sxx + 2 * c * s * sxy + s * s * syy));
    const l2 = Math.sqrt(Math.max(0, s * s * sxx - 2 * c * s * sxy + c * c * syy));
    ctx.beginPath();
    for (let k = 0; k <= 48; k++) {
      const u = (2 * Math.PI * k) / 48;
      const x = cx + l1 * Math.cos(u) * c - l2 * Math.sin(u) * s;
      const y = cy + l1 * Math.cos(u) * s + l2 * Math.sin(u) * c;
      const [px, py] = this.#toCanvas([x, y]);
      if (k === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
    ctx.fillStyle = 'rgba(0, 90, 200, 0.15)';
    ctx.fill();
    ctx.strokeStyle = '#005ac8';
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}
