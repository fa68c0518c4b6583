// Images as the model sees them: grey pixels, 1 = white ink on black (like MNIST), of the size
// the bundle records in manifest.json (`image: {width, height}`). One painting function for
// every canvas that shows decoded or encoded pixels. No DOM access at import.

/** Bundles made before the manifest recorded a size are MNIST's. */
export const DEFAULT_IMAGE = Object.freeze({ width: 28, height: 28 });

/** The image size of a bundle from its manifest. */
export function imageSize(manifest) {
  const w = Number(manifest?.image?.width);
  const h = Number(manifest?.image?.height);
  return Number.isInteger(w) && w > 0 && Number.isInteger(h) && h > 0 ? { width: w, height: h } : { ...DEFAULT_IMAGE };
}

/**
 * Writes `cols × rows` images of `width × height` values in [0, 1] (row-major, image after
 * image) into RGBA bytes laid out as one grid. NaN and out-of-range values are clamped.
 */
export function greyRgba(rgba, values, { width, height, cols = 1, rows = 1 }) {
  const stride = cols * width;
  const count = cols * rows;
  const size = width * height;
  for (let cell = 0; cell < count; cell++) {
    const cx = (cell % cols) * width;
    const cy = Math.floor(cell / cols) * height;
    for (let y = 0; y < height; y++) {
      let o = ((cy + y) * stride + cx) * 4;
      let i = cell * size + y * width;
      for (let x = 0; x < width; x++, i++, o += 4) {
        let v = values[i];
        v = v > 1 ? 1 : v > 0 ? v : 0; // also maps NaN to 0
        const g = Math.round(v * 255);
        rgba[o] = g;
        rgba[o + 1] = g;
        rgba[o + 2] = g;
        rgba[o + 3] = 255;
      }
    }
  }
  return rgba;
}

/** Paints images (see greyRgba) into the top left of a canvas; returns its 2-D context. */
export function paintImages(canvas, values, layout) {
  const { width, height, cols = 1, rows = 1 } = layout;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(cols * width, rows * height);
  greyRgba(img.data, values, layout);
  ctx.putImageData(img, 0, 0);
  return ctx;
}

/** Sizes a canvas for `cols × rows` images (only when it changes: resizing clears it). */
export function sizeCanvas(canvas, { width, height }, cols = 1, rows = 1) {
  if (canvas.width !== cols * width) canvas.width = cols * width;
  if (canvas.height !== rows * height) canvas.height = rows * height;
}
