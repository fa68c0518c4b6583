// Latent space panel: one slider per dimension (with the posterior's μ ± σ bar, a zero tick
// and an "inactive" tag), the order menu, "Show N inactive dimensions", and the z readout
// under the decoded image.

import { clamp, eventTime, fmtPlain, fmtSigned } from '../lib/format.js';
import { bindInactiveToggle } from '../lib/inactive-toggle.js';

export function mountSliders({ state, doc = document }) {
  const container = doc.getElementById('sliders');
  const readout = doc.getElementById('z-readout');
  const orderSelect = doc.getElementById('order-select');
  let rows = [];
  let cells = [];

  orderSelect.addEventListener('change', () => state.setView({ order: orderSelect.value }));

  function build(model) {
    container.replaceChildren();
    rows = model.ranges.map(([lo, hi], i) => row(model, i, lo, hi));
    readout.replaceChildren();
    cells = model.ranges.map((_, i) => {
      const cell = doc.createElement('span');
      cell.className = model.inactive[i] ? 'z-cell inactive' : 'z-cell';
      const idx = doc.createElement('span');
      idx.className = 'z-index';
      idx.textContent = `${i + 1}`;
      const val = doc.createElement('span');
      val.className = 'z-value';
      cell.append(idx, val);
      readout.append(cell);
      return val;
    });
  }

  function row(model, i, lo, hi) {
    const info = model.manifest.latent?.[i] ?? {};
    const n = i + 1;
    const id = `z-${n}`;
    const el = (tag, className) => {
      const e = doc.createElement(tag);
      if (className) e.className = className;
      return e;
    };
    const rowEl = el('div', model.inactive[i] ? 'slider-row inactive' : 'slider-row');
    const label = el('label', 'slider-label');
    label.htmlFor = id;
    label.textContent = `Latent dimension ${n}`;
    const track = el('div', 'slider-track');
    const input = el('input');
    Object.assign(input, { type: 'range', id, min: String(lo), max: String(hi), step: '0.01', value: String(clamp(0, lo, hi)), disabled: true });

    const band = el('div', 'posterior');
    band.setAttribute('aria-hidden', 'true');
    band.hidden = true;
    const bar = el('span', 'posterior-band');
    const muTick = el('span', 'posterior-mu');
    band.append(bar, muTick);

    const zeroTick = el('span', 'zero-tick');
    zeroTick.setAttribute('aria-hidden', 'true');
    if (lo < 0 && hi > 0) zeroTick.style.left = `${(100 * (0 - lo)) / (hi - lo)}%`;
    else zeroTick.hidden = true;

    const rail = el('div', 'slider-rail');
    rail.append(zeroTick, band);
    track.append(rail, input);

    const output = el('output', 'slider-value');
    output.htmlFor = id;
    // Not a live region: the range input already exposes its value, and 16 "status"
    // elements would drown the real status line.
    output.setAttribute('role', 'none');
    output.textContent = fmtSigned(Number(input.value));

    const post = el('span', 'slider-posterior');
    post.id = `${id}-posterior`;

    const described = [post.id];
    const name = el('span', 'slider-name');
    name.append(label);
    if (model.inactive[i]) {
      const tag = el('span', 'tag');
      tag.id = `${id}-inactive`;
      const kl = Number(info.kl_nats);
      tag.textContent = 'inactive';
      tag.title = `KL ${Number.isFinite(kl) ? kl.toFixed(2) : '≈ 0'} nats on the test set: the decoder ignores this dimension`;
      name.append(' ', tag);
      described.push(tag.id);
    }
    input.setAttribute('aria-describedby', described.join(' '));
    input.addEventListener('input', (e) => state.setDim(i, Number(input.value), { t: eventTime(e), source: 'slider' }));

    rowEl.append(name, post, output, track);
    container.append(rowEl);
    return { row: rowEl, input, output, band, bar, muTick, post, lo, hi };
  }

  /** Moves the sliders and the readout to z (a slider's own input only needs its labels). */
  function sync({ source, dim } = {}) {
    const { z } = state;
    if (source === 'slider' && dim >= 0) {
      rows[dim].output.textContent = fmtSigned(z[dim]);
      cells[dim].textContent = fmtSigned(z[dim]);
      return;
    }
    rows.forEach((r, i) => {
      r.input.value = String(clamp(z[i], r.lo, r.hi));
      r.output.textContent = fmtSigned(z[i]);
      cells[i].textContent = fmtSigned(z[i]);
    });
  }

  function showPosterior(posterior) {
    rows.forEach((r, i) => {
      if (!posterior) {
        r.band.hidden = true;
        r.post.textContent = '';
        return;
      }
      const mu = posterior.mu[i];
      const s = posterior.sigma[i];
      const pct = (v) => (100 * (clamp(v, r.lo, r.hi) - r.lo)) / (r.hi - r.lo);
      const a = pct(mu - s);
      const b = pct(mu + s);
      r.bar.style.left = `${a}%`;
      r.bar.style.width = `${Math.max(0, b - a)}%`;
      r.muTick.style.left = `${pct(mu)}%`;
      r.band.hidden = false;
      r.post.textContent = `μ ${fmtPlain(mu)} ± ${s.toFixed(2)}`;
    });
  }

  function applyOrder() {
    for (const i of state.order) container.append(rows[i].row);
  }

  state.on('model', (model) => {
    build(model);
    sync();
    showPosterior(null);
    applyOrder();
    for (const r of rows) r.input.disabled = false;
  });
  // After the rows exist (the 'model' listener above runs first).
  bindInactiveToggle({
    button: doc.getElementById('sliders-inactive'),
    state,
    doc,
    apply: (visible) => rows.forEach((r, i) => (r.row.hidden = !visible[i])),
  });
  state.on('z', sync);
  state.on('posterior', showPosterior);
  state.on('view', (changed) => {
    if (changed.includes('order')) {
      orderSelect.value = state.view.order;
      if (state.model) applyOrder();
    }
  });
}
