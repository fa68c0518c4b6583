// The page's handle on the training worker (worker.js): starts it on the first request, turns
// requests into promises, and re-emits what it reports. If the worker dies (its script fails
// to load, the wasm traps outside a request, the browser kills it), every pending request
// fails with a sentence, 'died' is emitted, and the last statistics stay readable; the next
// request starts a fresh worker.
//
// Events: 'stats' (stats), 'progress' {loaded, total}, 'stopped' {reason, message?, readable?, stats},
// 'died' {message}.

import { Emitter } from '../lib/emitter.js';
import { errorText, sentence } from '../lib/format.js';

export class TrainingSession extends Emitter {
  #worker = null;
  #pending = new Map();
  #nextId = 1;
  /** The last statistics the worker reported (kept when it dies). */
  lastStats = null;

  /** `createWorker()` is injectable for tests; the page's starts worker.js as a module worker. */
  constructor({ createWorker = () => new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'vae-training' }) } = {}) {
    super();
    this.createWorker = createWorker;
  }

  get started() {
    return this.#worker !== null;
  }

  /** Sends a request; resolves to its result, or rejects with an Error in words. */
  request(type, payload = {}, transfer = []) {
    let worker;
    try {
      worker = this.#ensure();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, type });
      try {
        worker.postMessage({ ...payload, id, type }, transfer);
      } catch (err) {
        this.#pending.delete(id);
        reject(new Error(`Could not send “${type}” to the training worker: ${sentence(errorText(err))}`));
      }
    });
  }

  /** Stops the worker (its trainer and memory go with it). */
  terminate() {
    this.#worker?.terminate();
    this.#worker = null;
    this.#failAll('The training worker was stopped.');
  }

  #ensure() {
    if (this.#worker) return this.#worker;
    let worker;
    try {
      worker = this.createWorker();
    } catch (err) {
      throw new Error(`Could not start the training worker: ${sentence(errorText(err))}`);
    }
    worker.onmessage = ({ data }) => this.#receive(worker, data);
    worker.onerror = (e) => {
      e.preventDefault?.();
      const why = e.message ? sentence(errorText(e.message)) : 'its script could not be loaded or it crashed.';
      this.#died(worker, `The training worker stopped: ${why}`);
    };
    worker.onmessageerror = () => this.#died(worker, 'The training worker sent a message the page could not read.');
    this.#worker = worker;
    return worker;
  }

  #receive(worker, data) {
    if (worker !== this.#worker || !data) return;
    if (data.id !== undefined) {
      const p = this.#pending.get(data.id);
      if (!p) return;
      this.#pending.delete(data.id);
      if (data.ok) p.resolve(data.result);
      else p.reject(new Error(data.error || `The training worker could not ${p.type}.`));
      return;
    }
    if (data.type === 'stats') this.lastStats = data.stats;
    if (data.type === 'stopped' && data.stats) this.lastStats = data.stats;
    this.emit(data.type, data.type === 'stats' ? data.stats : data);
  }

  #died(worker, message) {
    if (worker !== this.#worker) return;
    worker.terminate();
    this.#worker = null;
    this.#failAll(message);
    this.emit('died', { message });
  }

  #failAll(message) {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new Error(message));
  }
}
