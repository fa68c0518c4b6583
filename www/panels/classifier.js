// Classifier readout (Decoded image panel): the bundle's digit classifier, run in wasm on every
// decoded image, says what the decoder drew ("looks like a 7 · 92 %"), with a bar per class.
// Its weights are fetched only once the first image is painted, so that first paint never
// waits for them. A model without a classifier (one trained in the page, an older bundle)
// hides the readout. The classifier is published on the state (state.classifier) for the
// latent map's class regions.

import { Backend } from '../lib/backends.js';
import { errorText, sentence } from '../lib/format.js';
import { percent, reading, topClass } from '../lib/classify.js';
import { fetchBytes, loadModule } from '../load.js';

export function mountClassifier({ state, engine, messages, doc = document }) {
  const box = doc.getElementById('classifier');
  const el = (tag, className, text = '') => {
    const e = doc.createElement(tag);
    e.className = className;
    e.textContent = text;
    return e;
  };
  // The sentence carries the meaning; the bars repeat it for the eye only.
  const line = el('p', 'classifier-line');
  const name = el('span', 'classifier-name', 'Classifier:');
  name.setAttribute('aria-hidden', 'true');
  const text = el('span', 'classifier-reading');
  line.append(name, ' ', text);
  const chart = el('div', 'classifier-bars');
  chart.setAttribute('aria-hidden', 'true');
  box.replaceChildren(line, chart);

  /** The loaded classifier: {model, classes, classify, free, bars}, or null. */
  let current = null;
  /** The last image painted for the current model (classified as soon as the classifier is ready). */
  let latest = null;
  /** Bumped on every model: a load that finishes for an older one is dropped. */
  let generation = 0;

  const hide = () => {
    box.hidden = true;
  };

  function drop(why) {
    current?.free();
    current = null;
    hide();
    state.setClassifier(null, why);
  }

  state.on('model', (model) => {
    const mine = ++generation;
    latest = null;
    messages.clearError('classifier');
    const info = model.manifest?.classifier;
    if (!info || !model.base) {
      drop('This model has no classifier, so there are no class regions to show.');
      return;
    }
    drop('Waiting for the classifier…');
    load(model, info, mine);
  });

  async function load(model, info, mine) {
    await engine.firstImage;
    if (mine !== generation) return;
    let wasm;
    try {
      if (typeof info.weights !== 'string' || info.weights === '') throw new Error('The model manifest names no file for the classifier’s weights.');
      const [weights, module] = await Promise.all([
        fetchBytes(new URL(info.weights, model.base), 'the classifier weights'),
        engine.module ?? loadModule(Backend.CPU),
      ]);
      if (mine !== generation) return;
      if (typeof module?.Classifier?.create !== 'function') {
        throw new Error('The WebAssembly module has no classifier: it is older than this page (rebuild it with “make wasm”).');
      }
      wasm = module.Classifier.create(JSON.stringify(model.manifest), weights);
    } catch (err) {
      if (mine !== generation) return;
      console.error(err);
      state.setClassifier(null, 'The classifier could not be loaded.');
      messages.error(`The classifier could not be loaded: ${sentence(errorText(err))} The rest of the page works without it.`, 'classifier');
      return;
    }
    current = publish(model, wasm);
    if (latest) show(latest);
    state.setClassifier(current);
  }

  /** The classifier as the page shares it: refuses work once freed (a model switch). */
  function publish(model, wasm) {
    const classes = Array.from(wasm.classes, String);
    let freed = false;
    const bars = classes.map((label) => {
      const bar = el('span', 'classifier-bar');
      bar.append(el('span', 'classifier-fill'), el('span', 'classifier-label', label));
      return bar;
    });
    chart.replaceChildren(...bars);
    return {
      model,
      classes,
      bars,
      classify(images, n) {
        if (freed) throw new Error('This classifier belonged to the previous model.');
        return wasm.classify(images, n);
      },
      free() {
        if (freed) return;
        freed = true;
        wasm.free();
      },
    };
  }

  // Runs inside the decoder's paint: it must never throw, or the image would count as failed.
  engine.on('image', (pixels) => {
    latest = pixels;
    if (current) show(pixels);
  });

  function show(pixels) {
    try {
      const probs = current.classify(pixels, 1);
      const top = topClass(probs, current.classes);
      const words = reading(top);
      if (text.textContent !== words) text.textContent = words;
      current.bars.forEach((bar, j) => {
        bar.style.setProperty('--p', String(percent(probs[j]) / 100));
        bar.classList.toggle('top', j === top.index);
      });
      box.hidden = false;
    } catch (err) {
      console.error(err);
      drop('The classifier failed.');
      messages.error(`The classifier failed on the decoded image: ${sentence(errorText(err))} The rest of the page works without it.`, 'classifier');
    }
  }
}
