// The Training panel once opened: reads the settings and the data, runs a training in the
// worker (session.js) from scratch or from the explored model, pauses and resumes it, keeps
// the live view fed, and hands the trained model to the explorer (Use this model) or to the
// person (Download model). Whatever happens here, the explorer keeps working: failures are
// sentences in the panel, and the last trained weights stay usable.

import { TrainingSession } from './session.js';
import { TrainingData } from './data-sources.js';
import { LiveView } from './live-view.js';
import { NETWORKS, bundleNaming, epochText, readSettings, stepText } from '../lib/training-view.js';
import { concatDatasets } from '../lib/training-data.js';
import { DEFAULT_IMAGE, imageSize } from '../lib/image.js';
import { errorText, sentence } from '../lib/format.js';
import { saveBlob } from '../lib/download.js';

/** The live view's pictures are refreshed this often while training (not every step). */
const REFRESH_MS = 800;
/** The model in training is copied to the page this often, so a dying worker loses little. */
const KEEP_MS = 60_000;
/** The status line is a live region: it is rewritten at most this often. */
const STATUS_MS = 1000;

export function startTrainingPanel({ state, engine, useModel, doc = document }) {
  const $ = (id) => doc.getElementById(id);
  const els = {
    panel: $('training'),
    form: $('training-form'),
    settings: [...doc.querySelectorAll('.training-settings')],
    latent: $('train-latent'),
    network: $('train-network'),
    backend: $('train-backend'),
    exploredName: $('train-explored-name'),
    start: $('train-start'),
    pause: $('train-pause'),
    use: $('train-use'),
    download: $('train-download'),
    status: $('training-status'),
    note: $('training-note'),
    error: $('training-error'),
    progress: $('train-mnist-progress'),
  };
  const session = new TrainingSession();
  const view = new LiveView(doc);
  const data = new TrainingData({ state, doc });
  /** The current run: its settings, sizes and step; null before the first Start. */
  let run = null;
  let phase = 'idle';
  /** The last model copied out of the worker: {manifestText, weights, name, step}. */
  let kept = null;
  let confirmRestart = false;
  let refreshTimer = 0;
  let keepTimer = 0;
  let statusAt = 0;
  let statusTimer = 0;

  els.backend.value = engine.stats?.backend === 'WebGPU' ? 'webgpu' : 'cpu';

  function say(text) {
    clearTimeout(statusTimer);
    statusTimer = 0;
    statusAt = performance.now();
    els.status.textContent = text;
  }

  /** The step and loss in words; throttled while training (screen readers read every change). */
  function sayProgress(force = false) {
    const text = () => {
      const s = session.lastStats;
      const words = {
        running: () => (s ? `Training: ${stepText(s)} (${epochText(s)}).` : `Training: the first step is under way${run?.backend === 'WebGPU' ? ' (WebGPU first compiles its kernels, which can take a while)' : ''}…`),
        pausing: () => `Pausing at ${stepText(s)}…`,
        paused: () => `Paused at ${stepText(s)}. Press Resume training to continue.`,
        finished: () => `Finished ${run?.settings.epochs} epochs: ${stepText(s)}.`,
        failed: () => (s ? `Stopped at ${stepText(s)}.` : 'Stopped.'),
      }[phase];
      return words?.();
    };
    // The words are made when they are shown, from the statistics of that moment.
    const show = () => {
      const t = text();
      if (t) say(t);
    };
    const wait = STATUS_MS - (performance.now() - statusAt);
    if (force || wait <= 0) return show();
    if (!statusTimer) statusTimer = setTimeout(show, wait);
  }

  function showError(err) {
    const message = sentence(errorText(err));
    els.error.textContent = message;
    els.error.hidden = false;
  }

  function clearError() {
    els.error.hidden = true;
    els.error.textContent = '';
  }

  const locked = () => phase === 'starting' || phase === 'running' || phase === 'pausing';

  /** Buttons and inputs for the phase: what can be pressed now. */
  function updateControls() {
    const busy = phase === 'starting' || phase === 'pausing';
    const live = run && !run.dead;
    els.start.disabled = busy;
    els.pause.disabled = !(phase === 'running' || phase === 'paused') || !live;
    els.pause.textContent = phase === 'paused' ? 'Resume training' : 'Pause training';
    els.use.disabled = busy || !((live && run.step > 0) || kept);
    els.download.disabled = els.use.disabled;
    for (const fs of els.settings) fs.disabled = locked();
    data.setDisabled(phase === 'starting');
    syncStartFrom();
  }

  function setPhase(next) {
    phase = next;
    els.panel.dataset.phase = next;
    updateControls();
    clearInterval(keepTimer);
    if (next === 'running') keepTimer = setInterval(() => keep().catch(() => {}), KEEP_MS);
    sayProgress(true);
  }

  /** From the explored model: its latent size and network come with it. */
  function syncStartFrom() {
    const explored = startFrom() === 'explored';
    els.latent.disabled = explored || locked();
    els.network.disabled = explored || locked();
    if (explored && state.model) els.latent.value = String(state.latentDim);
  }

  const startFrom = () => els.form.elements.start?.value ?? 'scratch';

  function formValues() {
    const f = els.form.elements;
    const v = (name) => f[name]?.value;
    return { latent: v('latent'), network: v('network'), epochs: v('epochs'), batchSize: v('batchSize'), learningRate: v('learningRate'), schedule: v('schedule'), beta: v('beta'), warmup: v('warmup'), seed: v('seed') };
  }

  async function start() {
    if (phase === 'starting' || phase === 'pausing') return;
    clearError();
    if (run && !run.dead && run.step > 0 && !run.handedOut && !confirmRestart) {
      confirmRestart = true;
      say(`Starting again replaces the model in training (${stepText(session.lastStats)}). Press Start training once more to do so, or first use or download it.`);
      return;
    }
    confirmRestart = false;
    let settings;
    try {
      settings = readSettings(formValues());
    } catch (err) {
      return showError(err);
    }
    const base = startFrom() === 'explored' ? engine.bundle : null;
    if (startFrom() === 'explored' && !base?.manifestText) return showError('There is no model in the explorer to start from yet.');
    const manifest = base ? base.manifest ?? JSON.parse(base.manifestText) : null;
    const image = manifest ? imageSize(manifest) : DEFAULT_IMAGE;
    const before = phase;
    setPhase('starting');
    let replaced = false;
    try {
      const personal = await data.personal(image);
      const mnist = data.useMnist;
      if (!mnist && personal.count === 0) throw new Error('There are no training images: tick the MNIST training set, add a drawing or add image files.');
      // From here on the worker's previous trainer is replaced.
      replaced = true;
      stopRefreshing();
      run = null;
      say('Starting: loading the training module…');
      session.lastStats = null;
      const info = await session.request('init', { settings, backend: els.backend.value, image, fineTune: base ? { manifestText: base.manifestText, weights: base.weights } : undefined });
      if (mnist) {
        say('Downloading the MNIST training set…');
        els.progress.hidden = false;
        await session.request('mnist');
        els.progress.hidden = true;
      }
      const n = image.width * image.height;
      const mine = personal.count ? concatDatasets(personal.parts, n) : { pixels: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
      say('Preparing the training images…');
      // Copied, not transferred: the person's images stay the page's for the next run.
      const { count } = await session.request('data', { ...mine, mnist });
      const probe = await session.request('probe', mnist ? { mnist: true } : { ...mine, mnist: false });
      const sources = [mnist && 'MNIST', ...personal.words].filter(Boolean).join(' + ');
      const fineTunedFrom = base ? state.model?.entry?.title || state.model?.entry?.name || manifest?.name || 'the explored model' : null;
      const hidden = base ? manifest?.architecture?.hidden ?? [] : settings.hidden;
      run = { ...info, settings, image, count, sources, fineTunedFrom, hidden, step: 0, handedOut: false, dead: false };
      kept = null;
      els.panel.dataset.step = '0';
      view.reset({ latentDim: info.latentDim, image, probeLabels: probe.labels, samples: personal.samples, explorerDim: state.latentDim });
      // The untrained (or not yet fine-tuned) model's pictures, and "before" reconstructions
      // (after any snapshot of the previous run still on its way).
      while (refreshing) await refreshing;
      await refresh({ evaluate: true });
      await session.request('start');
      els.note.textContent = `Training on ${count.toLocaleString('en')} images (${sources}) on the ${info.backend === 'WebGPU' ? 'GPU (WebGPU)' : 'CPU'}, in a background worker: the explorer stays usable.`;
      setPhase('running');
      scheduleRefresh();
    } catch (err) {
      els.progress.hidden = true;
      showError(`Could not start training: ${sentence(errorText(err))}`);
      // Refused before the worker was touched: the previous run goes on as it was.
      if (!replaced) {
        setPhase(before);
        if (before === 'running') scheduleRefresh();
        return;
      }
      run = null;
      setPhase('idle');
      say('Not training.');
    }
  }

  async function togglePause() {
    clearError();
    try {
      if (phase === 'running') {
        setPhase('pausing');
        stopRefreshing();
        await session.request('pause');
        if (phase !== 'pausing') return; // it finished or failed meanwhile
        setPhase('paused');
        await refresh({ evaluate: true });
        keep().catch(() => {});
      } else if (phase === 'paused') {
        await session.request('start');
        setPhase('running');
        scheduleRefresh();
      }
    } catch (err) {
      // A dead worker has said so already, with what is kept.
      if (!run?.dead) showError(err);
      if (phase === 'pausing') setPhase('failed');
    }
  }

  /**
   * One snapshot of the model in training for the live view. Asked for while one is on its
   * way, it runs once that one is done (with the evaluation if either asked for it).
   */
  let refreshing = null;
  let again = null;
  let refreshes = 0;
  function refresh({ evaluate = false } = {}) {
    if (!run || run.dead) return Promise.resolve();
    if (refreshing) {
      again = { evaluate: evaluate || Boolean(again?.evaluate) };
      return refreshing;
    }
    const zs = view.zs(state.z);
    const recon = view.samples.length ? view.reconInput() : undefined;
    const transfer = [zs.buffer, ...(recon ? [recon.pixels.buffer] : [])];
    refreshing = session
      .request('snapshot', { zs, n: zs.length / run.latentDim, map: true, evaluate, recon }, transfer)
      .then((res) => view.onSnapshot(res))
      .catch((err) => {
        if (!run?.dead) showError(`Could not update the live view: ${sentence(errorText(err))}`);
      })
      .finally(() => {
        refreshing = null;
        const next = again;
        again = null;
        if (next) refresh(next);
      });
    return refreshing;
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      if (phase !== 'running') return;
      await refresh({ evaluate: ++refreshes % 4 === 0 });
      scheduleRefresh();
    }, REFRESH_MS);
  }

  function stopRefreshing() {
    clearTimeout(refreshTimer);
  }

  /** What is left to use when the model in training is gone: the last copy, if any. */
  function keptText(noun) {
    return kept ? ` The ${noun} from step ${kept.step.toLocaleString('en')} is kept: Use this model and Download model still work.` : ' Start training again to continue.';
  }

  /** Copies the model in training out of the worker (kept if the worker dies later). */
  async function keep() {
    if (!run || run.dead || run.step === 0) return kept;
    const naming = bundleNaming({ latentDim: run.latentDim, hidden: run.hidden, step: run.step, sources: run.sources, fineTunedFrom: run.fineTunedFrom });
    const step = run.step;
    const bundle = await session.request('export', naming);
    kept = { ...bundle, name: naming.name, step };
    return kept;
  }

  /** The model to hand out: the one in training now, or the last kept copy. */
  async function current() {
    if (run && !run.dead && run.step > 0) {
      try {
        return await keep();
      } catch (err) {
        // The worker died on the way: the copy kept before it is the model now.
        if (run?.dead && kept) return kept;
        throw err;
      }
    }
    if (kept) return kept;
    throw new Error('There is no trained model yet: press Start training first.');
  }

  async function use() {
    clearError();
    els.use.disabled = true;
    try {
      const b = await current();
      const ok = await useModel({ manifestText: b.manifestText, weights: b.weights.slice() });
      if (!ok) throw new Error('the explorer could not start it (it says why above); the previous model stays active');
      if (run) run.handedOut = true;
      say(`The explorer now uses the model trained to step ${b.step.toLocaleString('en')}.`);
    } catch (err) {
      showError(`Could not use the trained model: ${sentence(errorText(err))}`);
    } finally {
      updateControls();
    }
  }

  async function download() {
    clearError();
    els.download.disabled = true;
    try {
      const b = await current();
      const { zipBundle } = await import('../lib/bundle-zip.js');
      const zip = await zipBundle({ manifestText: b.manifestText, weights: b.weights });
      saveBlob(new Blob([zip], { type: 'application/zip' }), `${b.name}.zip`, doc);
      if (run) run.handedOut = true;
      say(`Saved ${b.name}.zip (the model at step ${b.step.toLocaleString('en')}).`);
    } catch (err) {
      showError(`Could not download the model: ${sentence(errorText(err))}`);
    } finally {
      updateControls();
    }
  }

  session.on('stats', (s) => {
    if (!run) return;
    run.step = s.step;
    els.panel.dataset.step = String(s.step);
    view.onStats(s);
    if (els.use.disabled && phase === 'running') updateControls();
    sayProgress();
  });
  session.on('progress', ({ loaded, total }) => {
    els.progress.max = total;
    els.progress.value = loaded;
    say(`Downloading the MNIST training set: ${Math.floor((100 * loaded) / total)} %…`);
  });
  session.on('stopped', async ({ reason, message, readable }) => {
    if (!run) return;
    if (reason === 'finished') {
      stopRefreshing();
      setPhase('finished');
      await refresh({ evaluate: true });
      keep().catch(() => {});
    } else if (reason === 'failed') {
      stopRefreshing();
      setPhase('failed');
      if (readable === false) {
        // The weights went with the failure (a lost GPU device): the copy kept before is the model now.
        run.dead = true;
        updateControls();
        const why = run.backend === 'WebGPU' ? ': its WebGPU device stopped working' : '';
        showError(`Training stopped: ${message} The model in training cannot be read any more${why}.${keptText('copy')} The explorer is not affected.`);
        return;
      }
      const said = /last good step/.test(message) ? '' : ' The weights of the last good step are kept.';
      showError(`Training stopped: ${message}${said} You can still use or download them, or start again with other settings.`);
      await refresh({ evaluate: true });
    }
  });
  session.on('died', ({ message }) => {
    stopRefreshing();
    if (run) run.dead = true;
    setPhase('failed');
    showError(`${message}${keptText('model')} The explorer is not affected.`);
  });

  els.start.addEventListener('click', start);
  els.pause.addEventListener('click', togglePause);
  els.use.addEventListener('click', use);
  els.download.addEventListener('click', download);
  els.form.addEventListener('submit', (e) => e.preventDefault());
  els.form.addEventListener('change', (e) => {
    if (e.target.name === 'start') syncStartFrom();
    confirmRestart = false;
  });
  // While paused or finished, the "current z" picture follows the explorer's sliders.
  let zTimer = 0;
  state.on('z', () => {
    if (phase !== 'paused' && phase !== 'finished') return;
    clearTimeout(zTimer);
    zTimer = setTimeout(() => refresh(), 100);
  });
  state.on('model', (model) => {
    els.exploredName.textContent = model.entry?.title || model.entry?.name || 'the current model';
    syncStartFrom();
    if (run) view.describeCurrent(model.latentDim);
  });
  if (state.model) els.exploredName.textContent = state.model.entry?.title || state.model.entry?.name || '';
  doc.addEventListener('visibilitychange', () => {
    if (doc.hidden && phase === 'running') els.note.textContent = 'Training continues in the background while this tab is hidden.';
  });

  setPhase('idle');
  say('Not started. Choose the settings and the training data, then press Start training.');
  return { session, view, data, networks: NETWORKS };
}
