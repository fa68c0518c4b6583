// A model bundle as one file: a standard ZIP holding manifest.json and the weights file the
// manifest names. Written with stored (uncompressed) entries, since burnpack f16 weights barely
// compress; read back from this page's zips and from common tools' (stored or deflated, flat
// or inside one top-level folder). No DOM access: tested under Node.

import { errorText } from './format.js';
import { crc32 } from './crc32.js';

export { crc32 };

/** The largest bundle accepted, as for a downloaded one (load.js MAX_WEIGHTS_BYTES). */
export const MAX_ZIP_BYTES = 512 * 2 ** 20;
export const MANIFEST_NAME = 'manifest.json';
const DEFAULT_WEIGHTS = 'weights.bpk';

const SIG = { local: 0x04034b50, central: 0x02014b50, end: 0x06054b50, end64: 0x06064b50, locator64: 0x07064b50 };
const UTF8_FLAG = 0x0800;

/** The weights file a manifest names: one plain file name next to manifest.json. */
export function weightsName(manifest) {
  const name = manifest?.weights ?? DEFAULT_WEIGHTS;
  if (typeof name !== 'string' || name === '' || /[/\\]/.test(name) || name === '.' || name === '..' || name === MANIFEST_NAME) {
    throw new Error(`the manifest names its weights file “${String(name)}”, which is not a plain file name`);
  }
  return name;
}

function parseManifest(text, where) {
  try {
    const manifest = JSON.parse(text);
    if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw new Error('it is not a JSON object');
    return manifest;
  } catch (err) {
    throw new Error(`${where} is not valid JSON: ${errorText(err)}`);
  }
}

/** MS-DOS time and date fields (local time, 2-second resolution; 1980 is the earliest). */
function dosDateTime(date) {
  const d = date.getFullYear() < 1980 ? new Date(1980, 0, 1) : date;
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  const day = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return { time, day };
}

/**
 * A bundle ({manifestText, weights}) as the bytes of a ZIP file: manifest.json, then the
 * weights under the name the manifest gives, both stored. `date` stamps the entries.
 */
export function zipBundle({ manifestText, weights }, { date = new Date() } = {}) {
  if (typeof manifestText !== 'string') throw new Error('the bundle has no manifest text');
  if (!(weights instanceof Uint8Array)) throw new Error('the bundle has no weights');
  const manifestBytes = new TextEncoder().encode(manifestText);
  const files = [
    [MANIFEST_NAME, manifestBytes],
    [weightsName(parseManifest(manifestText, MANIFEST_NAME)), weights],
  ];
  const { time, day } = dosDateTime(date);
  const enc = new TextEncoder();
  const entries = files.map(([name, data]) => ({ name: enc.encode(name), ascii: /^[\x20-\x7e]*$/.test(name), data, crc: crc32(data) }));
  const localSize = entries.reduce((n, e) => n + 30 + e.name.length + e.data.length, 0);
  const centralSize = entries.reduce((n, e) => n + 46 + e.name.length, 0);
  if (localSize + centralSize + 22 > 0xffffffff) throw new Error('the bundle is too large for a ZIP file');
  const out = new Uint8Array(localSize + centralSize + 22);
  const v = new DataView(out.buffer);
  let o = 0;
  // The fields local headers and central records share, from "version needed" to the name length.
  const common = (e) => {
    v.setUint16(o, 10, true); // version needed: 1.0 (stored)
    v.setUint16(o + 2, e.ascii ? 0 : UTF8_FLAG, true);
    v.setUint16(o + 4, 0, true); // method: stored
    v.setUint16(o + 6, time, true);
    v.setUint16(o + 8, day, true);
    v.setUint32(o + 10, e.crc, true);
    v.setUint32(o + 14, e.data.length, true);
    v.setUint32(o + 18, e.data.length, true);
    v.setUint16(o + 22, e.name.length, true);
    v.setUint16(o + 24, 0, true); // extra field length
    o += 26;
  };
  for (const e of entries) {
    e.offset = o;
    v.setUint32(o, SIG.local, true);
    o += 4;
    common(e);
    out.set(e.name, o);
    o += e.name.length;
    out.set(e.data, o);
    o += e.data.length;
  }
  const centralStart = o;
  for (const e of entries) {
    v.setUint32(o, SIG.central, true);
    v.setUint16(o + 4, (3 << 8) | 20, true); // made by: Unix, spec 2.0
    o += 6;
    common(e);
    v.setUint16(o, 0, true); // comment length
    v.setUint16(o + 2, 0, true); // disk number
    v.setUint16(o + 4, 0, true); // internal attributes
    v.setUint32(o + 6, (0o100644 << 16) >>> 0, true); // external: a regular file, rw-r--r--
    v.setUint32(o + 10, e.offset, true);
    o += 14;
    out.set(e.name, o);
    o += e.name.length;
  }
  v.setUint32(o, SIG.end, true);
  v.setUint16(o + 4, 0, true);
  v.setUint16(o + 6, 0, true);
  v.setUint16(o + 8, entries.length, true);
  v.setUint16(o + 10, entries.length, true);
  v.setUint32(o + 12, o - centralStart, true);
  v.setUint32(o + 16, centralStart, true);
  v.setUint16(o + 20, 0, true);
  return out;
}

/** The end-of-central-directory record: where the central directory is and how many entries. */
function findDirectory(bytes, v, file) {
  const damaged = (why) => new Error(`${file} is damaged or truncated: ${why}.`);
  const looksLikeZip = bytes.length >= 4 && v.getUint32(0, true) === SIG.local;
  if (bytes.length < 22) throw looksLikeZip ? damaged('it ends before the ZIP directory') : new Error(`${file} is not a zip file.`);
  let end = -1;
  // The record is 22 bytes plus a comment of at most 65,535 bytes at the very end.
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (v.getUint32(i, true) === SIG.end && i + 22 + v.getUint16(i + 20, true) <= bytes.length) {
      end = i;
      break;
    }
  }
  if (end < 0) throw looksLikeZip ? damaged('its ZIP directory is missing') : new Error(`${file} is not a zip file.`);
  let count = v.getUint16(end + 10, true);
  let size = v.getUint32(end + 12, true);
  let start = v.getUint32(end + 16, true);
  if (v.getUint16(end + 4, true) !== 0 || v.getUint16(end + 6, true) !== 0) throw new Error(`${file} is one part of a split ZIP archive; join it into one file first.`);
  // ZIP64: some tools write it even for small files (when streaming).
  if ((count === 0xffff || size === 0xffffffff || start === 0xffffffff) && end >= 20 && v.getUint32(end - 20, true) === SIG.locator64) {
    const at = Number(v.getBigUint64(end - 12, true));
    if (at + 56 > bytes.length || v.getUint32(at, true) !== SIG.end64) throw damaged('its ZIP64 directory record is missing');
    count = Number(v.getBigUint64(at + 32, true));
    size = Number(v.getBigUint64(at + 40, true));
    start = Number(v.getBigUint64(at + 48, true));
  }
  if (start + size > bytes.length) throw damaged('its ZIP directory points past the end of the file');
  return { count, start, size };
}

/** The central directory's entries: name, method, flags, sizes, CRC and local header offset. */
function readEntries(bytes, v, file) {
  const { count, start, size } = findDirectory(bytes, v, file);
  const entries = [];
  const dec = new TextDecoder();
  let o = start;
  for (let k = 0; k < count; k++) {
    if (o + 46 > start + size || v.getUint32(o, true) !== SIG.central) throw new Error(`${file} is damaged: its ZIP directory is cut short.`);
    const nameLen = v.getUint16(o + 28, true);
    const extraLen = v.getUint16(o + 30, true);
    const commentLen = v.getUint16(o + 32, true);
    const e = {
      flags: v.getUint16(o + 8, true),
      method: v.getUint16(o + 10, true),
      crc: v.getUint32(o + 16, true),
      compressed: v.getUint32(o + 20, true),
      size: v.getUint32(o + 24, true),
      offset: v.getUint32(o + 42, true),
      name: dec.decode(bytes.subarray(o + 46, o + 46 + nameLen)),
    };
    readZip64Extra(v, o + 46 + nameLen, extraLen, e);
    entries.push(e);
    o += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Sizes and offset too large for 32 bits live in the ZIP64 extra field (id 1), in this order. */
function readZip64Extra(v, at, len, e) {
  for (let p = at; p + 4 <= at + len;) {
    const id = v.getUint16(p, true);
    const n = v.getUint16(p + 2, true);
    if (id === 1) {
      let q = p + 4;
      for (const key of ['size', 'compressed', 'offset']) {
        if (e[key] !== 0xffffffff || q + 8 > p + 4 + n) continue;
        e[key] = Number(v.getBigUint64(q, true));
        q += 8;
      }
    }
    p += 4 + n;
  }
}

/** Which entries make the bundle: manifest.json at the top or inside one folder, and the folder. */
function findManifest(entries, file) {
  // macOS adds resource forks (__MACOSX/, ._name) when it zips a folder.
  const real = entries.filter((e) => !e.name.endsWith('/') && !e.name.startsWith('__MACOSX/') && !/(^|\/)\._/.test(e.name));
  const manifests = real.filter((e) => e.name === MANIFEST_NAME || /^[^/]+\/manifest\.json$/.test(e.name));
  if (manifests.length === 0) throw new Error(`${file} has no manifest.json: it is not a model file.`);
  // The top-level manifest wins; manifests in several folders are several models.
  const top = manifests.find((e) => e.name === MANIFEST_NAME);
  if (!top && manifests.length > 1) {
    throw new Error(`${file} holds more than one model (${manifests.map((e) => e.name).join(', ')}); a model file holds one.`);
  }
  const manifest = top ?? manifests[0];
  return { manifest, folder: manifest.name.slice(0, -MANIFEST_NAME.length), real };
}

/** The bytes of one entry, inflated if need be, with its size and CRC checked. */
async function readEntry(bytes, v, e, file) {
  const what = `${e.name} in ${file}`;
  if (e.flags & 1) throw new Error(`${file} is encrypted (${e.name}); save the model without a password.`);
  if (e.size > MAX_ZIP_BYTES) throw new Error(`${what} is larger than ${MAX_ZIP_BYTES / 2 ** 20} MB: not a model this explorer can load.`);
  if (e.offset + 30 > bytes.length || v.getUint32(e.offset, true) !== SIG.local) throw new Error(`${file} is damaged or truncated: ${e.name} is missing.`);
  const start = e.offset + 30 + v.getUint16(e.offset + 26, true) + v.getUint16(e.offset + 28, true);
  if (start + e.compressed > bytes.length) throw new Error(`${file} is truncated: ${e.name} is cut short.`);
  const raw = bytes.subarray(start, start + e.compressed);
  let data;
  if (e.method === 0) {
    if (e.compressed !== e.size) throw new Error(`${file} is damaged: the sizes recorded for ${e.name} disagree.`);
    data = raw;
  } else if (e.method === 8) {
    data = await inflateRaw(raw, e.size, what);
  } else {
    throw new Error(`${file} compresses ${e.name} with method ${e.method}, which this page cannot read; zip it uncompressed or with ordinary deflate.`);
  }
  if (data.length !== e.size) throw new Error(`${file} is damaged: ${e.name} has ${data.length} bytes instead of ${e.size}.`);
  if (crc32(data) !== e.crc) throw new Error(`${file} is damaged: the CRC of ${e.name} does not match.`);
  return data;
}

/** Inflates deflate data with the browser's DecompressionStream, stopping past `size` bytes. */
async function inflateRaw(raw, size, what) {
  if (typeof DecompressionStream !== 'function') throw new Error(`${what} is compressed, and this browser cannot decompress it; zip it uncompressed.`);
  const out = new Uint8Array(size);
  let n = 0;
  const reader = new Blob([raw]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > size) throw new Error(`${what} is damaged: it inflates to more than the ${size} bytes recorded.`);
      out.set(value, n);
      n += value.length;
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    if (/inflates to more/.test(errorText(err))) throw err;
    throw new Error(`${what} is damaged: it does not decompress (${errorText(err)}).`);
  }
  return out.subarray(0, n);
}

/**
 * Reads a model file (the bytes of a ZIP named `fileName`) back into a bundle. Errors say in
 * words what is wrong and name the file.
 * @returns {Promise<{manifest: object, manifestText: string, weights: Uint8Array}>}
 */
export async function unzipBundle(input, fileName = 'the file') {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length > MAX_ZIP_BYTES) throw new Error(`${fileName} is larger than ${MAX_ZIP_BYTES / 2 ** 20} MB: not a model this explorer can load.`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return await readBundle(bytes, v, fileName);
  } catch (err) {
    // A field pointing outside the file, wherever it was read.
    if (err instanceof RangeError) throw new Error(`${fileName} is damaged or truncated: ${errorText(err)}.`);
    throw err;
  }
}

async function readBundle(bytes, v, fileName) {
  const entries = readEntries(bytes, v, fileName);
  const { manifest: manifestEntry, folder, real } = findManifest(entries, fileName);
  const where = `${manifestEntry.name} in ${fileName}`;
  const manifestBytes = await readEntry(bytes, v, manifestEntry, fileName);
  let manifestText;
  try {
    manifestText = new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes);
  } catch {
    throw new Error(`${where} is not UTF-8 text.`);
  }
  const manifest = parseManifest(manifestText, where);
  let name;
  try {
    name = weightsName(manifest);
  } catch (err) {
    throw new Error(`${fileName}: ${errorText(err)}.`);
  }
  const weightsEntry = real.find((e) => e.name === folder + name);
  if (!weightsEntry) throw new Error(`${fileName} has no ${folder + name}, the weights file its manifest names.`);
  const weights = await readEntry(bytes, v, weightsEntry, fileName);
  // Stored weights are a view of the file's bytes: a copy of their own, kept after the file goes.
  return { manifest, manifestText, weights: weightsEntry.method === 0 ? weights.slice() : weights };
}
