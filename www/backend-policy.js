// The backend policy, in one place: which backend a new model starts on, what happens when
// WebGPU fails (at start: the CPU with a notice; later: the same model moves to the CPU, z and
// the drawing kept), auto's measure-then-decide, and what the status line and notice say.

import { Backend, backendOf } from './lib/backends.js';
import { freeExplorer } from './engine.js';
import { measureBackend, chooseBackend } from './lib/backend-choice.js';
import { capitalised, errorText, sentence } from './lib/format.js';
import { loadModule, startExplorer } from './load.js';
import { testHook } from './hooks.js';
import { STEPS, traversalBatch } from './traversals.js';

const trim = (text) => text.replace(/\.$/, '');

export class BackendPolicy {
  /** state: 'off' (a backend was named), 'no-webgpu', 'measuring', 'decided'. */
  auto = { state: 'off', decision: null };
  /** After a lost device every later model starts on the CPU. */
  gpuLost = false;
  /** Why WebGPU failed to start when it was asked for, else null. */
  #fallbackReason = null;
  #switching = false;

  constructor({ requested, engine, state, messages }) {
    this.requested = requested;
    this.engine = engine;
    this.state = state;
    this.messages = messages;
    engine.onFault((err) => this.#toCpu(err));
    engine.countBusy(() => (this.auto.state === 'measuring' ? 1 : 0));
  }

  /** The module the page loads first: the CPU-only one unless WebGPU was asked for. */
  get firstModule() {
    return this.requested === Backend.WEBGPU ? Backend.WEBGPU : Backend.CPU;
  }

  /** The module that runs `backend` (the WebGPU build also runs the CPU backend). */
  moduleFor(backend) {
    return loadModule(backend === Backend.WEBGPU ? Backend.WEBGPU : this.firstModule);
  }

  /** The backend new explorers start on: the address's choice; under auto the measured one (the CPU until then). */
  backendForNewModels() {
    if (this.gpuLost) return Backend.CPU;
    if (this.requested === Backend.AUTO) return this.auto.decision?.backend ?? Backend.CPU;
    return this.requested;
  }

  /**
   * Under auto, whether there is a WebGPU adapter at all decides whether there is anything to
   * measure (and to download); asked in parallel with the first downloads.
   */
  async hasAdapter() {
    if (this.requested !== Backend.AUTO) return false;
    try {
      return Boolean(await navigator.gpu?.requestAdapter());
    } catch {
      return false;
    }
  }

  /** Once the first model has started: under auto, measure if there is an adapter. */
  afterFirstModel(adapter) {
    if (this.requested === Backend.AUTO) this.auto.state = adapter ? 'measuring' : 'no-webgpu';
  }

  /** Starts a bundle on `backend`; if WebGPU fails, on the CPU with a notice saying why. */
  async create(mod, bundle, backend) {
    try {
      return await startExplorer(mod, bundle, backend);
    } catch (err) {
      if (backend !== Backend.WEBGPU) throw err;
      console.warn('WebGPU backend failed, falling back to CPU:', err);
      this.messages.status('Backend: CPU — starting…');
      // If the CPU fails too, the bundle itself is at fault (damaged weights, ...): that error
      // is reported alone, without a notice blaming WebGPU.
      const ex = await startExplorer(mod, bundle, Backend.CPU);
      this.#fallbackReason = sentence(errorText(err));
      this.messages.notice('WebGPU is unavailable.', `${this.#fallbackReason} Using the CPU backend instead.`);
      return ex;
    }
  }

  /** Status reason and notice for a model that just started on `ex`. */
  describe(ex) {
    const webgpu = backendOf(ex) === Backend.WEBGPU;
    const reason = this.#fallbackReason
      ? `WebGPU was requested but failed (${trim(this.#fallbackReason)}); fell back to the CPU.`
      : this.requested === Backend.AUTO && !this.gpuLost ? this.#autoReason()
      : ex.backendReason ? sentence(ex.backendReason) : '';
    this.messages.reason(`${reason}${adapterText(ex)}`);
    // A warning only when what the person asked for could not be done: under auto the CPU is
    // a choice (no adapter here, or measured faster), said once in the status line.
    if (this.requested === Backend.WEBGPU && !webgpu && !this.messages.noticeShown) {
      this.messages.notice('WebGPU is unavailable.', reason || 'The page fell back to the CPU backend.');
    }
  }

  /**
   * burn creates its WebGPU device inside the wasm. Watching requestDevice from here lets the
   * page hear of a lost device (driver reset, GPU removed, destroy()) at once instead of on
   * the next read.
   */
  watchDevices() {
    const proto = globalThis.GPUAdapter?.prototype;
    if (!proto?.requestDevice) return;
    const requestDevice = proto.requestDevice;
    const policy = this;
    proto.requestDevice = async function watchedRequestDevice(...args) {
      const device = await requestDevice.apply(this, args);
      device.lost?.then((info) => {
        policy.gpuLost = true;
        const why = info?.message || info?.reason || 'no reason given';
        policy.#toCpu(new Error(`the WebGPU device was lost (${trim(String(why))})`));
      });
      return device;
    };
  }

  /**
   * A WebGPU call failed after start-up (device lost, driver reset, ...): start the same model
   * on the CPU backend, keep z and the drawing, and tell the user. Returns false when there is
   * nothing to switch to (already on the CPU).
   */
  #toCpu(err) {
    const { engine } = this;
    if (!engine.explorer || !engine.bundle || backendOf(engine.explorer) !== Backend.WEBGPU) return false;
    this.gpuLost = true;
    if (this.#switching) return true;
    this.#switching = true;
    const why = sentence(errorText(err));
    const { module, bundle } = engine;
    startExplorer(module, bundle, Backend.CPU).then(
      (cpu) => {
        engine.swap({ explorer: cpu, module, bundle, reencode: true });
        this.messages.reason(`WebGPU stopped working (${trim(why)}); switched to the CPU.`);
        this.messages.notice('WebGPU stopped working.', `${capitalised(why)} Decoding continues on the CPU backend; your z and drawing are kept.`);
      },
      (cpuErr) => this.messages.error(`Decoding failed on WebGPU (${why}) and the CPU backend could not start: ${sentence(errorText(cpuErr))}`, 'decode'),
    ).finally(() => {
      this.#switching = false;
    });
    return true;
  }

  #autoReason() {
    switch (this.auto.state) {
      case 'no-webgpu': return 'auto: this browser offers no WebGPU adapter; using the CPU backend.';
      case 'measuring': return 'auto: the CPU backend paints first while WebGPU is measured…';
      default: return sentence(this.auto.decision?.reason ?? '');
    }
  }

  /**
   * Loads the WebGPU module after the first image, times the current model on it and on the
   * CPU (lib/backend-choice.js), and moves to WebGPU in place (z, drawing and panels kept) if it
   * is faster.
   */
  async measureAuto() {
    const { engine, auto } = this;
    // The WebGPU module streams in only after the first image: nothing competes with it.
    await engine.firstImage;
    const target = { ex: engine.explorer, bundle: engine.bundle };
    const zv = Float32Array.from(this.state.z);
    const strips = traversalBatch(zv, this.state.model.ranges);
    let gpu = null;
    let gpuMod = null;
    try {
      gpuMod = await loadModule(Backend.WEBGPU);
      gpu = await startExplorer(gpuMod, target.bundle, Backend.WEBGPU);
      const opts = { z: zv, strips, stripCount: zv.length * STEPS, beforeEach: () => engine.mainIdle() };
      const cpu = await measureBackend(target.ex, opts);
      const webgpu = await measureBackend(gpu, { ...opts, loseAbove: cpu.totalMs });
      // Tests play a machine where WebGPU wins through this hook; the page never sets it.
      testHook('adjustAutoMeasurement')?.({ cpu, webgpu });
      auto.measured = { cpu, webgpu, adapter: String(gpu.adapter) };
      auto.decision = chooseBackend(cpu, webgpu);
    } catch (err) {
      console.warn('auto: WebGPU could not be measured:', err);
      auto.decision = { backend: Backend.CPU, reason: `auto: WebGPU could not be measured (${trim(sentence(errorText(err)))}); using the CPU backend` };
    }
    if (this.gpuLost) auto.decision = { backend: Backend.CPU, reason: 'auto: the WebGPU device was lost while it was measured; using the CPU backend' };
    auto.state = 'decided';
    performance.mark('auto-decided');
    const toGpu = auto.decision.backend === Backend.WEBGPU;
    if (toGpu && engine.explorer === target.ex) {
      this.#adopt(gpu, gpuMod);
      gpu = null;
    }
    if (gpu) freeExplorer(gpu, gpuMod);
    const onCpu = backendOf(engine.explorer) === Backend.CPU;
    if (toGpu && engine.explorer !== target.ex && onCpu) {
      // The model was switched while it was measured: start the new one on WebGPU too.
      const now = engine.bundle;
      startExplorer(gpuMod, now, Backend.WEBGPU).then(
        (ex) => (engine.bundle === now ? this.#adopt(ex, gpuMod) : freeExplorer(ex, gpuMod)),
        (err) => console.warn('auto: the model could not start on WebGPU; it stays on the CPU:', err),
      );
    }
    if (!toGpu && onCpu) {
      this.messages.reason(sentence(auto.decision.reason));
      this.messages.renderStatus();
    }
  }

  /** Moves the page to `ex`, the same model on WebGPU; z and the panels stay. */
  #adopt(ex, mod) {
    this.engine.swap({ explorer: ex, module: mod });
    this.messages.reason(`${this.#autoReason()}${adapterText(ex)}`);
    this.messages.hideNotice();
    this.messages.renderStatus();
  }
}

const adapterText = (ex) => (ex.adapter ? ` Adapter: ${ex.adapter}.` : '');
