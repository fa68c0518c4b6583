// The decoder benchmark, one runtime per page: window.runBench(config) loads the runtime,
// decodes the same latent vectors at each batch size, checks every output against a
// float64 reference, and times full decodes (z in → pixels back in JS).
//
// Every runtime runs the decoder of the same bundle with the same weights:
//   ours      the wasm API the page uses (burn; WebGPU or CPU backend)
//   tfjs      TensorFlow.js (webgpu, webgl, wasm)
//   ort       ONNX Runtime Web (webgpu, wasm), on the ONNX file made by bench/export_onnx.py
//   wgsl      a hand-written WGSL decoder: the floor on this adapter
//   js        plain JS, float32

const log = (line) => {
  document.getElementById('log').textContent += `${line}\n`;
};

/** Seeded N(0, I) latent vectors (mulberry32 + Box–Muller), so every runtime decodes the same z. */
function latentBatch(n, dim, seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const z = new Float32Array(n * dim);
  for (let i = 0; i < z.length; i++) {
    const u = Math.max(uniform(), 1e-12);
    z[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  }
  return z;
}

const activate = (act, v) => (act === 'relu' ? Math.max(v, 0) : 1 / (1 + Math.exp(-v)));

/** The reference: float64 sums, no shortcuts. */
function referenceDecode(layers, z, n) {
  let h = Float64Array.from(z);
  for (const { inputs, outputs, weight, bias, activation } of layers) {
    const out = new Float64Array(n * outputs);
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < outputs; j++) {
        let s = bias[j];
        for (let k = 0; k < inputs; k++) s += h[b * inputs + k] * weight[k * outputs + j];
        out[b * outputs + j] = activate(activation, s);
      }
    }
    h = out;
  }
  return h;
}

/** Plain JS in float32, loop order chosen for the cache (row of W inner). */
function jsDecode(layers, z, n) {
  let h = z;
  for (const { inputs, outputs, weight, bias, activation } of layers) {
    const out = new Float32Array(n * outputs);
    for (let b = 0; b < n; b++) {
      const o = b * outputs;
      out.set(bias, o);
      for (let k = 0; k < inputs; k++) {
        const hk = h[b * inputs + k];
        if (hk === 0) continue; // after a ReLU about half the inputs are 0
        const row = k * outputs;
        for (let j = 0; j < outputs; j++) out[o + j] += hk * weight[row + j];
      }
      for (let j = o; j < o + outputs; j++) out[j] = activate(activation, out[j]);
    }
    h = out;
  }
  return h;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

const VENDOR = '/vendor';

// ---------------------------------------------------------------- runtimes

const runtimes = {
  async ours({ backend, model }) {
    // The modules the page runs: the CPU-only one (what auto paints with) and the WebGPU one.
    // The page's own load path (www/load.js, mounted at /www/ by bench/run.mjs).
    const { openModel } = await import('/www/load.js');
    const { explorer: ex } = await openModel({ backend, path: `/models/${model}/` });
    const want = backend === 'webgpu' ? 'WebGPU' : 'CPU';
    if (ex.backend !== want) throw new Error(`asked for ${want}, got ${ex.backend}: ${ex.backendReason}`);
    return {
      version: 'vae-explorer (burn 0.22.1)',
      detail: ex.adapter || 'burn-flex, 1 thread',
      decode: (z, n) => ex.decodeBatch(z, n),
    };
  },

  async tfjs({ backend, threads, layers, latent }) {
    await loadScript(`${VENDOR}/@tensorflow/tfjs/dist/tf.min.js`);
    const tf = globalThis.tf;
    if (backend === 'webgpu') await loadScript(`${VENDOR}/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js`);
    if (backend === 'wasm') {
      await loadScript(`${VENDOR}/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js`);
      tf.wasm.setWasmPaths(`${VENDOR}/@tensorflow/tfjs-backend-wasm/dist/`);
      tf.wasm.setThreadsCount(threads);
    }
    if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not start`);
    await tf.ready();
    const params = layers.map((l) => ({
      w: tf.tensor2d(l.weight, [l.inputs, l.outputs]),
      b: tf.tensor1d(l.bias),
      act: l.activation,
    }));
    return {
      version: `@tensorflow/tfjs ${tf.version.tfjs}`,
      detail: backend === 'wasm' ? `${tf.wasm.getThreadsCount?.() ?? threads} thread(s)` : '',
      async decode(z, n) {
        const y = tf.tidy(() =>
          params.reduce((h, { w, b, act }) => {
            const pre = tf.add(tf.matMul(h, w), b);
            return act === 'relu' ? tf.relu(pre) : tf.sigmoid(pre);
          }, tf.tensor2d(z, [n, latent])),
        );
        const data = await y.data();
        y.dispose();
        return data;
      },
    };
  },

  async ort({ backend, threads }) {
    const ort = await import(`${VENDOR}/onnxruntime-web/dist/ort.all.min.mjs`);
    ort.env.wasm.wasmPaths = `${VENDOR}/onnxruntime-web/dist/`;
    ort.env.wasm.numThreads = threads;
    const bytes = new Uint8Array(await (await fetch('/out/decoder.onnx')).arrayBuffer());
    const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend] });
    return {
      version: `onnxruntime-web ${ort.env.versions?.web ?? '?'}`,
      detail: backend === 'wasm' ? `${threads} thread(s)` : '',
      async decode(z, n) {
        const out = await session.run({ z: new ort.Tensor('float32', z, [n, z.length / n]) });
        return out.pixels.getData ? await out.pixels.getData() : out.pixels.data;
      },
    };
  },

  async js({ layers }) {
    return { version: 'plain JS (float32)', detail: '', decode: async (z, n) => jsDecode(layers, z, n) };
  },

  async wgsl({ layers, batches }) {
    return handWgsl(layers, Math.max(...batches));
  },
};

// ---------------------------------------------------------------- hand-written WGSL

// One invocation computes 4 outputs (a vec4 of W's row) for ROWS batch rows: each W load serves
// ROWS rows, each h load 4 outputs. W is row-major [inputs, outputs], so neighbouring
// invocations read neighbouring memory. The accumulators are separate variables, not an array:
// SwiftShader keeps an indexed private array in memory, which measured several times slower.
// ROWS is 1 for batches under 4 (no wasted rows) and 4 otherwise.
const SHADER = /* wgsl */ `
struct Params { batch: u32, inputs: u32, outputs4: u32, act: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;

override ROWS: u32 = 4u;

fn act(v: vec4<f32>) -> vec4<f32> {
  if (p.act == 0u) { return max(v, vec4<f32>(0.0)); }
  return 1.0 / (1.0 + exp(-v));
}

fn store(v: vec4<f32>, b: u32, j: u32) {
  if (b < p.batch) { out[b * p.outputs4 + j] = act(v); }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let j = g.x;
  if (j >= p.outputs4) { return; }
  let b0 = g.y * ROWS;
  let last = p.batch - 1u;
  let h0 = min(b0, last) * p.inputs;
  let h1 = min(b0 + 1u, last) * p.inputs;
  let h2 = min(b0 + 2u, last) * p.inputs;
  let h3 = min(b0 + 3u, last) * p.inputs;
  var a0 = bias[j];
  var a1 = a0;
  var a2 = a0;
  var a3 = a0;
  for (var k = 0u; k < p.inputs; k++) {
    let wk = w[k * p.outputs4 + j];
    a0 += h[h0 + k] * wk;
    if (ROWS > 1u) {
      a1 += h[h1 + k] * wk;
      a2 += h[h2 + k] * wk;
      a3 += h[h3 + k] * wk;
    }
  }
  store(a0, b0, j);
  if (ROWS > 1u) {
    store(a1, b0 + 1u, j);
    store(a2, b0 + 2u, j);
    store(a3, b0 + 3u, j);
  }
}`;

async function handWgsl(layers, maxBatch) {
  if (!navigator.gpu) throw new Error('no WebGPU in this browser');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  const S = GPUBufferUsage;
  const buffer = (size, usage, data) => {
    const b = device.createBuffer({ size: Math.max(16, size), usage, mappedAtCreation: !!data });
    if (data) {
      new Float32Array(b.getMappedRange()).set(data);
      b.unmap();
    }
    return b;
  };
  const latent = layers[0].inputs;
  const module = device.createShaderModule({ code: SHADER });
  const bindings = ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'];
  const groupLayout = device.createBindGroupLayout({
    entries: bindings.map((type, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } })),
  });
  const layout = device.createPipelineLayout({ bindGroupLayouts: [groupLayout] });
  const pipelineFor = (rows) =>
    device.createComputePipeline({ layout, compute: { module, entryPoint: 'main', constants: { ROWS: rows } } });
  const pipelines = { 1: pipelineFor(1), 4: pipelineFor(4) };
  const input = buffer(maxBatch * latent * 4, S.STORAGE | S.COPY_DST);
  let h = input;
  const stages = layers.map((l) => {
    if (l.outputs % 4) throw new Error('hand WGSL needs layer widths divisible by 4');
    const params = buffer(16, S.UNIFORM | S.COPY_DST);
    const out = buffer(maxBatch * l.outputs * 4, S.STORAGE | S.COPY_SRC);
    const group = device.createBindGroup({
      layout: groupLayout,
      entries: [params, h, buffer(l.weight.length * 4, S.STORAGE, l.weight), buffer(l.bias.length * 4, S.STORAGE, l.bias), out]
        .map((b, binding) => ({ binding, resource: { buffer: b } })),
    });
    h = out;
    return { l, params, out, group };
  });
  const pixels = layers.at(-1).outputs;
  const staging = new Map();
  return {
    version: 'hand-written WGSL',
    detail: [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' '),
    async decode(z, n) {
      device.queue.writeBuffer(input, 0, z);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      const rows = n < 4 ? 1 : 4;
      pass.setPipeline(pipelines[rows]);
      for (const { l, params, group } of stages) {
        device.queue.writeBuffer(params, 0, new Uint32Array([n, l.inputs, l.outputs / 4, l.activation === 'relu' ? 0 : 1]));
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(Math.ceil(l.outputs / 4 / 64), Math.ceil(n / rows));
      }
      pass.end();
      if (!staging.has(n)) staging.set(n, buffer(n * pixels * 4, S.MAP_READ | S.COPY_DST));
      const read = staging.get(n);
      enc.copyBufferToBuffer(stages.at(-1).out, 0, read, 0, n * pixels * 4);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const result = new Float32Array(read.getMappedRange().slice(0));
      read.unmap();
      return result;
    },
  };
}

// ---------------------------------------------------------------- measurement

const percentile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));
const round = (x) => Math.round(x * 1000) / 1000;

function maxAbsErr(out, ref) {
  if (!out || out.length !== ref.length) return Infinity;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(out[i] - ref[i]);
    if (!(d <= e)) e = Number.isNaN(d) ? Infinity : d;
  }
  return e;
}

/**
 * config: { runtime, backend, threads, model, batches, budgetMs, seed }
 * Returns one row per batch size (or throws with the runtime's own message).
 */
window.runBench = async function runBench(config) {
  const { runtime, backend, threads = 1, model, batches = [1, 16, 256], budgetMs = 6000, seed = 1 } = config;
  const t0 = performance.now();
  const decoder = await (await fetch('/out/decoder.json')).json();
  const layers = decoder.layers.map((l) => ({ ...l, weight: Float32Array.from(l.weight), bias: Float32Array.from(l.bias) }));
  const latent = decoder.latent_dim;
  const loadMs = performance.now() - t0; // the JSON weights: the same for every runtime, not counted

  const t1 = performance.now();
  const rt = await runtimes[runtime]({ backend, threads, model, layers, latent, batches });
  const initMs = performance.now() - t1;
  log(`${runtime}/${backend}: ready in ${initMs.toFixed(0)} ms (${rt.version} ${rt.detail})`);

  const rows = [];
  for (const batch of batches) {
    const z = latentBatch(batch, latent, seed + batch);
    const ref = referenceDecode(layers, z, batch);
    const tf = performance.now();
    const first = await rt.decode(z, batch);
    const firstDecodeMs = performance.now() - tf;
    const err = maxAbsErr(first, ref);
    // Warm: each call timed on its own, with a macrotask between calls (as a page would have).
    const samples = [];
    const start = performance.now();
    await rt.decode(z, batch);
    while (samples.length < 5 || (samples.length < 200 && performance.now() - start < budgetMs / 2)) {
      await macrotask();
      const s = performance.now();
      await rt.decode(z, batch);
      samples.push(performance.now() - s);
    }
    // Back to back: as many calls as fit in the other half of the budget, at least 3.
    const each = percentile(samples, 0.5);
    const loops = Math.max(3, Math.min(200, Math.floor(budgetMs / 2 / Math.max(each, 0.01))));
    const l0 = performance.now();
    let last;
    for (let k = 0; k < loops; k++) last = await rt.decode(z, batch);
    const loopMean = (performance.now() - l0) / loops;
    const lastErr = maxAbsErr(last, ref);
    rows.push({
      runtime,
      backend,
      threads: runtime === 'wgsl' || ['webgpu', 'webgl'].includes(backend) ? null : threads,
      batch,
      version: rt.version,
      detail: rt.detail,
      init_ms: round(initMs),
      first_decode_ms: round(firstDecodeMs),
      first_call_ms: batch === batches[0] ? round(initMs + firstDecodeMs) : null,
      median_ms: round(percentile(samples, 0.5)),
      p95_ms: round(percentile(samples, 0.95)),
      loop_mean_ms: round(loopMean),
      samples: samples.length,
      loops,
      max_abs_err: Math.max(err, lastErr),
      weights_json_ms: round(loadMs),
    });
    log(`  batch ${batch}: median ${rows.at(-1).median_ms} ms, p95 ${rows.at(-1).p95_ms} ms, max |err| ${rows.at(-1).max_abs_err.toExponential(2)}`);
  }
  return rows;
};


/**
 * The same runtimes side by side in one page, their calls alternating: A, B, A, B … with a
 * macrotask before each. On a machine whose speed drifts between runs (these CI machines:
 * ±30 %), both medians then come from the same minutes, so their ratio is steadier than one
 * taken from two pages run a minute apart. config: { runs: [{ runtime, backend, threads }],
 * model, batches, rounds }. Returns { label: { batch: median_ms } } and checks every output.
 */
window.runInterleaved = async function runInterleaved(config) {
  const { runs, model, batches = [1, 256], rounds = 60, seed = 1 } = config;
  const decoder = await (await fetch('/out/decoder.json')).json();
  const layers = decoder.layers.map((l) => ({ ...l, weight: Float32Array.from(l.weight), bias: Float32Array.from(l.bias) }));
  const latent = decoder.latent_dim;
  const rts = [];
  for (const run of runs) rts.push(await runtimes[run.runtime]({ ...run, model, layers, latent, batches }));
  const result = {};
  for (const batch of batches) {
    const z = latentBatch(batch, latent, seed + batch);
    const ref = referenceDecode(layers, z, batch);
    const samples = rts.map(() => []);
    for (const [i, rt] of rts.entries()) {
      const err = maxAbsErr(await rt.decode(z, batch), ref);
      if (!(err <= 1e-3)) throw new Error(`${runs[i].runtime}/${runs[i].backend}: wrong output (max abs err ${err})`);
    }
    for (let r = 0; r < rounds; r++) {
      for (const [i, rt] of rts.entries()) {
        await macrotask();
        const s = performance.now();
        await rt.decode(z, batch);
        samples[i].push(performance.now() - s);
      }
    }
    runs.forEach((run, i) => {
      const key = `${run.runtime}/${run.backend}`;
      result[key] = { ...result[key], [batch]: round(percentile(samples[i], 0.5)) };
    });
  }
  return result;
};

document.body.dataset.ready = 'true';
