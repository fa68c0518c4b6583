// Attribute vectors panel: "towards a 7" from the class means in the bundle, with a strength
// slider that moves z along it from where z was when the slider was first moved.

import { classDirections } from '../lib/latent-math.js';
import { eventTime, fmtSigned } from '../lib/format.js';

export function mountAttributes({ state, doc = document }) {
  const select = doc.getElementById('attribute-class');
  const strength = doc.getElementById('attribute-strength');
  const value = doc.getElementById('attribute-value');
  let directions = new Map();
  let base = null;

  function reset() {
    base = null;
    if (Number(strength.value) !== 0) {
      strength.value = '0';
      value.textContent = '0.00';
    }
  }

  select.addEventListener('change', reset);
  strength.addEventListener('input', (e) => {
    const dir = directions.get(Number(select.value));
    if (!dir) return;
    if (!base) base = Float32Array.from(state.z);
    const s = Number(strength.value);
    value.textContent = fmtSigned(s);
    state.setZ(base.map((v, i) => v + s * dir[i]), { t: eventTime(e), source: 'attribute' });
  });

  state.on('model', (model) => {
    const classes = model.manifest.map?.classes;
    directions = classes?.length ? classDirections(classes) : new Map();
    select.replaceChildren();
    for (const label of directions.keys()) {
      const opt = doc.createElement('option');
      opt.value = String(label);
      opt.textContent = `towards a ${label}`;
      select.append(opt);
    }
    if (directions.has(7)) select.value = '7';
    reset();
    select.disabled = false;
    strength.disabled = false;
  });
  // Any other move of z starts the next attribute move from there.
  state.on('z', ({ source }) => source !== 'attribute' && reset());
}
