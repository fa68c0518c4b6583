// Latent map panel: the bundle's test encodings on a plane, with the legend and a caption
// saying which plane; picking moves z, a drawing's posterior shows as an ellipse. "Class
// regions" tints the plane by the classifier's reading of the images decoded over it.

import { LatentMap, classColour, fillLegend } from '../latent-map.js';
import { errorText, eventTime, sentence } from '../lib/format.js';
import { REGION_CELLS, gridPoints, planeLatents, regionPixels } from '../lib/classify.js';

export function mountMap({ state, engine, stats, messages, doc = document }) {
  const legend = doc.getElementById('map-legend');
  const caption = doc.getElementById('map-caption');
  const map = new LatentMap(doc.getElementById('latent-map'), {
    onPick: (z, t) => state.setZ(z, { t: eventTime({ timeStamp: t }), source: 'map' }),
  });

  /** Legend and caption for the model's map (built by `vae map` into the manifest). */
  state.on('model', (model) => {
    const m = model.manifest.map;
    map.setModel(m, model.latentDim, model.ranges);
    map.setZ(state.z);
    fillLegend(legend, (m?.classes ?? []).map((c) => ({ text: String(c.label), colour: classColour(c.label) })));
    if (!m) {
      caption.textContent = 'This model bundle has no latent map (run “vae map” on it to add one).';
      return;
    }
    const pct = (v) => `${Math.round(100 * v)} %`;
    const plane = {
      latent: 'The plane is the whole 2-D latent space: every point decodes to an image.',
      pca: `The plane passes through the mean encoding along the two directions in which the encodings vary most (principal components: ${pct(m.explained[0])} and ${pct(m.explained[1])} of their variance). Moving on it changes z only within the plane.`,
      dims: `The plane shows two chosen latent dimensions (${m.axes.map((a) => a.indexOf(Math.max(...a)) + 1).join(' and ')}); moving on it changes only those.`,
    }[m.projection] ?? '';
    caption.textContent = `Each dot is the encoding μ of one of ${m.points.length.toLocaleString('en')} test images, coloured by its digit. ${plane} The red cross is the current z; after a drawing, the blue ellipse is its posterior μ ± σ.`;
  });
  state.on('z', () => map.setZ(state.z));
  state.on('posterior', (p) => map.setPosterior(p));
  mountRegions({ state, engine, stats, messages, map, doc });
}

/** Images classified per step: the page yields between steps, so dragging stays smooth. */
const CLASSIFY_STEP = 64;
const REGIONS = 'class regions';

/**
 * The "Class regions" toggle: a grid of points over the map's box, decoded as a side batch
 * (never ahead of the main image), classified in steps and painted under the dots. Computed
 * once per classifier (so once per model) and kept while the toggle is off.
 */
function mountRegions({ state, engine, stats, messages, map, doc }) {
  const toggle = doc.getElementById('map-regions');
  const hint = doc.getElementById('map-regions-hint');
  const cells = REGION_CELLS * REGION_CELLS;
  /** {classifier, cols, rows, rgba} for the current classifier once computed. */
  let done = null;
  /** The classifier whose regions are being decoded or classified, or null. */
  let computing = null;
  /** Whether that work is still a batch waiting to be decoded. */
  let queued = false;
  let classifying = 0;
  engine.countBusy(() => classifying);
  stats.gridMs[REGIONS] = [];
  const submit = engine.sideBatch({
    latencies: stats.gridMs[REGIONS],
    failure: 'Decoding the class regions failed',
    source: REGIONS,
    apply: (pixels, job) => {
      queued = false;
      classifying++;
      classify(pixels, job).finally(() => classifying--);
    },
  });

  const say = (text) => {
    if (hint.textContent !== text) hint.textContent = text;
  };

  function update() {
    const c = state.classifier;
    const ready = Boolean(c && map.map && c.model === state.model);
    toggle.disabled = !ready;
    toggle.checked = ready && state.view.regions;
    if (!ready || !state.view.regions) {
      map.setRegions(null);
      computing = null;
      if (!c) return say(state.noClassifier);
      if (!map.map) return say('There is no latent map to tint.');
      return say('Tints the plane by the digit the classifier reads in the image decoded at each point.');
    }
    if (done?.classifier === c) {
      map.setRegions(done);
      return say('Each point of the plane is tinted by the digit the classifier reads in the image decoded there; paler where it is unsure.');
    }
    if (computing === c) return;
    computing = c;
    queued = true;
    say(`Decoding ${cells.toLocaleString('en')} images over the plane…`);
    const { box, origin, axes } = map.map;
    submit({ zs: planeLatents(gridPoints(box, REGION_CELLS), origin, axes), n: cells, classifier: c });
  }

  async function classify(pixels, job) {
    const c = job.classifier;
    const size = pixels.length / job.n;
    const k = c.classes.length;
    const probs = new Float32Array(job.n * k);
    try {
      for (let i = 0; i < job.n; i += CLASSIFY_STEP) {
        if (computing !== c) return; // the toggle went off or the model changed meanwhile
        const m = Math.min(CLASSIFY_STEP, job.n - i);
        probs.set(c.classify(pixels.subarray(i * size, (i + m) * size), m), i * k);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } catch (err) {
      console.error(err);
      if (computing !== c) return;
      computing = null;
      state.setView({ regions: false });
      messages.error(`Could not classify the class regions: ${sentence(errorText(err))}`, REGIONS);
      return update();
    }
    if (computing !== c) return;
    done = { classifier: c, cols: REGION_CELLS, rows: REGION_CELLS, rgba: regionPixels(probs, c.classes, classColour) };
    computing = null;
    update();
  }

  toggle.addEventListener('change', () => state.setView({ regions: toggle.checked }));
  state.on('view', (changed) => changed.includes('regions') && update());
  state.on('classifier', () => {
    if (done && done.classifier !== state.classifier) done = null;
    update();
  });
  // A batch queued before an explorer swap (auto's move to WebGPU) is dropped: ask again.
  engine.on('explorer', () => {
    if (!queued) return;
    queued = false;
    computing = null;
    update();
  });
}
