#!/usr/bin/env node
// The decoder benchmark driver (make bench): serves bench/page, then in one headless Chromium
// session (WebGPU via --enable-unsafe-webgpu) opens one page per runtime and backend, runs
// window.runBench there, and writes bench/results.json plus a markdown table on stdout.
//
//   node bench/run.mjs [--only ours,wgsl] [--budget-ms 6000] [--batches 1,16,256] [--out bench/results.json]
//
// Needs: pkg/ (make wasm), bench/out/decoder.json and decoder.onnx (make bench makes them),
// bench/node_modules (scripts/setup.sh --bench).

import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, launchBrowser } from '../tests/browser/harness.mjs';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    'budget-ms': { type: 'string', default: '6000' },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results.json') },
    model: { type: 'string' },
    batches: { type: 'string', default: '1,16,256' },
  },
});

/** What runs, in this order. `threads` only matters on the CPU (wasm) backends. */
const RUNS = [
  { runtime: 'ours', backend: 'webgpu' },
  { runtime: 'ours', backend: 'cpu', threads: 1 },
  { runtime: 'wgsl', backend: 'webgpu' },
  { runtime: 'tfjs', backend: 'webgpu' },
  { runtime: 'tfjs', backend: 'webgl' },
  { runtime: 'tfjs', backend: 'wasm', threads: 1 },
  { runtime: 'tfjs', backend: 'wasm', threads: 2 },
  { runtime: 'ort', backend: 'webgpu' },
  { runtime: 'ort', backend: 'wasm', threads: 1 },
  { runtime: 'ort', backend: 'wasm', threads: 2 },
  { runtime: 'js', backend: 'cpu', threads: 1 },
];

const NAMES = { ours: 'ours (burn)', wgsl: 'hand WGSL', tfjs: 'TF.js', ort: 'ORT Web', js: 'plain JS' };
// float32 against a float64 reference through three layers: anything above this is a wrong answer.
const TOLERANCE = 1e-3;

// ---------------------------------------------------------------- a static server

const MOUNTS = [
  ['/pkg/', path.join(ROOT, 'pkg')],
  // The page's load path (www/load.js and what it imports): the runtime "ours" loads through it.
  ['/www/', path.join(ROOT, 'www')],
  ['/models/', path.join(ROOT, 'models')],
  ['/vendor/', path.join(ROOT, 'bench', 'node_modules')],
  ['/out/', path.join(ROOT, 'bench', 'out')],
  ['/', path.join(ROOT, 'bench', 'page')],
];
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

function serve() {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let file = null;
    for (const [prefix, dir] of MOUNTS) {
      if (!url.pathname.startsWith(prefix)) continue;
      const rel = decodeURIComponent(url.pathname.slice(prefix.length)) || 'index.html';
      const full = path.resolve(dir, rel);
      if (full.startsWith(dir + path.sep)) file = full;
      break;
    }
    try {
      if (!file) throw new Error('outside the benchmark');
      const body = await fsp.readFile(file);
      res.writeHead(200, {
        'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
        // Cross-origin isolation: SharedArrayBuffer, so the wasm runtimes may use threads.
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cache-Control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------- run

/** The page's default model: the first in models/index.json (as the Makefile's BENCH_MODEL). */
function defaultModel() {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'index.json'), 'utf8')).models[0].name;
}

const fmt = (ms) => (ms == null ? '—' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
const label = (r) => `${NAMES[r.runtime]} ${r.backend}${r.threads ? ` (${r.threads} thread${r.threads > 1 ? 's' : ''})` : ''}`;

function table(rows, batches) {
  const groups = new Map();
  for (const r of rows) {
    const key = label(r);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const head = `| runtime | first call | ${batches.map((b) => `batch ${b}: median / p95 / loop`).join(' | ')} | max abs err |`;
  const lines = [head, `|${'---|'.repeat(batches.length + 3)}`];
  for (const [key, rs] of groups) {
    if (rs[0].error) {
      lines.push(`| ${key} | failed: ${rs[0].error.replace(/\|/g, '/').slice(0, 120)} |${' |'.repeat(batches.length + 1)}`);
      continue;
    }
    const cells = batches.map((b) => {
      const r = rs.find((x) => x.batch === b);
      return r ? `${fmt(r.median_ms)} / ${fmt(r.p95_ms)} / ${fmt(r.loop_mean_ms)}` : '—';
    });
    const err = Math.max(...rs.map((r) => r.max_abs_err));
    lines.push(`| ${key} | ${fmt(rs[0].first_call_ms)} | ${cells.join(' | ')} | ${err.toExponential(1)} |`);
  }
  return lines.join('\n');
}

/**
 * Pairs that a target compares closely enough that the machine's drift between two pages
 * matters: timed again side by side in one page (bench.js, runInterleaved).
 */
const PAIRS = [
  { name: 'cpu', runs: [{ runtime: 'ours', backend: 'cpu' }, { runtime: 'ort', backend: 'wasm', threads: 1 }], batches: [1, 256] },
  { name: 'webgpu', runs: [{ runtime: 'ours', backend: 'webgpu' }, { runtime: 'wgsl', backend: 'webgpu' }], batches: [1] },
];

/**
 * The issue's targets, as ratios of medians from this one run: from the interleaved pairs where
 * a pair was timed, otherwise from the separate pages.
 */
function targets(rows, pairs = {}) {
  const med = (runtime, backend, batch, threads) =>
    pairs[`${runtime}/${backend}`]?.[batch] ??
    rows.find((r) => !r.error && r.runtime === runtime && r.backend === backend && r.batch === batch && (threads == null || r.threads === threads))?.median_ms;
  const out = [];
  const check = (name, ours, other, limit) => {
    if (ours == null || other == null) return out.push({ target: name, ratio: null, limit, met: false, note: 'not measured' });
    const ratio = Math.round((ours / other) * 100) / 100;
    out.push({ target: name, ratio, limit, met: ratio <= limit, ours_ms: ours, other_ms: other });
  };
  for (const b of [1, 256]) {
    const lib = Math.min(med('tfjs', 'webgpu', b) ?? Infinity, med('ort', 'webgpu', b) ?? Infinity);
    check(`WebGPU batch ${b}: ours / faster of TF.js and ORT webgpu`, med('ours', 'webgpu', b), Number.isFinite(lib) ? lib : null, 0.8);
  }
  check('WebGPU batch 1: ours / hand WGSL', med('ours', 'webgpu', 1), med('wgsl', 'webgpu', 1), 2);
  for (const b of [1, 256]) check(`CPU batch ${b}: ours / ORT wasm (1 thread each)`, med('ours', 'cpu', b), med('ort', 'wasm', b, 1), 1.0);
  return out;
}

async function main() {
  const model = args.model ?? defaultModel();
  const budgetMs = Number(args['budget-ms']);
  const batches = args.batches.split(',').map(Number);
  const only = args.only?.split(',');
  const runs = RUNS.filter((r) => !only || only.includes(r.runtime) || only.includes(`${r.runtime}-${r.backend}`));
  const needs = runs.some((r) => r.runtime === 'ort') ? ['decoder.json', 'decoder.onnx'] : ['decoder.json'];
  for (const f of needs) {
    if (!fs.existsSync(path.join(ROOT, 'bench', 'out', f))) throw new Error(`bench/out/${f} is missing: run make bench`);
  }

  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchBrowser({ webgpu: true });
  const rows = [];
  const interleaved = {};
  let adapter = '';
  try {
    for (const run of runs) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      process.stderr.write(`bench: ${label(run)} … `);
      try {
        await page.goto(`${origin}/`);
        await page.waitForFunction(() => document.body.dataset.ready === 'true');
        if (!adapter) {
          adapter = await page.evaluate(async () => {
            const a = await navigator.gpu?.requestAdapter();
            return a ? [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(' ') : 'none';
          });
        }
        let timer;
        const got = await Promise.race([
          page.evaluate((cfg) => window.runBench(cfg), { ...run, model, batches, budgetMs }),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out after 300 s')), 300_000);
          }),
        ]).finally(() => clearTimeout(timer));
        for (const r of got) r.ok = r.max_abs_err <= TOLERANCE;
        rows.push(...got);
        process.stderr.write(`${got.map((r) => `b${r.batch} ${fmt(r.median_ms)} ms`).join(', ')}\n`);
      } catch (e) {
        const error = (e.message ?? String(e)).split('\n')[0].replace(/^page\.evaluate: (Error: )?/, '');
        rows.push({ ...run, threads: run.threads ?? null, error, page_errors: errors });
        process.stderr.write(`failed: ${error}\n`);
      } finally {
        await context.close();
      }
    }
    // The close targets again, each pair alternating in one page.
    for (const pair of PAIRS) {
      if (!pair.runs.every((r) => runs.some((x) => x.runtime === r.runtime && x.backend === r.backend))) continue;
      const context = await browser.newContext();
      const page = await context.newPage();
      process.stderr.write(`bench: interleaved ${pair.runs.map(label).join(' / ')} … `);
      try {
        await page.goto(`${origin}/`);
        await page.waitForFunction(() => document.body.dataset.ready === 'true');
        const got = await page.evaluate((cfg) => window.runInterleaved(cfg), { runs: pair.runs, model, batches: pair.batches });
        Object.assign(interleaved, got);
        process.stderr.write(`${JSON.stringify(got)}\n`);
      } catch (e) {
        process.stderr.write(`failed: ${(e.message ?? String(e)).split('\n')[0]}\n`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
    server.close();
  }

  const result = {
    date: new Date().toISOString(),
    command: 'make bench',
    model,
    browser: `Chromium ${browser.version()} (headless, --enable-unsafe-webgpu)`,
    adapter,
    cpus: os.cpus().length,
    tolerance: TOLERANCE,
    targets: targets(rows, interleaved),
    interleaved,
    results: rows,
  };
  await fsp.writeFile(args.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`Decoder of ${model}; ${result.browser}; WebGPU adapter: ${adapter}; ${result.cpus} CPUs.`);
  console.log('Times in ms (median / p95 of single calls / mean of a back-to-back loop); z in → pixels back in JS.\n');
  console.log(table(rows, batches));
  if (Object.keys(interleaved).length) {
    console.log(`\nSide by side in one page, calls alternating (median ms): ${Object.entries(interleaved).map(([k, v]) => `${k} ${Object.entries(v).map(([b, ms]) => `b${b} ${fmt(ms)}`).join(', ')}`).join('; ')}. The ratios of those pairs below use these medians.`);
  }
  console.log('\n| target | ratio | limit | met |\n|---|---|---|---|');
  for (const t of result.targets) console.log(`| ${t.target} | ${t.ratio ?? '—'} | ≤ ${t.limit} | ${t.met ? 'yes' : 'no'} |`);
  const wrong = rows.filter((r) => !r.error && !r.ok);
  for (const r of wrong) console.log(`\nWRONG OUTPUT: ${label(r)} batch ${r.batch}: max abs err ${r.max_abs_err}`);
  console.log(`\nWrote ${path.relative(process.cwd(), args.out)}`);
  if (wrong.some((r) => r.runtime === 'ours')) process.exitCode = 1;
}

main().then(() => process.exit(), (e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
