// Header: the model's description, the Model menu (switches in place; models kept in this
// browser in a group of their own), the model file actions (download the current model as a
// zip, open one, remove a local model) and the Backend menu (reloads the page with ?backend=).

import { errorText, sentence } from '../lib/format.js';
import { localTitle } from '../lib/model-store.js';
import { saveBlob } from '../lib/download.js';
import { MAX_WEIGHTS_BYTES } from '../load.js';

/** One line about a bundle: title, test loss, active dimensions, architecture, epochs. */
export function describeModel(m, entry) {
  const parts = [];
  parts.push(m.title || entry.title || m.name || entry.name);
  const met = m.metrics ?? {};
  if (Number.isFinite(met.test_loss_nats)) {
    let s = `test loss ${met.test_loss_nats.toFixed(1)} nats`;
    if (Number.isFinite(met.recon_nats) && Number.isFinite(met.kl_nats)) {
      s += ` (reconstruction ${met.recon_nats.toFixed(1)} + KL ${met.kl_nats.toFixed(1)})`;
    }
    if (Number.isFinite(met.images)) s += ` on ${met.images.toLocaleString('en')} test images`;
    parts.push(s);
  }
  const activeCount = (m.latent ?? []).filter((l) => l.active !== false).length;
  if (m.latent?.length) parts.push(`${activeCount} of ${m.latent.length} latent dimensions active`);
  const arch = m.architecture;
  if (arch?.kind) {
    const hidden = Array.isArray(arch.hidden) && arch.hidden.length ? ` ${arch.hidden.join('–')}` : '';
    const channels = Array.isArray(arch.channels) && arch.channels.length ? ` channels ${arch.channels.join('–')}` : '';
    const kind = arch.kind === 'conv' ? 'Convolutional' : String(arch.kind).toUpperCase();
    parts.push(`${kind}${channels}${hidden}`);
  }
  if (Number.isFinite(m.training?.epochs)) parts.push(`${m.training.epochs} epochs`);
  return parts.join(' · ');
}

/**
 * `switchTo(name)` resolves to false when the switch failed (the current model stays);
 * `useLocal(bundle, {title})` makes a bundle the page's model and keeps it in this browser;
 * `removeLocal(name)` forgets a local model. Both resolve to false after saying why.
 */
export function mountMenus({ state, engine, messages, backend, switchTo, useLocal, removeLocal, loc = location, doc = document }) {
  const info = doc.getElementById('model-info');
  const field = doc.getElementById('model-field');
  const modelSelect = doc.getElementById('model-select');
  const backendSelect = doc.getElementById('backend-select');

  backendSelect.value = backend.requested;
  if (!backend.known) {
    messages.error(`Unknown backend “${backend.raw}” in the address; using Auto. Choose WebGPU, CPU or Auto from the Backend menu.`, 'url');
  }
  backendSelect.addEventListener('change', () => {
    const url = new URL(loc.href);
    url.searchParams.set('backend', backendSelect.value);
    loc.assign(url.href);
  });

  modelSelect.addEventListener('change', async () => {
    await busy(modelSelect, async () => {
      if (!(await switchTo(modelSelect.value))) modelSelect.value = state.model?.entry.name ?? '';
    });
  });

  state.on('models', (models) => {
    // Shipped models first, then those kept in this browser, in a group of their own.
    const option = (m) => Object.assign(doc.createElement('option'), { value: m.name, textContent: m.title || m.name });
    const local = models.filter((m) => m.local);
    const group = doc.createElement('optgroup');
    group.label = 'Trained in this browser';
    group.append(...local.map(option));
    modelSelect.replaceChildren(...models.filter((m) => !m.local).map(option), ...(local.length ? [group] : []));
    if (state.model) modelSelect.value = state.model.entry.name;
    field.hidden = models.length < 2;
  });
  state.on('selected', (entry) => {
    modelSelect.value = entry.name;
  });
  state.on('preview', ({ entry, manifest }) => {
    info.textContent = describeModel(manifest, entry);
  });
  state.on('model', (model) => {
    info.textContent = describeModel(model.manifest, model.entry);
    modelSelect.value = model.entry.name;
  });
  state.on('failed', () => {
    info.textContent = 'No model loaded.';
  });

  mountModelFiles({ state, engine, messages, useLocal, removeLocal, doc });
}

/** Runs `fn` with `control` disabled and marked busy. */
async function busy(control, fn) {
  control.disabled = true;
  control.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    control.disabled = false;
    control.removeAttribute('aria-busy');
  }
}

/** Download model, Open model file… and Remove (with a confirmation) for local models. */
function mountModelFiles({ state, engine, messages, useLocal, removeLocal, doc }) {
  const $ = (id) => doc.getElementById(id);
  const actions = $('model-actions');
  const download = $('model-download');
  const open = $('model-open');
  const file = $('model-file');
  const remove = $('model-remove');
  const confirm = $('model-remove-confirm');
  const question = $('model-remove-question');
  const yes = $('model-remove-yes');
  const no = $('model-remove-no');

  state.on('models', () => {
    actions.hidden = false;
  });
  state.on('model', (model) => {
    download.disabled = false;
    remove.hidden = !model.entry.local;
    closeConfirm(false);
  });

  download.addEventListener('click', async () => {
    const { bundle } = engine;
    const name = state.model?.entry.name;
    if (!bundle || !name) return;
    try {
      // Loaded when first needed: the first image does not wait for it.
      const { zipBundle } = await import('../lib/bundle-zip.js');
      saveBlob(new Blob([zipBundle(bundle)], { type: 'application/zip' }), `${name}.zip`, doc);
      messages.clearError('model-file');
    } catch (err) {
      console.error(err);
      messages.error(`Could not save the model as a file: ${sentence(errorText(err))}`, 'model-file');
    }
  });

  open.addEventListener('click', () => file.click());
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    // Cleared, so choosing the same file again is a change too.
    file.value = '';
    if (!chosen) return;
    await busy(open, async () => {
      let bundle;
      try {
        // Refused before it is read into memory.
        if (chosen.size > MAX_WEIGHTS_BYTES) throw new Error(`${chosen.name} is larger than ${MAX_WEIGHTS_BYTES / 2 ** 20} MB: not a model this explorer can load.`);
        const { unzipBundle } = await import('../lib/bundle-zip.js');
        bundle = await unzipBundle(new Uint8Array(await chosen.arrayBuffer()), chosen.name);
      } catch (err) {
        console.error(err);
        messages.error(`Could not open the model file: ${sentence(errorText(err))} The current model stays active.`, 'model-file');
        return;
      }
      messages.clearError('model-file');
      await useLocal(bundle, { title: localTitle(bundle.manifest, 'opened') });
    });
  });

  function closeConfirm(refocus) {
    confirm.hidden = true;
    remove.setAttribute('aria-expanded', 'false');
    if (refocus && !remove.hidden) remove.focus();
  }
  remove.setAttribute('aria-controls', 'model-remove-confirm');
  remove.setAttribute('aria-expanded', 'false');
  remove.addEventListener('click', () => {
    const entry = state.model?.entry;
    if (!entry?.local) return;
    question.textContent = `Remove “${entry.title || entry.name}” from this browser?`;
    confirm.hidden = false;
    remove.setAttribute('aria-expanded', 'true');
    no.focus();
  });
  no.addEventListener('click', () => closeConfirm(true));
  confirm.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeConfirm(true);
  });
  yes.addEventListener('click', async () => {
    const name = state.model?.entry.local ? state.model.entry.name : null;
    if (!name) return closeConfirm(false);
    const ok = await busy(yes, () => removeLocal(name));
    closeConfirm(!ok);
    if (ok) doc.getElementById('model-select').focus();
  });
}
