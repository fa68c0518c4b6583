// Header: the model's description, the Model menu (switches in place) and the Backend menu
// (reloads the page with ?backend=).

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

/** `switchTo(name)` resolves to false when the switch failed (the current model stays). */
export function mountMenus({ state, messages, backend, switchTo, loc = location, doc = document }) {
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
    modelSelect.disabled = true;
    modelSelect.setAttribute('aria-busy', 'true');
    try {
      if (!(await switchTo(modelSelect.value))) modelSelect.value = state.model?.entry.name ?? '';
    } finally {
      modelSelect.disabled = false;
      modelSelect.removeAttribute('aria-busy');
    }
  });

  state.on('models', (models) => {
    if (models.length < 2) return;
    for (const m of models) {
      const opt = doc.createElement('option');
      opt.value = m.name;
      opt.textContent = m.title || m.name;
      modelSelect.append(opt);
    }
    field.hidden = false;
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
}
