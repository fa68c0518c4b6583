// Formatting and small number helpers shared by the page's modules. No DOM access: tested
// under plain Node (tests/web-unit.test.mjs).

export const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);

/** Milliseconds for the status line and the latency table: 1 decimal below 10, else whole. */
export function fmtMs(ms) {
  return ms < 10 ? ms.toFixed(1) : ms < 100 ? ms.toFixed(0) : Math.round(ms).toString();
}

/** A signed value with a typographic minus; zero gets a space so columns line up. */
export function fmtSigned(v, digits = 2) {
  const s = Math.abs(v).toFixed(digits);
  if (Number(s) === 0) return ` ${(0).toFixed(digits)}`;
  return (v < 0 ? '−' : '+') + s;
}

/** Like fmtSigned without the plus sign (μ in the posterior readout). */
export function fmtPlain(v, digits = 2) {
  const s = Math.abs(v).toFixed(digits);
  return (v < 0 && Number(s) !== 0 ? '−' : '') + s;
}

/** The words of an error of any shape (Error, string, wasm-bindgen value), without trailing space. */
export function errorText(err) {
  if (err == null) return 'unknown error';
  if (typeof err === 'string') return err;
  const m = err.message ?? String(err);
  return m.replace(/\s+$/, '');
}

/** Text ending in a full stop, so messages can be joined into prose. */
export function sentence(text) {
  const t = String(text).trim();
  return t === '' || /[.!?]$/.test(t) ? t : `${t}.`;
}

/** A sentence starting with a capital letter (for the start of a notice). */
export function capitalised(text) {
  return text ? `${text[0].toUpperCase()}${text.slice(1)}` : text;
}

/** Nearest-rank percentile of a copy (the latency table's p50/p95); NaN when empty. */
export function percentile(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Time of the event that caused a change, on the performance.now() clock. */
export function eventTime(e) {
  const now = performance.now();
  const t = e?.timeStamp;
  return typeof t === 'number' && t > 0 && t <= now && now - t < 10_000 ? t : now;
}
