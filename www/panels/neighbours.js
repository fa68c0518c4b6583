// Nearest neighbours: the test images whose encodings μ lie closest to z. The bundle's test
// images (an IDX pair) are downloaded when the panel is first shown, encoded by the page's
// model in chunks that give way to the main image, and kept for that model only; every
// change of z then searches them (once per frame). Clicking one moves z to its encoding.

import { fetchBytes } from '../load.js';
import { clamp, errorText, eventTime, sentence } from '../lib/format.js';
import { paintImages, sizeCanvas } from '../lib/image.js';
import { parseIdxPair, toFloats } from '../lib/training-data.js';
import { DEFAULT_K, K_CHOICES, encodingProgress, labelSummary, nearest, neighbourName, neighbourSource, shortText } from '../lib/neighbours.js';

export function mountNeighbours({ state, engine, messages, doc = document }) {
  const $ = (id) => doc.getElementById(id);
  const status = $('neighbours-status');
  const summary = $('neighbours-summary');
  const list = $('neighbours-list');
  const kSelect = $('neighbours-k');
  let k = K_CHOICES.includes(Number(kSelect.value)) ? Number(kSelect.value) : DEFAULT_K;
  let visible = false;
  /** The load for the current model ({model, controller}), under way or done. */
  let job = null;
  /** The current model's test set and encodings, once ready. */
  let data = null;
  let frame = 0;
  let refocus = false;

  const say = (text) => {
    status.textContent = text;
  };
  const current = (j) => j === job && j.model === state.model;

  function reset() {
    job?.controller.abort();
    job = null;
    data = null;
    list.hidden = true;
    summary.hidden = true;
    list.replaceChildren();
    messages.clearError('neighbours');
  }

  /** Starts the current model's load once the panel is seen (first use only). */
  function start() {
    const model = state.model;
    if (!visible || !model || !engine.explorer || job?.model === model) return;
    job = { model, controller: new AbortController() };
    load(job);
  }

  async function load(j) {
    const { model } = j;
    const source = neighbourSource(model);
    if (source.reason) return say(source.reason);
    const name = (url) => decodeURIComponent(url.pathname.split('/').pop());
    try {
      say('Downloading the test images…');
      const init = { signal: j.controller.signal };
      const onProgress = (bytes) => current(j) && say(`Downloading the test images (${(bytes / 1e6).toFixed(1)} MB)…`);
      const [imagesBytes, labelsBytes] = await Promise.all([
        fetchBytes(source.images, 'the test images', onProgress, init),
        source.labels ? fetchBytes(source.labels, 'the test images’ labels', null, init) : null,
      ]);
      if (!current(j)) return;
      const set = parseIdxPair(imagesBytes, labelsBytes, { imagesName: name(source.images), labelsName: source.labels ? name(source.labels) : '', field: model.image });
      const size = set.width * set.height;
      const chunk = (from, m) => toFloats(set.pixels.subarray(from * size, (from + m) * size));
      let shownThousands = -1;
      const progress = (done) => {
        // About ten updates: the status is read out by screen readers.
        const th = Math.floor(done / 1000);
        if (!current(j) || (th === shownThousands && done < set.count)) return;
        shownThousands = th;
        say(encodingProgress(done, set.count));
      };
      say(encodingProgress(0, set.count));
      let encoded = null;
      while (!encoded) {
        const ex = engine.explorer;
        try {
          encoded = await engine.encodeOnce(chunk, set.count, { onProgress: progress });
        } catch (err) {
          // A failing GPU hands the model to the CPU: encode again there.
          if (!current(j) || engine.explorer === ex) throw err;
        }
        // null: the same model moved to another backend meanwhile; its encodings start again.
        if (!current(j)) return;
      }
      data = { model, mus: encoded.mu, dim: model.latentDim, labels: set.labels, pixels: set.pixels, count: set.count, image: { width: set.width, height: set.height } };
      say(`Searching all ${set.count.toLocaleString('en')} test images, as encoded by this model.`);
      messages.clearError('neighbours');
      schedule();
    } catch (err) {
      if (!current(j)) return; // aborted by a model change
      console.error(err);
      const text = `Could not show the nearest neighbours: ${sentence(errorText(err))}`;
      say(text);
      messages.error(text, 'neighbours');
    }
  }

  function schedule() {
    if (data && !frame) frame = requestAnimationFrame(render);
  }

  /** One list item: a button with the image, its digit and its distance. */
  function item() {
    const li = doc.createElement('li');
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = 'neighbour';
    const canvas = doc.createElement('canvas');
    canvas.setAttribute('aria-hidden', 'true');
    const text = doc.createElement('span');
    text.className = 'neighbour-text';
    button.append(canvas, text);
    li.append(button);
    return li;
  }

  function render() {
    frame = 0;
    if (!data || data.model !== state.model) return;
    const { mus, dim, labels, pixels, image } = data;
    const found = nearest(mus, dim, state.z, k);
    while (list.children.length > found.length) list.lastElementChild.remove();
    while (list.children.length < found.length) list.append(item());
    const size = image.width * image.height;
    found.forEach(({ index, distance }, r) => {
      const button = list.children[r].firstElementChild;
      const [canvas, text] = button.children;
      const label = labels[index];
      if (button.dataset.index !== String(index)) {
        sizeCanvas(canvas, image);
        paintImages(canvas, toFloats(pixels.subarray(index * size, (index + 1) * size)), image);
        button.dataset.index = String(index);
        button.dataset.label = String(label);
      }
      // The exact distance for tests; the text rounds it.
      button.dataset.distance = String(distance);
      text.textContent = shortText(label, distance);
      button.setAttribute('aria-label', neighbourName(index, label, distance));
    });
    summary.textContent = labelSummary(found.map((f) => labels[f.index]));
    summary.hidden = false;
    list.hidden = false;
    if (refocus) {
      refocus = false;
      // The clicked image is now first: keep the keyboard on it.
      if (list.contains(doc.activeElement)) list.firstElementChild?.firstElementChild?.focus();
    }
  }

  list.addEventListener('click', (e) => {
    const button = e.target.closest('button[data-index]');
    if (!button || !data || data.model !== state.model) return;
    const i = Number(button.dataset.index);
    const mu = data.mus.subarray(i * data.dim, (i + 1) * data.dim);
    refocus = true;
    state.setZ(state.model.ranges.map(([lo, hi], j) => clamp(mu[j], lo, hi)), { t: eventTime(e), source: 'neighbours' });
  });

  kSelect.addEventListener('change', () => {
    k = Number(kSelect.value) || DEFAULT_K;
    schedule();
  });

  // Inside the panel's body: folded away, it does not intersect either.
  new IntersectionObserver((entries) => {
    visible = entries[entries.length - 1].isIntersecting;
    start();
  }).observe(status);

  state.on('model', (model) => {
    reset();
    const source = neighbourSource(model);
    say(source.reason ?? 'The test images are downloaded and encoded when this panel is shown.');
    start();
  });
  state.on('z', schedule);
  state.on('failed', () => say('No model could be loaded, so there are no neighbours to show.'));
}
