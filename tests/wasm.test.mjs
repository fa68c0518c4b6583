// The raw cargo output must not contain wasm-ld's `.command_export` wrappers.
//
// Background: cubecl registers its kernels through static constructors. Unless the module
// calls `__wasm_call_ctors` itself (src/web.rs does, in the wasm-bindgen start function),
// wasm-ld treats the module as a "command" and wraps every export in a `<name>.command_export`
// shim that re-runs all (~5,000) constructors on every JS -> wasm call. The raw cargo output
// keeps its name section (pkg/ has it stripped), so the shims are visible by name there.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RAW_WASM = path.join(ROOT, 'target/wasm32-unknown-unknown/release/vae_explorer.wasm');

function readU32(bytes, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos.i >= bytes.length) throw new RangeError('LEB128 runs past the end of the section');
    const b = bytes[pos.i++];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
    if (shift > 35) throw new RangeError('LEB128 u32 too long');
  }
}

/** Function names from a "name" custom section's payload (subsection 1), as a Map index -> name. */
export function functionNames(section) {
  const bytes = new Uint8Array(section);
  const pos = { i: 0 };
  const names = new Map();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let found = false;
  while (pos.i < bytes.length) {
    const id = bytes[pos.i++];
    const size = readU32(bytes, pos);
    const end = pos.i + size;
    if (end > bytes.length) throw new RangeError(`name subsection ${id} overruns the section`);
    if (id === 1) {
      found = true;
      const count = readU32(bytes, pos);
      for (let k = 0; k < count; k++) {
        const index = readU32(bytes, pos);
        const len = readU32(bytes, pos);
        names.set(index, decoder.decode(bytes.subarray(pos.i, pos.i + len)));
        pos.i += len;
      }
      if (pos.i !== end) throw new RangeError('function-name subsection length mismatch');
    }
    pos.i = end;
  }
  return found ? names : null;
}

function namesOf(wasmBytes) {
  const mod = new WebAssembly.Module(wasmBytes);
  const sections = WebAssembly.Module.customSections(mod, 'name');
  if (sections.length === 0) return null;
  return functionNames(sections[0]);
}

// ---- a tiny module built by hand, so the parser itself is tested (the real check can fail)

function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const str = (s) => {
  const b = [...new TextEncoder().encode(s)];
  return [...leb(b.length), ...b];
};
const section = (id, body) => [id, ...leb(body.length), ...body];

function tinyModule(fnNames) {
  const n = fnNames.length;
  const type = section(1, [1, 0x60, 0, 0]); // one type: () -> ()
  const funcs = section(3, [...leb(n), ...fnNames.map(() => 0)]);
  const exps = section(7, [...leb(n), ...fnNames.flatMap((name, i) => [...str(`e${i}`), 0x00, ...leb(i)])]);
  const code = section(10, [...leb(n), ...fnNames.flatMap(() => [2, 0, 0x0b])]);
  const modName = [0, ...leb(str('m').length), ...str('m')];
  const fnSub = [...leb(n), ...fnNames.flatMap((name, i) => [...leb(i), ...str(name)])];
  const nameBody = [...str('name'), ...modName, 1, ...leb(fnSub.length), ...fnSub];
  const custom = section(0, nameBody);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...type, ...funcs, ...exps, ...code, ...custom]);
}

test('name-section parser finds .command_export names in a hand-built module', () => {
  const names = namesOf(tinyModule(['decode', 'decode.command_export', 'caf\u00e9']));
  assert.ok(names, 'the function-name subsection was found');
  assert.deepEqual([...names.values()], ['decode', 'decode.command_export', 'caf\u00e9']);
  assert.deepEqual([...names.values()].filter((s) => s.endsWith('.command_export')), ['decode.command_export']);
});

test('raw wasm has no .command_export wrappers (constructors are run once by the start function)', (t) => {
  if (!fs.existsSync(RAW_WASM)) {
    t.skip(`${path.relative(ROOT, RAW_WASM)} does not exist: build it with "make wasm" (cargo build --lib --release --target wasm32-unknown-unknown)`);
    return;
  }
  const names = namesOf(fs.readFileSync(RAW_WASM));
  assert.ok(names, 'the raw cargo output has a "name" section with function names (was it stripped?)');
  assert.ok(names.size > 1000, `expected > 1000 function names, found ${names.size}`);
  const all = [...names.values()];
  // Sanity: the names are real (the wasm-bindgen exports and the start function are there).
  assert.ok(all.some((s) => /explorer_decode/.test(s)), 'explorer_decode* is among the function names');
  const shims = all.filter((s) => s.endsWith('.command_export'));
  assert.deepEqual(
    shims.slice(0, 10),
    [],
    `${shims.length} exports are wrapped in .command_export shims that re-run every static constructor per call`,
  );
});

test('the raw cargo output is the WebGPU module (the Makefile builds it last)', (t) => {
  if (!fs.existsSync(RAW_WASM)) {
    t.skip('not built');
    return;
  }
  const names = [...(namesOf(fs.readFileSync(RAW_WASM))?.values() ?? [])];
  assert.ok(names.some((s) => /wgpu/.test(s)), 'wgpu functions are in the module the .command_export check inspects');
});

// What the page downloads before its first image under auto and cpu: the CPU-only module and
// the default bundle. The target: at most 2.5 MB gzip.
test('CPU-only module + default bundle is at most 2.5 MB gzip; it has no WebGPU, the other module does', (t) => {
  const pkg = (f) => path.join(ROOT, 'pkg', f);
  if (!fs.existsSync(pkg('vae_explorer_cpu_bg.wasm'))) {
    t.skip('pkg/ not built: make wasm');
    return;
  }
  const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
  const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'index.json'), 'utf8'));
  const dir = path.join(ROOT, 'models', index.models[0].path);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const total = gz(pkg('vae_explorer_cpu_bg.wasm')) + gz(path.join(dir, 'manifest.json')) + gz(path.join(dir, manifest.weights || 'weights.bpk'));
  assert.ok(total <= 2.5e6, `first-image download ${(total / 1e6).toFixed(2)} MB gzip`);
  // The glue code imports what the module calls: only the WebGPU module talks to the GPU.
  assert.doesNotMatch(fs.readFileSync(pkg('vae_explorer_cpu.js'), 'utf8'), /createComputePipeline/);
  assert.match(fs.readFileSync(pkg('vae_explorer.js'), 'utf8'), /createComputePipeline/);
});
