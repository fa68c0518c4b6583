// lib/classify.js under Node: the classifier's top class and its sentence, and the class
// regions' grid over the latent map's plane (points, latent vectors, tints).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TINT, gridPoints, percent, planeLatents, reading, regionPixels, tintAlpha, tintOverWhite, topClass, withArticle } from '../www/lib/classify.js';
import { CLASS_COLOURS, classColour } from '../www/latent-map.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

test('topClass picks the largest probability of a row; the first of equals wins', () => {
  const probs = Float32Array.from([0.1, 0.7, 0.2, 0.3, 0.3, 0.4]);
  assert.deepEqual(topClass(probs, ['a', 'b', 'c']), { index: 1, label: 'b', p: probs[1] });
  assert.equal(topClass(probs, ['a', 'b', 'c'], 1).index, 2);
  assert.equal(topClass([0.5, 0.5], ['x', 'y']).label, 'x');
});

test('the sentence: “looks like a 7 · 92 %”, with the article English gives', () => {
  const probs = new Float32Array(10).fill(0.08 / 9);
  probs[7] = 0.92;
  assert.equal(reading(topClass(probs, DIGITS)), 'looks like a 7 · 92 %');
  assert.equal(reading({ label: '8', p: 0.5 }), 'looks like an 8 · 50 %');
  assert.equal(withArticle('11'), 'an 11');
  assert.equal(withArticle('1'), 'a 1');
  assert.equal(withArticle('110'), 'a 110');
  assert.equal(withArticle('Ankle boot'), 'an Ankle boot');
  assert.equal(withArticle('T-shirt/top'), 'a T-shirt/top');
  assert.equal(percent(0.996), 100);
  assert.equal(percent(0.004), 0);
  assert.equal(percent(0.925), 93);
});

test('the grid covers the box cell by cell, rows from the top as a canvas runs', () => {
  const pts = gridPoints([-4, 4, -2, 2], 4, 2);
  assert.equal(pts.length, 16);
  // First row: the upper half (y = 1), x at the cell centres.
  assert.deepEqual(Array.from(pts.subarray(0, 8)), [-3, 1, -1, 1, 1, 1, 3, 1]);
  assert.deepEqual(Array.from(pts.subarray(8)), [-3, -1, -1, -1, 1, -1, 3, -1]);
  assert.equal(gridPoints([0, 1, 0, 1]).length, 48 * 48 * 2, 'square by default');
});

test('plane points become z = origin + x·a + y·b: for a 2-D model, z = (x, y)', () => {
  const pts = Float32Array.from([0.5, -2, 3, 1]);
  assert.deepEqual(Array.from(planeLatents(pts, [0, 0], [[1, 0], [0, 1]])), [0.5, -2, 3, 1]);
  const zs = planeLatents(pts, [1, 2, 3], [[1, 0, 0], [0, 0, 1]]);
  assert.deepEqual(Array.from(zs), [1.5, 2, 1, 4, 2, 4]);
});

test('tints: paler where unsure, and a cell’s class can be read back from its colour', () => {
  assert.equal(tintAlpha(1), TINT.max);
  assert.equal(tintAlpha(0.1), TINT.min);
  assert.ok(tintAlpha(0.6) > tintAlpha(0.5));
  // Every class at its palest is nearer its own strongest tint than any other class at any strength.
  const strengths = [TINT.min, (TINT.min + TINT.max) / 2, TINT.max];
  const dist = (u, v) => Math.hypot(...u.map((x, i) => x - v[i]));
  CLASS_COLOURS.forEach((colour, k) => {
    const c = tintOverWhite(colour, TINT.min);
    CLASS_COLOURS.forEach((other, j) => {
      if (j === k) return;
      for (const a of strengths) assert.ok(dist(c, tintOverWhite(other, a)) > 2, `class ${k} at its palest vs class ${j} at ${a}`);
    });
  });

  const probs = new Float32Array(20);
  probs[7] = 1;
  probs[10 + 2] = 0.5;
  probs[10 + 3] = 0.5;
  const rgba = regionPixels(probs, DIGITS, classColour);
  assert.deepEqual(Array.from(rgba.subarray(0, 4)), [0, 0, 0, Math.round(255 * TINT.max)]);
  assert.deepEqual(Array.from(rgba.subarray(4, 7)), [0, 0x9e, 0x73], 'the tie goes to the first: class 2');
  assert.ok(rgba[7] < rgba[3], 'an unsure cell is paler');
});
