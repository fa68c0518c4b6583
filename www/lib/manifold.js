// The 2-D manifold (Kingma & Welling's figure): a lattice of z over the latent plane whose
// coordinates are the standard normal's quantiles, so every cell covers the same prior mass.
// Zooming narrows the window of probabilities around a point. No DOM access: tested under Node.

/** Φ(x), the standard normal's CDF (|error| < 1.5e-7). */
export function normalCdf(x) {
  // Abramowitz & Stegun 7.1.26 for erf.
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Φ⁻¹(p) for 0 < p < 1 (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p) {
  if (!(p > 0 && p < 1)) throw new RangeError(`a probability strictly between 0 and 1 was expected, not ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The widest window: the classic figure's 5 % to 95 % on each axis. */
export const FULL = { lo: 0.05, hi: 0.95 };

/**
 * The probabilities of `n` lattice lines across `window` ({lo, hi}), cell centres included at
 * both ends.
 */
export function latticeProbabilities(n, { lo, hi }) {
  return Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1));
}

/**
 * The window `zoom` times narrower than FULL, centred on probability `centre` and kept inside
 * FULL.
 */
export function zoomWindow(zoom, centre = 0.5) {
  const width = (FULL.hi - FULL.lo) / zoom;
  const lo = Math.min(Math.max(centre - width / 2, FULL.lo), FULL.hi - width);
  return { lo, hi: lo + width };
}

/**
 * z for every cell, row-major, rows from the top: x = z₁ grows to the right, y = z₂ upwards (the
 * top row holds the largest z₂). Returns a Float32Array of n² · 2.
 */
export function latticeZ(n, windowX, windowY) {
  const xs = latticeProbabilities(n, windowX).map(normalQuantile);
  const ys = latticeProbabilities(n, windowY).map(normalQuantile).reverse();
  const out = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      out[2 * (r * n + c)] = xs[c];
      out[2 * (r * n + c) + 1] = ys[r];
    }
  }
  return out;
}

/**
 * Where z sits on the lattice's canvas, as fractions of its width and height (cell centres at
 * (k + 0.5) / n), or null when it lies outside the window.
 */
export function markerPosition(z, n, windowX, windowY) {
  const along = (v, { lo, hi }) => {
    const p = normalCdf(v);
    const k = ((p - lo) / (hi - lo)) * (n - 1);
    return (k + 0.5) / n;
  };
  const x = along(z[0], windowX);
  const y = 1 - along(z[1], windowY);
  return x < 0 || x > 1 || y < 0 || y > 1 ? null : { x, y };
}
