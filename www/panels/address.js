// The address holds the view: model, z, anchors A–D, order, inactive dimensions shown or
// not, interpolation, temperature and the map's class regions (only when on).
// It follows every change (throttled) and, on the first load, restores what it says.

import * as lm from '../lib/latent-math.js';
import { defaultAnchors, originZ } from '../state.js';

export function mountAddress({ state, messages, loc = location, hist = history }) {
  const params = new URLSearchParams(loc.search);
  let timer = 0;

  function schedule() {
    if (timer || !state.model) return;
    timer = setTimeout(() => {
      timer = 0;
      const p = new URLSearchParams(loc.search);
      p.set('model', state.model.entry?.name ?? state.model.manifest.name);
      p.set('z', lm.encodeZ(state.z));
      state.anchors.forEach((v, k) => p.set('abcd'[k], lm.encodeZ(v)));
      p.set('order', state.view.order);
      p.set('inactive', state.view.inactive);
      p.set('interp', state.view.interp);
      p.set('t', String(state.view.temperature));
      if (state.view.regions) p.set('regions', 'on');
      else p.delete('regions');
      hist.replaceState(null, '', `${loc.pathname}?${p}`);
    }, 250);
  }
  for (const event of ['model', 'z', 'anchors', 'view']) state.on(event, schedule);

  /** z and the anchors the address gives for `model`; bad values are reported and ignored. */
  function restore(model) {
    const dim = model.latentDim;
    const bad = [];
    const z = originZ(model);
    const zText = params.get('z');
    if (zText !== null) {
      const v = lm.decodeZ(zText, dim);
      if (v) z.set(v);
      else bad.push(`z (expected ${dim} numbers)`);
    }
    const anchors = defaultAnchors(model);
    ['a', 'b', 'c', 'd'].forEach((k, i) => {
      const text = params.get(k);
      if (text === null) return;
      const v = lm.decodeZ(text, dim);
      if (v) anchors[i] = v;
      else bad.push(`anchor ${k.toUpperCase()}`);
    });
    const view = { interp: params.get('interp') === 'slerp' ? 'slerp' : 'linear' };
    const order = params.get('order');
    if (order === 'kl' || order === 'index') view.order = order;
    const inactive = params.get('inactive');
    if (inactive === 'shown' || inactive === 'hidden') view.inactive = inactive;
    const t = Number(params.get('t'));
    if (params.has('t') && t >= 0.1 && t <= 2) view.temperature = t;
    if (params.get('regions') === 'on') view.regions = true;
    state.setView(view);
    if (bad.length) messages.error(`The address has values that do not fit this model (${bad.join(', ')}); they were ignored.`, 'url');
    return { z, anchors };
  }

  return { restore, requestedModel: params.get('model'), requestedBackend: params.get('backend') };
}
