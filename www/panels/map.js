// Latent map panel: the bundle's test encodings on a plane, with the legend and a caption
// saying which plane; picking moves z, a drawing's posterior shows as an ellipse.

import { LatentMap, classColour, fillLegend } from '../latent-map.js';
import { eventTime } from '../lib/format.js';

export function mountMap({ state, doc = document }) {
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
}
