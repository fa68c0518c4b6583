// lib/apng.js under Node: PNG frames become one animated PNG (acTL, fcTL, IDAT for the first
// frame, fdAT for the rest, CRCs right); frames of another size and files that are not PNGs
// are refused in words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { assembleApng, pngChunks } from '../www/lib/apng.js';
import { crc32 } from '../www/lib/crc32.js';
import { png as greyPng } from './png.mjs';

/** A w × h PNG of one grey level. */
const png = (w, h, level) => new Uint8Array(greyPng(w, h, () => level));

test('three frames: acTL says 3, fcTL/fdAT numbered in order, the first frame stays IDAT, every CRC holds', () => {
  const frames = [png(4, 3, 0), png(4, 3, 128), png(4, 3, 255)];
  const out = assembleApng(frames, { delayMs: 80, loops: 2 });
  const chunks = pngChunks(out);
  assert.deepEqual(chunks.map((c) => c.type), ['IHDR', 'acTL', 'fcTL', 'IDAT', 'fcTL', 'fdAT', 'fcTL', 'fdAT', 'IEND']);
  const u32 = (d, at) => new DataView(d.buffer, d.byteOffset).getUint32(at);
  const actl = chunks[1].data;
  assert.deepEqual([u32(actl, 0), u32(actl, 4)], [3, 2]);
  const numbers = chunks.filter((c) => c.type === 'fcTL' || c.type === 'fdAT').map((c) => u32(c.data, 0));
  assert.deepEqual(numbers, [0, 1, 2, 3, 4]);
  const fctl = chunks[2].data;
  assert.deepEqual([u32(fctl, 4), u32(fctl, 8)], [4, 3], 'frame size');
  assert.equal(new DataView(fctl.buffer, fctl.byteOffset).getUint16(20) / new DataView(fctl.buffer, fctl.byteOffset).getUint16(22), 0.08);
  // Each chunk's CRC covers its type and data.
  let at = 8;
  const view = new DataView(out.buffer);
  while (at < out.length) {
    const length = view.getUint32(at);
    assert.equal(view.getUint32(at + 8 + length), crc32(out.subarray(at + 4, at + 8 + length)));
    at += 12 + length;
  }
  // The third frame's pixels come back from its fdAT.
  const data = chunks[7].data.subarray(4);
  assert.equal(zlib.inflateSync(data)[1], 255);
});

test('frames of another size, an empty list and a file that is not a PNG are refused in words', () => {
  assert.throws(() => assembleApng([png(4, 3, 0), png(3, 4, 0)]), /frame 2 differs in size or format from the first/);
  assert.throws(() => assembleApng([]), /at least one frame/);
  assert.throws(() => assembleApng([new Uint8Array([1, 2, 3])]), /not a PNG file/);
  const cut = png(4, 3, 0).subarray(0, 30);
  assert.throws(() => pngChunks(cut), /runs past the end/);
});
