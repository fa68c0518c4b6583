// Interpolation panel: anchors A–D ("Set" copies z), the A→B strip (linear or slerp), Play
// (z walks A → B → A), the 7×7 palette blending all four, z = A − B + C, and PNG downloads.

import { gridBatch } from '../grid-batch.js';
import * as lm from '../lib/latent-math.js';
import { eventTime } from '../lib/format.js';
import { canvasesToPng, pngName, saveBlob } from '../lib/download.js';
import { assembleApng } from '../lib/apng.js';
import { paintImages } from '../lib/image.js';

const STRIP = 9;
/** The animation: frames from A to B (the way back repeats them), each shown this long. */
const WALK = 16;
const FRAME_MS = 80;
const PALETTE = 7;
const KEYS = ['a', 'b', 'c', 'd'];

export function mountInterpolation({ state, engine, stats, messages, doc = document }) {
  const $ = (id) => doc.getElementById(id);
  const slerp = $('slerp');
  const play = $('play');
  const arithmetic = $('arithmetic');
  const setButtons = KEYS.map((k) => $(`set-${k}`));
  const grid = (canvas, name, layout) => gridBatch({ state, engine, stats, canvas, name, ...layout });
  const downloadStrip = $('download-interp');
  const downloadPalette = $('download-palette');
  const strip = grid($('interp-strip'), 'interpolation', { cols: STRIP, rows: 1, label: 'Interpolation from A to B', onPaint: () => (downloadStrip.disabled = false) });
  const palette = grid($('palette'), 'palette', { cols: PALETTE, rows: PALETTE, label: 'Palette blending anchors A (top left), B (top right), C (bottom left) and D (bottom right)', onPaint: () => (downloadPalette.disabled = false) });
  for (const [button, canvas, what] of [[downloadStrip, $('interp-strip'), 'interpolation'], [downloadPalette, $('palette'), 'palette']]) {
    button.addEventListener('click', async () => {
      try {
        saveBlob(await canvasesToPng([canvas], 4, doc), pngName(state.model, what, 4), doc);
      } catch (err) {
        messages?.error(`Could not save the ${what}: ${err.message}`, 'download');
      }
    });
  }
  const anchorGrids = KEYS.map((k, i) => grid($(`anchor-${k}`), `anchor ${'ABCD'[i]}`, { cols: 1, rows: 1, label: `Anchor ${'ABCD'[i]}` }));

  const interpolate = (a, b, t) => (state.view.interp === 'slerp' ? lm.slerp(a, b, t) : lm.lerp(a, b, t));
  const concat = (vectors) => {
    const dim = state.latentDim;
    const out = new Float32Array(vectors.length * dim);
    vectors.forEach((v, k) => out.set(v, k * dim));
    return out;
  };

  function update() {
    if (state.anchors.length !== 4 || !state.model) return;
    const [a, b, c, d] = state.anchors;
    strip.update(concat(Array.from({ length: STRIP }, (_, k) => interpolate(a, b, k / (STRIP - 1)))));
    const cells = [];
    for (let r = 0; r < PALETTE; r++) for (let q = 0; q < PALETTE; q++) cells.push(lm.bilinear(a, b, c, d, q / (PALETTE - 1), r / (PALETTE - 1)));
    palette.update(concat(cells));
    state.anchors.forEach((v, k) => anchorGrids[k].update(Float32Array.from(v)));
  }

  setButtons.forEach((button, k) => button.addEventListener('click', () => state.setAnchor(k, state.z)));
  slerp.addEventListener('change', () => state.setView({ interp: slerp.checked ? 'slerp' : 'linear' }));
  arithmetic.addEventListener('click', (e) => {
    const [a, b, c] = state.anchors;
    state.setZ(lm.arithmetic(a, b, c), { t: eventTime(e), source: 'arithmetic' });
  });

  // Download animation: the walk A → B → A as an animated PNG, decoded in one batch.
  const animate = $('download-animation');
  animate.addEventListener('click', async () => {
    animate.disabled = true;
    try {
      const [a, b] = state.anchors;
      const ts = Array.from({ length: WALK }, (_, k) => k / (WALK - 1));
      const path = [...ts, ...ts.slice(1, -1).reverse()];
      const pixels = await engine.decodeOnce(concat(path.map((t) => interpolate(a, b, t))), path.length);
      const { width, height } = state.model.image;
      const frame = doc.createElement('canvas');
      frame.width = width;
      frame.height = height;
      const pngs = [];
      for (let k = 0; k < path.length; k++) {
        paintImages(frame, pixels.subarray(k * width * height, (k + 1) * width * height), { width, height });
        pngs.push(new Uint8Array(await (await canvasesToPng([frame], 4, doc)).arrayBuffer()));
      }
      const apng = assembleApng(pngs, { delayMs: FRAME_MS });
      saveBlob(new Blob([apng], { type: 'image/apng' }), pngName(state.model, 'interpolation-animated', 4), doc);
    } catch (err) {
      messages?.error(`Could not make the animation: ${err.message}`, 'download');
    } finally {
      animate.disabled = false;
    }
  });

  // Play: z walks A → B → A along the strip's path (4 s a round trip) until pressed again.
  let playing = 0;
  play.addEventListener('click', () => {
    if (playing) {
      cancelAnimationFrame(playing);
      playing = 0;
      play.setAttribute('aria-pressed', 'false');
      return;
    }
    const start = performance.now();
    play.setAttribute('aria-pressed', 'true');
    const step = (now) => {
      const phase = ((now - start) / 4000) % 1;
      const t = phase < 0.5 ? 2 * phase : 2 - 2 * phase;
      state.setZ(interpolate(state.anchors[0], state.anchors[1], t), { t: now, source: 'play' });
      playing = requestAnimationFrame(step);
    };
    playing = requestAnimationFrame(step);
  });

  state.on('model', () => {
    for (const el of [...setButtons, play, arithmetic, animate]) el.disabled = false;
    update();
  });
  state.on('anchors', update);
  state.on('view', (changed) => {
    if (!changed.includes('interp')) return;
    slerp.checked = state.view.interp === 'slerp';
    update();
  });
}
