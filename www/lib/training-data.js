// Training data for the in-browser trainer, as the model wants it: u8 images of the model's
// size (0 = background, 255 = ink, like MNIST) and u8 labels (255 = none). From MNIST's IDX
// files, a person's PNG/JPEG images (decoded to RGBA by the caller), IDX files they upload,
// and drawings from the pad. Every refusal is an Error whose message names the file. Pure: no
// DOM access, tested under Node.

import { mnistPreprocess } from './preprocess.js';

/** No label (the trainer and the latent map's colouring read 255 as "unlabelled"). */
export const NO_LABEL = 255;

/** What the page accepts; past these a file is refused with a message, not half-loaded. */
export const LIMITS = Object.freeze({
  /** One PNG or JPEG. */
  imageFileBytes: 20 * 2 ** 20,
  /** One IDX file (MNIST's training images are 47 MB). */
  idxFileBytes: 256 * 2 ** 20,
  /** Images a person may add in all (drawings, pictures and IDX files together). */
  personalImages: 100_000,
  /** Side of an IDX image: bigger is not a digit dataset this explorer's models can learn. */
  idxSide: 512,
});

const quoted = (name) => `“${name}”`;
const group = (n) => Number(n).toLocaleString('en');
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`;

/**
 * What a file's first bytes say it is: 'png', 'jpeg', 'gzip', 'idx-images', 'idx-labels', or
 * null. The name is not trusted: a renamed text file is still refused.
 */
export function sniff(bytes) {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0x08 && b[3] === 3) return 'idx-images';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0x08 && b[3] === 1) return 'idx-labels';
  return null;
}

/** Refuses a file by size before it is read: images and IDX files have their own limits. */
export function checkFileSize(name, bytes, kind) {
  const limit = kind === 'image' ? LIMITS.imageFileBytes : LIMITS.idxFileBytes;
  if (bytes > limit) throw new Error(`${quoted(name)} is ${mb(bytes)}, larger than the ${mb(limit)} a${kind === 'image' ? 'n image' : 'n IDX file'} may be: refused.`);
  if (bytes === 0) throw new Error(`${quoted(name)} is empty: refused.`);
}

/** The sentence for bytes that are none of the accepted types. */
export function notAccepted(name) {
  return new Error(`${quoted(name)} is not a PNG, JPEG or IDX file: refused.`);
}

/** Parses an IDX header of `dims` dimensions; the checks follow the CLI's reader. */
function idxHeader(bytes, name, dims) {
  const what = dims === 3 ? 'images' : 'labels';
  const headerLen = 4 + 4 * dims;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new Error(`${quoted(name)} is gzip-compressed: unpack it (gunzip) and add it again.`);
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${quoted(name)} is not an IDX ${what} file (it does not start with the IDX magic bytes): refused.`);
  }
  if (bytes[2] !== 0x08) throw new Error(`${quoted(name)} holds IDX data of type 0x${bytes[2].toString(16).padStart(2, '0')}; only unsigned bytes (0x08) are supported: refused.`);
  if (bytes[3] !== dims) {
    const hint = dims === 3 && bytes[3] === 1 ? ' Is it a labels file?' : dims === 1 && bytes[3] === 3 ? ' Is it an images file?' : '';
    throw new Error(`${quoted(name)} has ${bytes[3]} dimensions but an IDX ${what} file has ${dims}: refused.${hint}`);
  }
  if (bytes.length < headerLen) throw new Error(`${quoted(name)} is truncated: ${bytes.length} bytes, shorter than the ${headerLen}-byte IDX ${what} header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerLen);
  const sizes = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
  return { sizes, data: bytes.subarray(headerLen) };
}

/** Checks that the data after the header is exactly what the header says. */
function checkLength(name, data, expected, contents) {
  if (data.length < expected) throw new Error(`${quoted(name)} is truncated: its header says ${contents} (${group(expected)} bytes) but only ${group(data.length)} follow.`);
  if (data.length > expected) throw new Error(`${quoted(name)} has ${group(data.length - expected)} bytes more than its header says (${contents}): refused.`);
}

/** An IDX images file → {pixels (a view into `bytes`), count, rows, cols}. */
export function parseIdxImages(bytes, name) {
  const { sizes: [count, rows, cols], data } = idxHeader(bytes, name, 3);
  if (count === 0) throw new Error(`${quoted(name)} holds no images: refused.`);
  if (rows === 0 || cols === 0) throw new Error(`${quoted(name)} says its images are ${rows}×${cols} pixels: refused.`);
  if (rows > LIMITS.idxSide || cols > LIMITS.idxSide) throw new Error(`${quoted(name)} holds ${rows}×${cols} images, larger than ${LIMITS.idxSide}×${LIMITS.idxSide}: refused.`);
  checkLength(name, data, count * rows * cols, `${group(count)} images of ${rows}×${cols}`);
  return { pixels: data, count, rows, cols };
}

/** An IDX labels file → {labels (a view into `bytes`), count}. */
export function parseIdxLabels(bytes, name) {
  const { sizes: [count], data } = idxHeader(bytes, name, 1);
  if (count === 0) throw new Error(`${quoted(name)} holds no labels: refused.`);
  checkLength(name, data, count, `${group(count)} labels`);
  return { labels: data, count };
}

/**
 * An images file and its labels file (or none: every image unlabelled) →
 * {pixels, labels, count, width, height}, fitted to `field` (the model's image size) when given.
 */
export function parseIdxPair(imagesBytes, labelsBytes, { imagesName, labelsName = '', field } = {}) {
  const images = parseIdxImages(imagesBytes, imagesName);
  let labels;
  if (labelsBytes) {
    labels = parseIdxLabels(labelsBytes, labelsName).labels;
    if (labels.length !== images.count) {
      throw new Error(`${quoted(imagesName)} holds ${group(images.count)} images but ${quoted(labelsName)} ${group(labels.length)} labels: refused.`);
    }
  } else {
    labels = new Uint8Array(images.count).fill(NO_LABEL);
  }
  const from = { width: images.cols, height: images.rows };
  const to = field ?? from;
  return { pixels: fitToSize(images.pixels, images.count, from, to), labels: Uint8Array.from(labels), count: images.count, width: to.width, height: to.height };
}

/**
 * Images of `from` size → images of `to` size. The same size is copied as it is; another is
 * preprocessed the MNIST way (cropped, scaled into the box, centred by mass), so a 28×28
 * digit fills a 32×32 model's field the way its own training images did.
 */
export function fitToSize(pixels, count, from, to) {
  const n = from.width * from.height;
  if (from.width === to.width && from.height === to.height) return Uint8Array.from(pixels.subarray(0, count * n));
  const m = to.width * to.height;
  const out = new Uint8Array(count * m);
  for (let i = 0; i < count; i++) {
    const f = mnistPreprocess(pixels.subarray(i * n, (i + 1) * n), from.width, from.height, { scale: 255, field: to });
    if (f) out.set(toBytes(f), i * m);
  }
  return out;
}

/** Floats in [0, 1] → bytes 0..255 (NaN → 0). */
export function toBytes(values) {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}

/** Bytes 0..255 → floats in [0, 1] (what encode() takes). */
export function toFloats(bytes) {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

/**
 * Ink of a picture from its RGBA bytes, in [0, 1] with 0 = background: a transparent
 * background makes opacity the ink; otherwise grey levels, inverted when the border (where a
 * digit's background is) is light, i.e. dark ink on light paper. The background level is
 * subtracted and the contrast stretched, so grey paper and a faint pencil still make a digit.
 * Returns {ink, inverted, transparent}.
 */
export function inkFromRgba(rgba, width, height) {
  const n = width * height;
  let clear = 0;
  for (let i = 0; i < n; i++) if (rgba[i * 4 + 3] < 128) clear++;
  const transparent = clear > 0.1 * n;
  const grey = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const a = rgba[o + 3] / 255;
    // Luminance (Rec. 709) of the colour; with a transparent background, its opacity.
    grey[i] = transparent ? a : ((0.2126 * rgba[o] + 0.7152 * rgba[o + 1] + 0.0722 * rgba[o + 2]) / 255) * a + (1 - a);
  }
  const border = borderValues(grey, width, height).sort((x, y) => x - y);
  const background = border[Math.floor(border.length / 2)] ?? 0;
  const inverted = !transparent && background > 0.5;
  const ink = new Float32Array(n);
  const bg = inverted ? 1 - background : background;
  let top = 0;
  for (let i = 0; i < n; i++) {
    const v = inverted ? 1 - grey[i] : grey[i];
    ink[i] = v;
    if (v > top) top = v;
  }
  const range = top - bg;
  for (let i = 0; i < n; i++) ink[i] = range > 0.05 ? Math.min(1, Math.max(0, (ink[i] - bg) / range)) : 0;
  return { ink, inverted, transparent };
}

function borderValues(values, width, height) {
  const out = [];
  for (let x = 0; x < width; x++) out.push(values[x], values[(height - 1) * width + x]);
  for (let y = 1; y < height - 1; y++) out.push(values[y * width], values[y * width + width - 1]);
  return out;
}

/**
 * A person's picture (RGBA from createImageBitmap + OffscreenCanvas) → one training image of
 * `field` size, as bytes; refused (naming the file) when there is nothing to see.
 */
export function pictureToImage(rgba, width, height, field, name) {
  if (!(width > 0 && height > 0) || rgba.length < width * height * 4) throw new Error(`${quoted(name)} could not be read as an image: refused.`);
  const { ink } = inkFromRgba(rgba, width, height);
  const f = mnistPreprocess(ink, width, height, { field, threshold: 0.2 });
  if (!f) throw new Error(`${quoted(name)} has no visible ink (a blank or one-colour picture): refused.`);
  return toBytes(f);
}

/**
 * A drawing from the pad (floats in [0, 1], already preprocessed to `from`, the explored
 * model's size) → bytes of `to` size, the training's.
 */
export function drawingToImage(pixels, from, to) {
  const bytes = toBytes(pixels);
  return from.width === to.width && from.height === to.height ? bytes : fitToSize(bytes, 1, from, to);
}

/**
 * One dataset from parts ({pixels, labels, count}, each image `imagePixels` bytes): for the
 * trainer's setData. Refuses an empty result in words.
 */
export function concatDatasets(parts, imagePixels) {
  const count = parts.reduce((s, p) => s + p.count, 0);
  if (count === 0) throw new Error('There are no training images: choose the MNIST training set, add a drawing or add image files.');
  // One part (MNIST alone: 47 MB) is used as it is, not copied.
  if (parts.length === 1 && parts[0].pixels.length === count * imagePixels && parts[0].labels) return parts[0];
  const pixels = new Uint8Array(count * imagePixels);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    if (p.pixels.length !== p.count * imagePixels) throw new Error(`a part of the training data has ${p.pixels.length} bytes for ${p.count} images of ${imagePixels} pixels`);
    pixels.set(p.pixels, at * imagePixels);
    labels.set(p.labels ?? new Uint8Array(p.count).fill(NO_LABEL), at);
    at += p.count;
  }
  return { pixels, labels, count };
}

/** The first `n` images of a dataset (the probe set for the live latent map). */
export function firstImages({ pixels, labels, count }, n, imagePixels) {
  const k = Math.min(n, count);
  return { pixels: pixels.slice(0, k * imagePixels), labels: labels.slice(0, k), count: k };
}

/**
 * Pairs uploaded IDX files: each labels file goes with the images file whose name matches
 * with "labels" for "images" (train-labels-idx1-ubyte ↔ train-images-idx3-ubyte), or with the
 * only images file when there is one of each. Returns {pairs: [{images, labels?}], orphans}:
 * orphans are labels files without images, refused by the caller.
 */
export function pairIdxFiles(files) {
  const images = files.filter((f) => f.kind === 'idx-images');
  const labels = files.filter((f) => f.kind === 'idx-labels');
  const key = (name, word) => name.toLowerCase().replace(/\.gz$/, '').replace(word, '#').replace(/idx\d/, 'idx');
  const pairs = images.map((f) => ({ images: f, labels: null }));
  const orphans = [];
  for (const l of labels) {
    const match = pairs.find((p) => !p.labels && key(p.images.name, 'images') === key(l.name, 'labels'));
    if (match) match.labels = l;
    else orphans.push(l);
  }
  if (orphans.length === 1 && pairs.length === 1 && !pairs[0].labels) pairs[0].labels = orphans.pop();
  return { pairs, orphans };
}

/** Largest picture decoded: past this a file is refused before it is decoded into memory. */
export const MAX_PICTURE_PIXELS = 40e6;

/** Width and height from a PNG's IHDR or a JPEG's SOF marker, or null if not found. */
export function pictureSize(bytes, kind) {
  const u16 = (o) => (bytes[o] << 8) | bytes[o + 1];
  const u32 = (o) => ((bytes[o] << 24) >>> 0) + ((bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]);
  if (kind === 'png') return bytes.length >= 24 ? { width: u32(16), height: u32(20) } : null;
  if (kind !== 'jpeg') return null;
  let o = 2;
  while (o + 4 <= bytes.length) {
    if (bytes[o] !== 0xff) return null;
    const marker = bytes[o + 1];
    if (marker === 0xff) {
      o++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      o += 2; // no length
      continue;
    }
    const len = u16(o + 2);
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) return o + 9 <= bytes.length ? { width: u16(o + 7), height: u16(o + 5) } : null;
    if (len < 2) return null;
    o += 2 + len;
  }
  return null;
}

/** Refuses a picture whose header says it is too large (or nothing) to decode. */
export function checkPictureSize(size, name) {
  if (!size || !(size.width > 0 && size.height > 0)) throw new Error(`${quoted(name)} is not a readable PNG or JPEG image (its header gives no size): refused.`);
  if (size.width * size.height > MAX_PICTURE_PIXELS) throw new Error(`${quoted(name)} is ${size.width}×${size.height} pixels, too large to decode here: refused.`);
}
