// Compare models: a second model from the list beside the page's, on the CPU backend. The same
// z decoded by both (when the latent sizes match), the drawing encoded and reconstructed by
// each with its −ELBO at z = μ, and each bundle's active dimensions and test loss.

import { LatestScheduler } from '../lib/decode-scheduler.js';
import { paintImages, sizeCanvas } from '../lib/image.js';
import { errorText, sentence } from '../lib/format.js';
import { Side, activeText, elboText, resample, sameZNote, scoreAtMean, testLossText, verdict } from '../lib/compare.js';

const titleOf = (model) => model.entry.title || model.entry.name;

/** `openSide(name)` starts a list entry on the CPU: {explorer, model}; the caller frees it. */
export function mountCompare({ state, engine, openSide, doc = document }) {
  const $ = (id) => doc.getElementById(id);
  const select = $('compare-select');
  const status = $('compare-status');
  const table = $('compare-table');
  const [zA, zB, reconA, reconB] = ['compare-z-a', 'compare-z-b', 'compare-recon-a', 'compare-recon-b'].map($);
  /** The other model (a Side), or null. */
  let side = null;
  let opening = 0; // bumped by every pick: a slower earlier pick is dropped
  let pageName = null;
  let lastMain = null; // the main image: the page's model at the current z, already decoded
  let drawRun = 0;
  let drawBusy = 0;
  let timer = 0;
  let scored = null; // the pair of models the drawing's figures are for

  function say(text, error = false) {
    status.textContent = text;
    status.classList.toggle('error', error);
  }
  function fail(what, err) {
    console.error(err);
    say(`${what}: ${sentence(errorText(err))} The rest of the page is unaffected.`, true);
  }

  // The other model's decode of z: one in flight, the newest z next, after the main image.
  const zDecoder = new LatestScheduler({
    maxInFlight: 1,
    run: async ({ s, z }) => {
      await engine.mainIdle();
      // Replaced, or a newer z waits, or z is from a page model of another latent size.
      if (s !== side || zDecoder.hasPending || z.length !== s.model.latentDim) return null;
      return { s, pixels: await s.use((ex) => ex.decode(z)) };
    },
    apply: (res) => {
      if (!res || res.s !== side) return false;
      paintImages(zB, res.pixels, res.s.model.image);
      return true;
    },
    onError: (err) => fail(`Could not decode z with “${side ? titleOf(side.model) : 'the other model'}”`, err),
  });
  // Tests wait for this work like any other; a replaced page explorer is freed only after it.
  engine.countBusy(() => zDecoder.inFlight + (zDecoder.hasPending ? 1 : 0) + drawBusy + (timer ? 1 : 0));

  const sameZ = () => side && state.model && !sameZNote(state.model, side.model);
  function paintMain() {
    const image = state.model?.image;
    if (sameZ() && lastMain?.length === image.width * image.height) paintImages(zA, lastMain, image);
  }
  function requestZ() {
    if (sameZ()) zDecoder.submit({ s: side, z: Float32Array.from(state.z) });
  }

  function fillOptions() {
    const option = (m) => Object.assign(doc.createElement('option'), { value: m.name, textContent: m.title || m.name });
    const others = state.models.filter((m) => m.name !== pageName);
    const group = doc.createElement('optgroup');
    group.label = 'Trained in this browser';
    group.append(...others.filter((m) => m.local).map(option));
    const keep = select.value; // the other model, or one being opened
    select.replaceChildren(option({ name: '', title: 'None' }), ...others.filter((m) => !m.local).map(option), ...(group.children.length ? [group] : []));
    select.value = others.some((m) => m.name === keep) ? keep : '';
  }

  /** The drawing's figures once there are some for this pair of models, else what they wait for. */
  function showDrawing() {
    let note = null;
    if (!state.drawing) note = 'Draw a digit on the pad to see how each model explains it.';
    else if (!state.posterior) note = 'Waiting for the page’s model to encode your drawing…';
    else if (scored?.s !== side || scored?.model !== state.model) note = 'Encoding your drawing with both models…';
    for (const id of ['compare-draw-row', 'compare-verdict']) $(id).hidden = Boolean(note);
    $('compare-draw-empty').hidden = !note;
    $('compare-draw-note').textContent = note ?? '';
  }

  /** Everything the two columns show, for the current pair of models. */
  function render() {
    table.hidden = !side || !state.model;
    $('compare-caption').hidden = table.hidden;
    if (table.hidden) return;
    const [a, b] = [state.model, side.model];
    for (const [key, m, tail] of [['a', a, 'the page’s model'], ['b', b, 'on the CPU']]) {
      const head = $(`compare-title-${key}`);
      head.replaceChildren(titleOf(m), Object.assign(doc.createElement('span'), { className: 'compare-sub', textContent: tail }));
      $(`compare-active-${key}`).textContent = activeText(m.manifest, m.latentDim);
      $(`compare-test-${key}`).textContent = testLossText(m.manifest);
    }
    for (const [canvas, m, what] of [[zA, a, 'decoding the current z'], [zB, b, 'decoding the current z'], [reconA, a, 'reconstructing your drawing at z = μ'], [reconB, b, 'reconstructing your drawing at z = μ']]) {
      sizeCanvas(canvas, m.image);
      canvas.setAttribute('aria-label', `Compare: ${m.entry.name} ${what}`);
    }
    const note = sameZNote(a, b);
    $('compare-z-row').hidden = Boolean(note);
    $('compare-z-differ').hidden = !note;
    $('compare-z-note').textContent = note ?? '';
    paintMain();
    requestZ();
    scoreSoon(0);
  }

  function scoreSoon(ms) {
    clearTimeout(timer);
    drawRun++;
    showDrawing();
    timer = side && state.posterior ? setTimeout(scoreDrawing, ms) : 0;
  }

  /** Both models on the drawing: reconstruction at μ and the −ELBO there, side by side. */
  async function scoreDrawing() {
    timer = 0;
    const { drawing, posterior, model } = state;
    const s = side;
    const mine = ++drawRun;
    const stale = () => mine !== drawRun || side !== s || state.posterior !== posterior;
    if (!s || !drawing || !posterior || !model) return;
    drawBusy++;
    try {
      const pa = await engine.decodeOnce(Float32Array.from(posterior.mu), 1);
      if (stale() || pa.length !== drawing.pixels.length) return;
      const xb = resample(drawing.pixels, drawing, s.model.image);
      await engine.mainIdle();
      const enc = await s.use((ex) => ex.encode(xb));
      const mu = Float32Array.from(enc?.mu ?? enc?.get?.('mu') ?? []);
      const logVar = Array.from(enc?.logVar ?? enc?.get?.('logVar') ?? []);
      if (mu.length !== s.model.latentDim || logVar.length !== mu.length) {
        throw new Error(`its encoder returned ${mu.length} means and ${logVar.length} log-variances for ${s.model.latentDim} dimensions`);
      }
      if (stale()) return;
      const pb = await s.use((ex) => ex.decode(mu));
      if (stale()) return;
      const a = { title: titleOf(model), image: model.image, score: scoreAtMean(drawing.pixels, posterior.mu, posterior.sigma, pa) };
      const b = { title: titleOf(s.model), image: s.model.image, score: scoreAtMean(xb, mu, logVar.map((lv) => Math.exp(0.5 * lv)), pb) };
      paintImages(reconA, pa, model.image);
      paintImages(reconB, pb, s.model.image);
      $('compare-elbo-a').textContent = `${elboText(a.score)}.`;
      $('compare-elbo-b').textContent = `${elboText(b.score)}.`;
      $('compare-verdict').textContent = verdict(a, b);
      scored = { s, model };
      showDrawing();
    } catch (err) {
      if (!stale()) fail(`Could not compare the models on your drawing`, err);
    } finally {
      drawBusy--;
    }
  }

  /** Makes `name` the other model (none for ''); the previous one stays if it fails to start. */
  async function choose(name) {
    const mine = ++opening;
    select.value = name;
    if (!name) {
      side?.retire();
      side = null;
      say('');
      return render();
    }
    const entry = state.models.find((m) => m.name === name);
    say(`Opening “${entry?.title || name}” on the CPU…`);
    try {
      const opened = await openSide(name);
      if (mine !== opening) return new Side(opened).retire();
      side?.retire();
      side = new Side(opened);
      say(`“${titleOf(side.model)}” runs on the CPU beside the page’s model.`);
      render();
    } catch (err) {
      if (mine !== opening) return;
      select.value = side?.model.entry.name ?? '';
      fail(`Could not open “${entry?.title || name}” for comparison`, err);
    }
  }

  // None is chosen at first: a second model costs a download and CPU time, so only on request.
  select.addEventListener('change', () => choose(select.value));
  state.on('models', () => {
    fillOptions();
    if (side && !state.models.includes(side.model.entry)) choose('');
  });
  state.on('model', (model) => {
    const before = pageName;
    pageName = model.entry.name;
    lastMain = null;
    fillOptions();
    // The other model became the page's: the two swap places (the previous page model is compared).
    if (side?.model.entry.name === pageName) {
      side.retire();
      side = null;
      render();
      choose(state.models.some((m) => m.name === before) ? before : '');
    } else render();
  });
  engine.on('image', (pixels) => {
    lastMain = pixels;
    paintMain();
  });
  state.on('z', requestZ);
  state.on('drawing', () => scoreSoon(200));
  // After the encoder has settled: a drawing in progress is compared once it rests.
  state.on('posterior', () => scoreSoon(200));
}
