// Latency table: p50/p95 per operation over the last 200, and the backend; redrawn with the
// status line.

import { fmtMs, percentile } from '../lib/format.js';

const GRIDS = ['interpolation', 'palette', 'prior samples', 'posterior samples'];

export function mountLatency({ stats, messages, doc = document }) {
  const backend = doc.getElementById('latency-backend');
  const body = doc.querySelector('#latency-table tbody');
  const ops = [
    ['image', () => stats.decodeMs],
    ['traversals', () => stats.traversalMs],
    ['encode', () => stats.encodeMs],
    ...GRIDS.map((n) => [n, () => stats.gridMs[n] ?? []]),
  ];
  messages.on('status', () => {
    backend.textContent = stats.backend ? `· ${stats.backend}` : '';
    const rows = [];
    for (const [name, get] of ops) {
      const v = get().slice(-200);
      if (!v.length) continue;
      const tr = doc.createElement('tr');
      for (const text of [name, fmtMs(percentile(v, 50)), fmtMs(percentile(v, 95)), String(get().length)]) {
        const td = doc.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  });
}
