// The Training panel's numbers, without the DOM: the settings read from the form (refused in
// words), the status line, the loss history and its summary, the KL summary, and the plane
// the live latent map is drawn on. Tested under Node.

/** Network size presets: the hidden layers of the MLP (the decoder mirrors them). */
export const NETWORKS = Object.freeze({
  small: Object.freeze([256, 128]),
  medium: Object.freeze([512, 256]),
  large: Object.freeze([1024, 512]),
});

export const MAX_LATENT = 32;

const group = (n) => Math.round(n).toLocaleString('en');

/**
 * The form's values (strings or numbers) → the trainer's settings; an Error naming every field
 * that is out of range.
 */
export function readSettings(form) {
  const problems = [];
  const num = (key, label, { min, max, integer = false }) => {
    const text = String(form[key] ?? '').trim();
    const v = Number(text);
    if (text === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      problems.push(`${label} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
      return NaN;
    }
    return v;
  };
  const settings = {
    latent_dim: num('latent', 'the latent size', { min: 1, max: MAX_LATENT, integer: true }),
    hidden: [...(NETWORKS[form.network] ?? NETWORKS.medium)],
    epochs: num('epochs', 'epochs', { min: 1, max: 1000, integer: true }),
    batch_size: num('batchSize', 'the batch size', { min: 1, max: 1024, integer: true }),
    learning_rate: num('learningRate', 'the learning rate', { min: 1e-6, max: 1 }),
    lr_schedule: form.schedule === 'constant' ? 'constant' : 'cosine',
    beta: num('beta', 'β', { min: 0, max: 100 }),
    warmup_epochs: num('warmup', 'the KL warm-up', { min: 0, max: 1000, integer: true }),
    seed: num('seed', 'the seed', { min: 0, max: 2 ** 32 - 1, integer: true }),
  };
  if (problems.length) {
    const list = problems.join('; ');
    throw new Error(`Check the settings: ${list[0].toUpperCase()}${list.slice(1)}.`);
  }
  return settings;
}

/** "step 1,200 · loss 152.3 nats", the words the panel's status line is built on. */
export function stepText(stats) {
  if (!stats) return '';
  const loss = Number.isFinite(stats.loss) ? ` · loss ${stats.loss.toFixed(1)} nats` : '';
  return `step ${group(stats.step)}${loss}`;
}

/** The epoch in words: "epoch 3 of 10" (the trainer counts epochs from 1). */
export function epochText(stats) {
  if (!stats?.epochs) return '';
  return `epoch ${Math.max(1, Math.min(stats.epoch, stats.epochs))} of ${stats.epochs}`;
}

/**
 * The losses over steps, one point per chunk of steps the worker reports (the means over that
 * chunk). Bounded: past `limit` points, neighbours are merged and later points are averaged
 * over as many reports, so every point of a long run stands for the same number of steps.
 * `first` and `last` are the reports themselves, never averaged.
 */
export class LossHistory {
  #points = [];
  #pending = null;
  #stride = 1;
  first = null;
  last = null;

  constructor(limit = 1200) {
    this.limit = limit;
  }

  push({ step, loss, recon, kl }) {
    if (![loss, recon, kl].every(Number.isFinite)) return;
    const p = { step, loss, recon, kl };
    this.first ??= p;
    this.last = p;
    const acc = (this.#pending ??= { n: 0, step, loss: 0, recon: 0, kl: 0 });
    acc.n++;
    acc.step = step;
    acc.loss += loss;
    acc.recon += recon;
    acc.kl += kl;
    if (acc.n < this.#stride) return;
    this.#points.push(mean(acc));
    this.#pending = null;
    if (this.#points.length > this.limit) {
      const merged = [];
      for (let i = 0; i + 1 < this.#points.length; i += 2) {
        const a = this.#points[i];
        const b = this.#points[i + 1];
        merged.push({ step: b.step, loss: (a.loss + b.loss) / 2, recon: (a.recon + b.recon) / 2, kl: (a.kl + b.kl) / 2 });
      }
      // An odd point out goes on collecting reports until it stands for as many as the rest.
      if (this.#points.length % 2) {
        const { step: at, loss: l, recon: r, kl: k } = this.#points.at(-1);
        const n = this.#stride;
        this.#pending = { n, step: at, loss: l * n, recon: r * n, kl: k * n };
      }
      this.#points = merged;
      this.#stride *= 2;
    }
  }

  /** The points to plot, the newest (partly averaged) one included. */
  get points() {
    return this.#pending ? [...this.#points, mean(this.#pending)] : this.#points;
  }

  clear() {
    this.#points = [];
    this.#pending = null;
    this.#stride = 1;
    this.first = null;
    this.last = null;
  }
}

function mean({ n, step, loss, recon, kl }) {
  return { step, loss: loss / n, recon: recon / n, kl: kl / n };
}

/** The loss chart in words (its accessible description, and what the tests read). */
export function lossSummary(history) {
  const { first, last } = history;
  if (!last) return 'No training steps yet.';
  const now = `Loss ${last.loss.toFixed(1)} nats at step ${group(last.step)} (reconstruction ${last.recon.toFixed(1)} + KL ${last.kl.toFixed(1)})`;
  if (first === last) return `${now}.`;
  return `${now}; it was ${first.loss.toFixed(1)} nats at step ${group(first.step)}.`;
}

/**
 * KL per latent dimension in words: how many carry information (more than `threshold` nats)
 * and the largest few.
 */
export function klSummary(klPerDim, threshold = 0.05) {
  if (!klPerDim?.length) return '';
  const d = klPerDim.length;
  const active = klPerDim.filter((v) => v > threshold).length;
  const top = klPerDim
    .map((v, i) => [v, i])
    .sort((a, b) => b[0] - a[0])
    .slice(0, 4)
    .map(([v, i]) => `z${i + 1} ${v.toFixed(2)}`);
  return `KL per dimension: ${active} of ${d} dimension${d === 1 ? '' : 's'} above ${threshold} nats; largest ${top.join(', ')} nats.`;
}

/** Mean and the two leading principal axes of n points of `dim` values (power iteration). */
export function principalPlane(values, n, dim, previous = null) {
  const mean = new Float64Array(dim);
  for (let k = 0; k < n; k++) for (let i = 0; i < dim; i++) mean[i] += values[k * dim + i] / n;
  if (dim <= 2) {
    const axes = [0, 1].map((j) => Float64Array.from({ length: dim }, (_, i) => (i === j ? 1 : 0)));
    return { mean: new Float64Array(dim), axes, explained: [1, dim === 2 ? 1 : 0] };
  }
  const cov = new Float64Array(dim * dim);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < dim; i++) {
      const a = values[k * dim + i] - mean[i];
      for (let j = i; j < dim; j++) cov[i * dim + j] += (a * (values[k * dim + j] - mean[j])) / n;
    }
  }
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) cov[i * dim + j] = cov[j * dim + i];
  let total = 0;
  for (let i = 0; i < dim; i++) total += cov[i * dim + i];
  const axes = [];
  const variances = [];
  for (let c = 0; c < 2; c++) {
    // Start from the previous axis, so the picture turns smoothly between refreshes.
    let v = previous?.axes?.[c]?.length === dim ? Float64Array.from(previous.axes[c]) : Float64Array.from({ length: dim }, (_, i) => (i === c ? 1 : 0.01 * (i + 1)));
    let lambda = 0;
    for (let it = 0; it < 100; it++) {
      for (const u of axes) orthogonalise(v, u);
      const w = new Float64Array(dim);
      for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) w[i] += cov[i * dim + j] * v[j];
      for (const u of axes) orthogonalise(w, u);
      const norm = Math.hypot(...w);
      if (norm < 1e-12) break;
      for (let i = 0; i < dim; i++) w[i] /= norm;
      const done = Math.abs(Math.abs(dot(w, v)) - 1) < 1e-10;
      v = w;
      lambda = norm;
      if (done) break;
    }
    if (Math.hypot(...v) < 1e-12) v = Float64Array.from({ length: dim }, (_, i) => (i === c ? 1 : 0));
    // An eigenvector's sign is arbitrary: keep the one closest to the last picture.
    if (previous?.axes?.[c]?.length === dim && dot(v, previous.axes[c]) < 0) for (let i = 0; i < dim; i++) v[i] = -v[i];
    axes.push(v);
    variances.push(lambda);
  }
  return { mean, axes, explained: variances.map((l) => (total > 0 ? l / total : 0)) };
}

/** Plane coordinates of n points: [x0, y0, x1, y1, …]. */
export function projectPoints(values, n, dim, { mean, axes }) {
  const out = new Float32Array(2 * n);
  for (let k = 0; k < n; k++) {
    let x = 0;
    let y = 0;
    for (let i = 0; i < dim; i++) {
      const d = values[k * dim + i] - mean[i];
      x += d * axes[0][i];
      y += d * (axes[1][i] ?? 0);
    }
    out[2 * k] = x;
    out[2 * k + 1] = y;
  }
  return out;
}

/** Variance of each latent coordinate over the points (a dimension is "active" above 0.01). */
export function coordinateVariance(values, n, dim) {
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < dim; i++) {
      const v = values[k * dim + i];
      mean[i] += v / n;
      sq[i] += (v * v) / n;
    }
  }
  return Array.from(mean, (m, i) => Math.max(0, sq[i] - m * m));
}

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function orthogonalise(v, u) {
  const p = dot(v, u);
  for (let i = 0; i < v.length; i++) v[i] -= p * u[i];
}

/** Steps per second over a window of recent reports [{t (ms), step}]. */
export function stepsPerSecond(samples) {
  if (samples.length < 2) return NaN;
  const a = samples[0];
  const b = samples.at(-1);
  return b.t > a.t ? ((b.step - a.step) * 1000) / (b.t - a.t) : NaN;
}

/** A file-safe bundle name and a title for a model trained here. */
export function bundleNaming({ latentDim, hidden, step, sources, fineTunedFrom }, date = new Date()) {
  const pad = (v) => String(v).padStart(2, '0');
  const stamp = `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  const name = `trained-${latentDim}d-${stamp}`;
  const base = fineTunedFrom ? `fine-tuned from ${fineTunedFrom}` : `MLP ${hidden.join('–')}`;
  const title = `Trained in the browser: ${latentDim}-D latent, ${base}, ${group(step)} steps on ${sources}`;
  return { name, title };
}
