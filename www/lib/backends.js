// The backends as one set of names. The page asks for 'auto', 'webgpu' or 'cpu'; an explorer
// reports "WebGPU" or "CPU" from its `backend` getter. Everything compares through these.

export const Backend = Object.freeze({ AUTO: 'auto', WEBGPU: 'webgpu', CPU: 'cpu' });

/** Labels for the status line and the Backend menu. */
export const BACKEND_LABEL = Object.freeze({ [Backend.AUTO]: 'Auto', [Backend.WEBGPU]: 'WebGPU', [Backend.CPU]: 'CPU' });

/** Which backend an explorer runs on (Backend.WEBGPU or Backend.CPU), or null without one. */
export function backendOf(explorer) {
  const name = explorer ? String(explorer.backend).toLowerCase() : '';
  return name === Backend.WEBGPU ? Backend.WEBGPU : name === Backend.CPU ? Backend.CPU : null;
}

/** The `backend` address parameter: what was asked for, and whether it named a backend. */
export function parseBackend(text) {
  const raw = (text ?? Backend.AUTO).trim().toLowerCase();
  const known = Object.values(Backend).includes(raw);
  return { raw, requested: known ? raw : Backend.AUTO, known };
}
