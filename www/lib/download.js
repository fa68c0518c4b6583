// Taking images away: canvases as one PNG, scaled by whole pixels (no smoothing: an MNIST
// pixel stays a sharp square), and a blob saved as a file through a temporary link.

/**
 * A PNG blob of `canvases` stacked top to bottom (each left-aligned), every pixel drawn as a
 * `scale` × `scale` square.
 */
export function canvasesToPng(canvases, scale = 1, doc = document) {
  const width = Math.max(...canvases.map((c) => c.width));
  const height = canvases.reduce((h, c) => h + c.height, 0);
  const out = doc.createElement('canvas');
  out.width = width * scale;
  out.height = height * scale;
  const ctx = out.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  let y = 0;
  for (const c of canvases) {
    ctx.drawImage(c, 0, y * scale, c.width * scale, c.height * scale);
    y += c.height;
  }
  return new Promise((resolve, reject) => out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not make a PNG'))), 'image/png'));
}

/** Saves `blob` as `filename` (the browser's download). */
export function saveBlob(blob, filename, doc = document) {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  doc.body.append(a);
  a.click();
  a.remove();
  // Revoked later: the download may still be reading it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file name for a download from the model in use, e.g. "mnist-mlp-32-decoded-x10.png". */
export function pngName(model, what, scale) {
  const base = String(model?.entry?.name ?? model?.manifest?.name ?? 'vae').replace(/[^\w.-]+/g, '-');
  return `${base}-${what}${scale > 1 ? `-x${scale}` : ''}.png`;
}
