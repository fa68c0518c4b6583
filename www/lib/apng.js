// An animated PNG from PNG frames of one size (each a complete PNG file, as the browser's
// canvas.toBlob makes them): the first frame's image data stays IDAT, so a viewer without APNG
// support shows the first frame; the others become fdAT chunks. No DOM access: tested under Node.

import { crc32 } from './crc32.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The chunks of a PNG file: [{type, data}], checked for the signature. */
export function pngChunks(bytes) {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = [];
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    if (at + 12 + length > bytes.length) throw new Error('a PNG chunk runs past the end of the file');
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return chunks;
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function u32s(...values) {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(4 * i, v));
  return out;
}

/**
 * `frames` (PNG files as Uint8Arrays, all of one size) → one APNG file that shows each for
 * `delayMs` and loops `loops` times (0: for ever).
 */
export function assembleApng(frames, { delayMs = 100, loops = 0 } = {}) {
  if (frames.length === 0) throw new Error('an animation needs at least one frame');
  const parsed = frames.map(pngChunks);
  const ihdr = parsed[0].find((c) => c.type === 'IHDR')?.data;
  if (!ihdr) throw new Error('the first frame has no IHDR chunk');
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  parsed.forEach((chunks, k) => {
    if (!same(chunks.find((c) => c.type === 'IHDR')?.data ?? [], ihdr)) throw new Error(`frame ${k + 1} differs in size or format from the first`);
  });
  const width = new DataView(ihdr.buffer, ihdr.byteOffset).getUint32(0);
  const height = new DataView(ihdr.buffer, ihdr.byteOffset).getUint32(4);
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('acTL', u32s(frames.length, loops))];
  let sequence = 0;
  parsed.forEach((chunks, k) => {
    // fcTL: sequence, size, offset 0,0, delay as a fraction (ms/1000), dispose none, blend source.
    const fctl = new Uint8Array(26);
    fctl.set(u32s(sequence++, width, height, 0, 0), 0);
    new DataView(fctl.buffer).setUint16(20, Math.round(delayMs));
    new DataView(fctl.buffer).setUint16(22, 1000);
    parts.push(chunk('fcTL', fctl));
    for (const c of chunks.filter((c) => c.type === 'IDAT')) {
      if (k === 0) parts.push(chunk('IDAT', c.data));
      else {
        const fdat = new Uint8Array(4 + c.data.length);
        fdat.set(u32s(sequence++), 0);
        fdat.set(c.data, 4);
        parts.push(chunk('fdAT', fdat));
      }
    }
  });
  parts.push(chunk('IEND', new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
