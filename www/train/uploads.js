// A person's files → training images: PNG and JPEG pictures are decoded by the browser
// (createImageBitmap, scaled down first, then an OffscreenCanvas), IDX files are parsed (a
// gzipped one is unpacked with DecompressionStream), and everything is prepared by
// lib/training-data.js at the training's image size. Files that cannot be used are refused
// one by one, each with a sentence naming it; the others are kept.

import { LIMITS, NO_LABEL, checkFileSize, checkPictureSize, notAccepted, pairIdxFiles, parseIdxPair, pictureSize, pictureToImage, sniff } from '../lib/training-data.js';
import { errorText, sentence } from '../lib/format.js';
import { readAll } from '../lib/streams.js';

/** Pictures are decoded at most this large: a digit needs no more, and memory stays small. */
const DECODE_SIDE = 512;

/**
 * Reads `files` (File objects) for a training of `field` size.
 * @returns {Promise<{sets: {name, files, pixels, labels, count}[], refused: {names, message}[]}>}
 * (`files`, `names`: the names of the files a set came from, or that were refused.)
 */
export async function readUploads(files, field) {
  const sets = [];
  const refused = [];
  const idx = [];
  const refuse = (file, err) => refused.push({ names: [file.name], message: sentence(errorText(err)) });
  for (const file of files) {
    try {
      const head = new Uint8Array(await file.slice(0, 64 * 1024).arrayBuffer());
      let kind = sniff(head);
      if (kind === 'png' || kind === 'jpeg') {
        checkFileSize(file.name, file.size, 'image');
        sets.push({ ...(await readPicture(file, head, kind, field)), files: [file.name] });
        continue;
      }
      if (!kind) throw notAccepted(file.name);
      checkFileSize(file.name, file.size, 'idx');
      let bytes = new Uint8Array(await file.arrayBuffer());
      if (kind === 'gzip') {
        bytes = await gunzip(bytes, file.name);
        kind = sniff(bytes);
        if (kind !== 'idx-images' && kind !== 'idx-labels') throw new Error(`“${file.name}” is gzip-compressed but does not hold an IDX file: refused.`);
      }
      idx.push({ name: file.name, kind, bytes });
    } catch (err) {
      refuse(file, err);
    }
  }
  const { pairs, orphans } = pairIdxFiles(idx);
  for (const o of orphans) refused.push({ names: [o.name], message: `“${o.name}” is an IDX labels file without its images file: add both together.` });
  for (const { images, labels } of pairs) {
    try {
      const set = parseIdxPair(images.bytes, labels?.bytes, { imagesName: images.name, labelsName: labels?.name, field });
      const files = labels ? [images.name, labels.name] : [images.name];
      sets.push({ name: files.join(' + '), files, pixels: set.pixels, labels: set.labels, count: set.count });
    } catch (err) {
      refused.push({ names: labels ? [images.name, labels.name] : [images.name], message: sentence(errorText(err)) });
    }
  }
  return { sets, refused };
}

async function readPicture(file, head, kind, field) {
  const size = pictureSize(head, kind);
  checkPictureSize(size, file.name);
  const scale = Math.min(1, DECODE_SIDE / Math.max(size.width, size.height));
  const width = Math.max(1, Math.round(size.width * scale));
  const height = Math.max(1, Math.round(size.height * scale));
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
  } catch (err) {
    throw new Error(`“${file.name}” could not be decoded as a ${kind.toUpperCase()} image (${errorText(err)}): refused.`);
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    const pixels = pictureToImage(data, bitmap.width, bitmap.height, field, file.name);
    return { name: file.name, pixels, labels: Uint8Array.of(NO_LABEL), count: 1 };
  } finally {
    bitmap.close();
  }
}

/** Unpacks gzip bytes, refusing past the IDX size limit instead of filling the memory. */
async function gunzip(bytes, name) {
  if (typeof DecompressionStream !== 'function') throw new Error(`“${name}” is gzip-compressed and this browser cannot unpack it: unpack it (gunzip) and add it again.`);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const tooBig = new Error(`“${name}” unpacks to more than ${LIMITS.idxFileBytes / 2 ** 20} MB: refused.`);
  try {
    return await readAll(stream, (_, total) => {
      if (total > LIMITS.idxFileBytes) throw tooBig;
    });
  } catch (err) {
    if (err === tooBig) throw err;
    throw new Error(`“${name}” is not a valid gzip file (${errorText(err)}): refused.`);
  }
}
