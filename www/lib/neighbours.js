// The nearest-neighbours panel's arithmetic and words: where a bundle's test images are (or
// why there are none), the k encodings closest to z, and the sentences that describe them.
// Pure: no DOM access, tested under Node.

import { NO_LABEL } from './training-data.js';

/** The choices of k the panel offers; the default. */
export const K_CHOICES = Object.freeze([8, 16, 24]);
export const DEFAULT_K = 16;

/**
 * Where a model's neighbour images and labels are: {images, labels} (URLs, labels may be
 * null) and the count the manifest promises; or {reason} in words when it has none.
 */
export function neighbourSource(model) {
  if (!model) return { reason: 'No model is loaded yet.' };
  const section = model.manifest?.neighbours;
  if (!model.base) {
    return { reason: 'This model was trained in this browser or opened from a file: no test images come with it, so there are no neighbours to show.' };
  }
  if (!section || typeof section !== 'object' || typeof section.images !== 'string' || section.images === '') {
    return { reason: 'This model’s bundle has no test images (its manifest has no “neighbours” section), so there are no neighbours to show.' };
  }
  const at = (name) => new URL(name, model.base);
  return {
    images: at(section.images),
    labels: typeof section.labels === 'string' && section.labels !== '' ? at(section.labels) : null,
    count: Number.isInteger(section.count) && section.count > 0 ? section.count : null,
  };
}

/**
 * The k rows of `mus` (n × dim, flat) closest to `z` in Euclidean distance, nearest first
 * (ties: lower index first): [{index, distance}]. One pass keeping a sorted list of k.
 */
export function nearest(mus, dim, z, k) {
  const n = Math.floor(mus.length / dim);
  k = Math.min(k, n);
  if (!(k > 0)) return [];
  const best = []; // [squared distance, index], ascending
  let worst = Infinity;
  for (let i = 0, o = 0; i < n; i++, o += dim) {
    let d2 = 0;
    for (let j = 0; j < dim; j++) {
      const t = mus[o + j] - z[j];
      d2 += t * t;
      if (d2 >= worst) break; // cannot enter the list (equal loses to the lower index)
    }
    if (d2 >= worst || Number.isNaN(d2)) continue;
    let at = best.length;
    while (at > 0 && best[at - 1][0] > d2) at--;
    best.splice(at, 0, [d2, i]);
    if (best.length > k) best.pop();
    if (best.length === k) worst = best[k - 1][0];
  }
  return best.map(([d2, index]) => ({ index, distance: Math.sqrt(d2) }));
}

/** A distance as the panel shows it. */
export const fmtDistance = (d) => d.toFixed(2);

/** "a 7", "an 8", or "an unlabelled image". */
export function aLabel(label) {
  if (label === NO_LABEL || label == null) return 'an unlabelled image';
  return `${label === 8 || label === 11 || label === 18 ? 'an' : 'a'} ${label}`;
}

/** The text under a neighbour's image: "7 · 0.84". */
export function shortText(label, distance) {
  return `${label === NO_LABEL || label == null ? '?' : label} · ${fmtDistance(distance)}`;
}

/**
 * A neighbour button's accessible name: images are numbered from 1, as a person counts; the
 * label and distance follow each other as in the visible text, so that what is seen is what a
 * speech user says (WCAG 2.5.3).
 */
export function neighbourName(index, label, distance) {
  return `Test image ${(index + 1).toLocaleString('en')}, ${aLabel(label)}, ${fmtDistance(distance)} away: move z to its encoding`;
}

const plural = (label) => `${label}s`;
const countOf = (count, label) => (count === 1 ? `1 is ${aLabel(label)}` : `${count} are ${plural(label)}`);

/**
 * The labels among the neighbours in one sentence, most frequent first: "All 8 nearest are
 * 7s.", "6 of the 8 nearest are 7s, 1 is a 4 and 1 is a 9." Unlabelled images are left out.
 */
export function labelSummary(labels) {
  const n = labels.length;
  if (n === 0) return '';
  const counts = new Map();
  for (const l of labels) if (l !== NO_LABEL && l != null) counts.set(l, (counts.get(l) ?? 0) + 1);
  if (counts.size === 0) return `None of the ${n} nearest has a label.`;
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const [[top, topCount], ...rest] = sorted;
  if (topCount === n) return n === 1 ? `The nearest is ${aLabel(top)}.` : `All ${n} nearest are ${plural(top)}.`;
  const first = topCount === 1 ? `1 of the ${n} nearest is ${aLabel(top)}` : `${topCount} of the ${n} nearest are ${plural(top)}`;
  const parts = [first, ...rest.map(([l, c]) => countOf(c, l))];
  return `${parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0]}.`;
}

/** Progress while the test images are encoded: "encoding 4,000 of 10,000 test images…". */
export function encodingProgress(done, total) {
  return `Encoding ${done.toLocaleString('en')} of ${total.toLocaleString('en')} test images with this model…`;
}
