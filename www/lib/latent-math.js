// Pure latent-space arithmetic for the page (no DOM; unit-tested under Node).

/** (1 − t)·a + t·b. */
export function lerp(a, b, t) {
  return Float32Array.from(a, (v, i) => v + t * (b[i] - v));
}

/**
 * Spherical interpolation: along the great circle between a and b, with the norm blended
 * linearly. Under N(0, I) almost all mass lies near the sphere of radius √D, and a straight
 * line between two samples cuts through the low-norm interior; slerp stays on the shell.
 */
export function slerp(a, b, t) {
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  if (na < 1e-8 || nb < 1e-8) return lerp(a, b, t);
  let cos = 0;
  for (let i = 0; i < a.length; i++) cos += (a[i] / na) * (b[i] / nb);
  cos = Math.min(1, Math.max(-1, cos));
  const omega = Math.acos(cos);
  if (omega < 1e-6) return lerp(a, b, t);
  const s = Math.sin(omega);
  const wa = Math.sin((1 - t) * omega) / s;
  const wb = Math.sin(t * omega) / s;
  const norm = (1 - t) * na + t * nb;
  return Float32Array.from(a, (v, i) => ((wa * v) / na + (wb * b[i]) / nb) * norm);
}

/** Bilinear blend of four corners: a top-left, b top-right, c bottom-left, d bottom-right. */
export function bilinear(a, b, c, d, u, v) {
  return Float32Array.from(a, (x, i) => (1 - v) * ((1 - u) * x + u * b[i]) + v * ((1 - u) * c[i] + u * d[i]));
}

/** One standard normal sample (Box–Muller); `random` is injectable for tests. */
export function randn(random = Math.random) {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** n samples of z ~ N(0, T²I), flattened `[n, dim]`. */
export function priorSamples(n, dim, temperature, random = Math.random) {
  return Float32Array.from({ length: n * dim }, () => temperature * randn(random));
}

/** n samples of z ~ q(z|x) = N(μ, diag σ²), flattened `[n, dim]`. */
export function posteriorSamples(n, mu, sigma, random = Math.random) {
  const d = mu.length;
  return Float32Array.from({ length: n * d }, (_, k) => mu[k % d] + sigma[k % d] * randn(random));
}

/**
 * Attribute vectors from the bundle's class means: for class c, the direction from the mean of
 * all test encodings (count-weighted) to the mean of class c.
 */
export function classDirections(classes) {
  const total = classes.reduce((s, c) => s + c.count, 0);
  const d = classes[0]?.mean.length ?? 0;
  const overall = new Float64Array(d);
  for (const c of classes) for (let i = 0; i < d; i++) overall[i] += (c.count / total) * c.mean[i];
  return new Map(classes.map((c) => [c.label, Float32Array.from(c.mean, (v, i) => v - overall[i])]));
}

/** a − b + c (latent arithmetic, e.g. "this 7" − "a plain 7" + "a plain 1"). */
export function arithmetic(a, b, c) {
  return Float32Array.from(a, (v, i) => v - b[i] + c[i]);
}

/** z as URL text: comma-separated, 3 decimals. */
export function encodeZ(z) {
  return Array.from(z, (v) => (Math.round(v * 1000) / 1000).toString()).join(',');
}

/** Parses `encodeZ` output; null unless it is exactly `dim` finite numbers. */
export function decodeZ(text, dim) {
  if (typeof text !== 'string') return null;
  const parts = text.split(',');
  if (parts.length !== dim) return null;
  const z = Float32Array.from(parts, Number);
  return parts.every((p) => p.trim() !== '') && z.every(Number.isFinite) ? z : null;
}
