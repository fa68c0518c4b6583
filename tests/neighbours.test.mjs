// lib/neighbours.js under Node: where a bundle's test images are (or why there are none), the
// k nearest encodings against a brute-force search, and the sentences under the images.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aLabel, encodingProgress, labelSummary, nearest, neighbourName, neighbourSource, shortText } from '../www/lib/neighbours.js';

/** A reproducible pseudo-random generator (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bruteForce(mus, dim, z, k) {
  const all = [];
  for (let i = 0; i < mus.length / dim; i++) {
    let d2 = 0;
    for (let j = 0; j < dim; j++) d2 += (mus[i * dim + j] - z[j]) ** 2;
    all.push({ index: i, distance: Math.sqrt(d2) });
  }
  return all.sort((a, b) => a.distance - b.distance || a.index - b.index).slice(0, k);
}

test('nearest: the same indices and distances as sorting every distance', () => {
  const r = rng(7);
  for (const [n, dim, k] of [[1000, 32, 16], [500, 2, 8], [30, 5, 24], [3, 4, 8]]) {
    const mus = Float32Array.from({ length: n * dim }, () => 4 * r() - 2);
    for (let t = 0; t < 5; t++) {
      const z = Float32Array.from({ length: dim }, () => 4 * r() - 2);
      assert.deepEqual(nearest(mus, dim, z, k), bruteForce(mus, dim, z, k), `n ${n}, dim ${dim}, k ${k}`);
    }
  }
});

test('nearest: a row equal to z comes first at distance 0; ties go to the lower index; k = 0 or no rows give none', () => {
  const mus = Float32Array.from([1, 1, 0, 0, 3, 4, 0, 0, -3, -4]);
  assert.deepEqual(nearest(mus, 2, [3, 4], 2), [{ index: 2, distance: 0 }, { index: 0, distance: Math.sqrt(13) }]);
  assert.deepEqual(nearest(mus, 2, [0, 0], 3), [{ index: 1, distance: 0 }, { index: 3, distance: 0 }, { index: 0, distance: Math.SQRT2 }]);
  assert.deepEqual(nearest(mus, 2, [0, 0], 0), []);
  assert.deepEqual(nearest(new Float32Array(0), 2, [0, 0], 8), []);
  // A row with a NaN never enters.
  assert.deepEqual(nearest(Float32Array.from([NaN, 0, 5, 5]), 2, [0, 0], 2).map((f) => f.index), [1]);
});

test('neighbourSource: the files next to the bundle, or why there are none', () => {
  const manifest = { neighbours: { images: 'neighbours-images.idx', labels: 'neighbours-labels.idx', count: 10000 } };
  const s = neighbourSource({ base: 'http://127.0.0.1:8080/models/mnist-mlp-32/', manifest });
  assert.equal(s.images.href, 'http://127.0.0.1:8080/models/mnist-mlp-32/neighbours-images.idx');
  assert.equal(s.labels.href, 'http://127.0.0.1:8080/models/mnist-mlp-32/neighbours-labels.idx');
  assert.equal(s.count, 10000);
  assert.equal(neighbourSource({ base: 'http://x/m/', manifest: { neighbours: { images: 'i.idx' } } }).labels, null);
  assert.match(neighbourSource({ base: null, manifest }).reason, /trained in this browser or opened from a file/);
  assert.match(neighbourSource({ base: 'http://x/m/', manifest: {} }).reason, /no “neighbours” section/);
  assert.match(neighbourSource({ base: 'http://x/m/', manifest: { neighbours: { images: '' } } }).reason, /no test images/);
  assert.match(neighbourSource(null).reason, /No model/);
});

test('the words: labels with their article, distances to 2 decimals, images numbered from 1', () => {
  assert.equal(aLabel(7), 'a 7');
  assert.equal(aLabel(8), 'an 8');
  assert.equal(aLabel(255), 'an unlabelled image');
  assert.equal(shortText(7, 0.8412), '7 · 0.84');
  assert.equal(shortText(255, 1), '? · 1.00');
  assert.equal(neighbourName(122, 7, 0.8412), 'Test image 123, a 7, 0.84 away: move z to its encoding');
  assert.equal(neighbourName(9999, 8, 0), 'Test image 10,000, an 8, 0.00 away: move z to its encoding');
  assert.equal(encodingProgress(4000, 10000), 'Encoding 4,000 of 10,000 test images with this model…');
});

test('labelSummary: the most frequent label first, counts that add up', () => {
  assert.equal(labelSummary([7, 7, 7, 7, 7, 7, 7, 7]), 'All 8 nearest are 7s.');
  assert.equal(labelSummary([7, 7, 9, 7, 7, 4, 7, 7]), '6 of the 8 nearest are 7s, 1 is a 4 and 1 is a 9.', 'equal counts: the lower digit first');
  assert.equal(labelSummary([1, 8, 8, 1, 8]), '3 of the 5 nearest are 8s and 2 are 1s.');
  assert.equal(labelSummary([5, 8]), '1 of the 2 nearest is a 5 and 1 is an 8.');
  assert.equal(labelSummary([3]), 'The nearest is a 3.');
  assert.equal(labelSummary([2, 255, 2]), '2 of the 3 nearest are 2s.');
  assert.equal(labelSummary([255, 255]), 'None of the 2 nearest has a label.');
  assert.equal(labelSummary([]), '');
});
