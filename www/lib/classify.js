// The bundle's digit classifier as the page reads it: the top class of a row of probabilities
// and its sentence ("looks like a 7 · 92 %"), and for the latent map's class regions the grid
// of plane points, their latent vectors and the tint of each cell. No DOM access: tested under
// Node (tests/classify.test.mjs).

/** The classifier's batch limit (the wasm refuses more images per call). */
export const MAX_BATCH = 4096;

/** Cells per side of the class-regions grid: smooth enough once scaled up, cheap to decode. */
export const REGION_CELLS = 48;

/** The most likely class of row `row` of `probs` (rows of `classes.length` values). */
export function topClass(probs, classes, row = 0) {
  const k = classes.length;
  let best = 0;
  for (let j = 1; j < k; j++) if (probs[row * k + j] > probs[row * k + best]) best = j;
  return { index: best, label: String(classes[best]), p: probs[row * k + best] };
}

/** "a 7", "an 8", "an ankle boot": the article English gives the class name. */
export function withArticle(label) {
  const text = String(label);
  return /^(8|11(?!\d)|18(?!\d)|[aeio])/i.test(text) ? `an ${text}` : `a ${text}`;
}

/** Whole percent of a probability, never past the ends: 0.996 is "100 %", 0.004 is "0 %". */
export const percent = (p) => Math.min(100, Math.max(0, Math.round(100 * p)));

/** The readout: "looks like a 7 · 92 %". */
export function reading({ label, p }) {
  return `looks like ${withArticle(label)} · ${percent(p)} %`;
}

/**
 * Centres of a `cols × rows` grid over the box [x0, x1, y0, y1] of the plane, row by row from
 * the top (largest y) and left to right, as canvas pixels run: n × 2 values (x, y).
 */
export function gridPoints([x0, x1, y0, y1], cols = REGION_CELLS, rows = cols) {
  const out = new Float32Array(cols * rows * 2);
  for (let r = 0; r < rows; r++) {
    const y = y1 - ((r + 0.5) / rows) * (y1 - y0);
    for (let c = 0; c < cols; c++) {
      const k = 2 * (r * cols + c);
      out[k] = x0 + ((c + 0.5) / cols) * (x1 - x0);
      out[k + 1] = y;
    }
  }
  return out;
}

/** The latent vectors of plane points (x, y): z = origin + x·a + y·b, laid end to end. */
export function planeLatents(points, origin, [a, b]) {
  const dim = origin.length;
  const n = points.length / 2;
  const zs = new Float32Array(n * dim);
  for (let k = 0; k < n; k++) {
    const x = points[2 * k];
    const y = points[2 * k + 1];
    for (let i = 0; i < dim; i++) zs[k * dim + i] = origin[i] + x * a[i] + y * b[i];
  }
  return zs;
}

/**
 * How strongly a cell is tinted: paler where the classifier is unsure. The palest tint of a
 * colour stays apart from the strongest of any other (black at its palest is darker than the
 * grey class at its strongest), so a cell's class can be read back from the map.
 */
export const TINT = { min: 0.16, max: 0.34 };
export function tintAlpha(p) {
  const t = Math.min(1, Math.max(0, (p - 0.4) / 0.55));
  return TINT.min + (TINT.max - TINT.min) * t;
}

/** "#rrggbb" as [r, g, b]. */
export function hexRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** A colour at `alpha` over white, as the map shows a tinted cell: [r, g, b]. */
export function tintOverWhite(hex, alpha) {
  return hexRgb(hex).map((c) => Math.round(255 + alpha * (c - 255)));
}

/**
 * The class regions as RGBA pixels, one per cell (row-major, like gridPoints): each cell in
 * the colour of its top class (`colourOf(index)`), its alpha from tintAlpha.
 */
export function regionPixels(probs, classes, colourOf) {
  const k = classes.length;
  const n = probs.length / k;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const top = topClass(probs, classes, i);
    const [r, g, b] = hexRgb(colourOf(top.index));
    out.set([r, g, b, Math.round(255 * tintAlpha(top.p))], 4 * i);
  }
  return out;
}
