// The 2-D manifold panel: for a model with a 2-D latent space, the decoded lattice over the
// plane at the prior's quantiles (Kingma & Welling's figure), with z marked on it. Zoom in and
// out around the current z; click a cell (or pick it with the keyboard) to move z there.

import { gridBatch } from '../grid-batch.js';
import { FULL, latticeZ, markerPosition, normalCdf, zoomWindow } from '../lib/manifold.js';
import { canvasesToPng, pngName, saveBlob } from '../lib/download.js';

const SIZES = [10, 15, 20];
const MAX_ZOOM = 8;

export function mountManifold({ state, engine, stats, messages, doc = document }) {
  const $ = (id) => doc.getElementById(id);
  const body = $('manifold-lattice');
  const note = $('manifold-note');
  const canvas = $('manifold');
  const marker = $('manifold-marker');
  const size = $('manifold-size');
  const zoomIn = $('manifold-zoom-in');
  const zoomOut = $('manifold-zoom-out');
  const zoomText = $('manifold-zoom');
  const download = $('download-manifold');
  let n = Number(size.value);
  let zoom = 1;
  let windows = { x: FULL, y: FULL };
  const lattice = gridBatch({ state, engine, stats, canvas, name: 'manifold', cols: n, rows: n, label: 'The 2-D manifold: decoded images over the latent plane', onPaint: () => (download.disabled = false) });

  function place() {
    const at = state.latentDim === 2 ? markerPosition(state.z, n, windows.x, windows.y) : null;
    marker.hidden = !at;
    if (at) {
      marker.style.left = `${100 * at.x}%`;
      marker.style.top = `${100 * at.y}%`;
    }
  }

  function update() {
    if (state.latentDim !== 2) return;
    if (lattice.grid.cols !== n) lattice.grid.resize(n, n);
    windows = zoom === 1 ? { x: FULL, y: FULL } : { x: zoomWindow(zoom, normalCdf(state.z[0])), y: zoomWindow(zoom, normalCdf(state.z[1])) };
    zoomText.textContent = `×${zoom}`;
    zoomIn.disabled = zoom >= MAX_ZOOM;
    zoomOut.disabled = zoom <= 1;
    lattice.update(latticeZ(n, windows.x, windows.y));
    place();
  }

  size.addEventListener('change', () => {
    n = SIZES.includes(Number(size.value)) ? Number(size.value) : 15;
    update();
  });
  zoomIn.addEventListener('click', () => {
    zoom = Math.min(MAX_ZOOM, zoom * 2);
    update();
  });
  zoomOut.addEventListener('click', () => {
    zoom = Math.max(1, zoom / 2);
    update();
  });
  download.addEventListener('click', async () => {
    try {
      saveBlob(await canvasesToPng([canvas], 2, doc), pngName(state.model, 'manifold', 2), doc);
    } catch (err) {
      messages?.error(`Could not save the manifold: ${err.message}`, 'download');
    }
  });

  state.on('model', (model) => {
    const flat = model.latentDim === 2;
    body.hidden = !flat;
    note.hidden = flat;
    zoom = 1;
    download.disabled = true;
    if (flat) update();
  });
  state.on('z', place);
}
