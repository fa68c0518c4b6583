// Unit tests (plain Node) of a model as one file: www/lib/bundle-zip.js writes a ZIP that
// Python's zipfile and Info-ZIP's unzip accept, reads back its own and other tools' zips
// (stored, deflated, streamed, inside one folder) and refuses bad files in words naming them;
// and the pure parts of www/lib/model-store.js (names, titles, no IndexedDB).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_ZIP_BYTES, crc32, unzipBundle, weightsName, zipBundle } from '../www/lib/bundle-zip.js';
import { ModelStore, localTitle, slugify, uniqueName } from '../www/lib/model-store.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHIPPED = path.join(ROOT, 'models', 'mnist-mlp-2');
const manifestText = fs.readFileSync(path.join(SHIPPED, 'manifest.json'), 'utf8');
const weights = new Uint8Array(fs.readFileSync(path.join(SHIPPED, 'weights.bpk')));
const bundle = { manifestText, weights };
const DATE = new Date(2024, 4, 17, 14, 5, 32);

/** A tool on PATH (python3, zip, unzip), or null. */
function tool(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
const python = tool('python3');
const zipTool = tool('zip');
const unzipTool = tool('unzip');

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-zip-'));
}

/** Runs a Python script (argv after it) and returns its stdout; fails the test on an error. */
function py(script, ...args) {
  const r = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `python3 failed: ${r.stderr}`);
  return r.stdout;
}

/** The shipped bundle as files in a fresh directory (optionally inside a folder). */
function bundleFiles(folder = '') {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, folder), { recursive: true });
  fs.writeFileSync(path.join(dir, folder, 'manifest.json'), manifestText);
  fs.writeFileSync(path.join(dir, folder, 'weights.bpk'), weights);
  return dir;
}

function sameBundle(got) {
  assert.equal(got.manifestText, manifestText);
  assert.equal(got.manifest.name, 'mnist-mlp-2');
  assert.ok(got.weights instanceof Uint8Array);
  assert.ok(Buffer.from(got.weights).equals(Buffer.from(weights)), 'weights byte for byte');
}

/** Python's zipfile writing `entries` ([name, file or text]) with `method` ("STORED"/"DEFLATED"). */
function pythonZip(entries, method = 'DEFLATED') {
  const dir = tmpDir();
  const out = path.join(dir, 'model.zip');
  const spec = path.join(dir, 'spec.json');
  fs.writeFileSync(spec, JSON.stringify(entries));
  py(`
import json, sys, zipfile
entries = json.load(open(sys.argv[1]))
with zipfile.ZipFile(sys.argv[2], 'w', getattr(zipfile, 'ZIP_' + sys.argv[3])) as z:
    for name, src in entries:
        if src.get('file'): z.write(src['file'], name)
        else: z.writestr(name, src['text'])
`, spec, out, method);
  return new Uint8Array(fs.readFileSync(out));
}

const fromFiles = (folder = '') => [
  [`${folder}manifest.json`, { file: path.join(SHIPPED, 'manifest.json') }],
  [`${folder}weights.bpk`, { file: path.join(SHIPPED, 'weights.bpk') }],
];

describe('bundle-zip.js: writing', () => {
  test('crc32 gives the standard check value', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  test('a bundle round-trips byte for byte; the same bundle and date give the same bytes', async () => {
    const bytes = zipBundle(bundle, { date: DATE });
    assert.equal(bytes.length, 22 + 2 * (30 + 46) + 2 * 'manifest.json'.length + 2 * 'weights.bpk'.length + manifestText.length + weights.length);
    assert.deepEqual(zipBundle(bundle, { date: DATE }), bytes);
    sameBundle(await unzipBundle(bytes, 'model.zip'));
    sameBundle(await unzipBundle(bytes.buffer, 'model.zip'));
  });

  test('the weights go under the name the manifest gives; a name that is a path is refused', async () => {
    const m = JSON.parse(manifestText);
    m.weights = 'model.bpk';
    const renamed = { manifestText: JSON.stringify(m), weights };
    const back = await unzipBundle(zipBundle(renamed), 'renamed.zip');
    assert.equal(back.manifest.weights, 'model.bpk');
    assert.equal(back.weights.length, weights.length);
    assert.equal(weightsName({}), 'weights.bpk');
    for (const bad of ['../weights.bpk', 'a/b.bpk', 'c:\\w.bpk', '', 'manifest.json', 7]) {
      assert.throws(() => zipBundle({ manifestText: JSON.stringify({ ...m, weights: bad }), weights }), /not a plain file name/, String(bad));
    }
    assert.throws(() => zipBundle({ manifestText: '{oops', weights }), /manifest\.json is not valid JSON/);
    assert.throws(() => zipBundle({ manifestText, weights: [1, 2] }), /no weights/);
  });

  test("Python's zipfile and Info-ZIP's unzip accept the file and read the same bytes", { skip: !python && 'no python3' }, () => {
    const dir = tmpDir();
    const file = path.join(dir, 'mnist-mlp-2.zip');
    fs.writeFileSync(file, zipBundle(bundle, { date: DATE }));
    const out = JSON.parse(py(`
import json, sys, zipfile, hashlib
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps({'bad': z.testzip(), 'names': z.namelist(), 'date': list(z.getinfo('weights.bpk').date_time),
  'types': [i.compress_type for i in z.infolist()],
  'sha': [hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()]}))
`, file));
    const sha = (b) => spawnSync(python, ['-c', 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'], { input: b, encoding: 'utf8' }).stdout.trim();
    assert.equal(out.bad, null, 'every CRC checks');
    assert.deepEqual(out.names, ['manifest.json', 'weights.bpk']);
    assert.deepEqual(out.types, [0, 0], 'stored');
    assert.deepEqual(out.date, [2024, 5, 17, 14, 5, 32]);
    assert.deepEqual(out.sha, [sha(Buffer.from(manifestText)), sha(Buffer.from(weights))]);
    if (unzipTool) {
      const t = spawnSync(unzipTool, ['-t', file], { encoding: 'utf8' });
      assert.equal(t.status, 0, t.stdout + t.stderr);
      assert.match(t.stdout, /No errors detected/);
    }
  });
});

describe('bundle-zip.js: reading other tools’ zips', () => {
  test("Python's zipfile: stored and deflated, flat and inside one folder; macOS extras ignored", { skip: !python && 'no python3' }, async () => {
    sameBundle(await unzipBundle(pythonZip(fromFiles(), 'STORED'), 'stored.zip'));
    sameBundle(await unzipBundle(pythonZip(fromFiles(), 'DEFLATED'), 'deflated.zip'));
    const folder = [['mnist-mlp-2/', { text: '' }], ...fromFiles('mnist-mlp-2/'), ['mnist-mlp-2/training.csv', { text: 'epoch\n' }]];
    sameBundle(await unzipBundle(pythonZip(folder, 'DEFLATED'), 'folder.zip'));
    const mac = [...fromFiles('my model/'), ['__MACOSX/my model/._manifest.json', { text: 'x' }], ['my model/._weights.bpk', { text: 'x' }]];
    sameBundle(await unzipBundle(pythonZip(mac), 'mac.zip'));
  });

  test('the zip command: a folder zipped with -r, and a zip streamed through a pipe (ZIP64, data descriptors)', { skip: !zipTool && 'no zip' }, async () => {
    const dir = bundleFiles('mnist-mlp-2');
    const r = spawnSync(zipTool, ['-qr', 'm.zip', 'mnist-mlp-2'], { cwd: dir });
    assert.equal(r.status, 0);
    sameBundle(await unzipBundle(new Uint8Array(fs.readFileSync(path.join(dir, 'm.zip'))), 'm.zip'));
    // Writing to a pipe, zip cannot seek back: sizes follow the data and ZIP64 fields appear.
    const s = spawnSync('sh', ['-c', `cd mnist-mlp-2 && ${zipTool} -q - manifest.json weights.bpk | cat`], { cwd: dir, maxBuffer: 64 * 2 ** 20 });
    assert.equal(s.status, 0);
    sameBundle(await unzipBundle(new Uint8Array(s.stdout), 'streamed.zip'));
  });
});

describe('bundle-zip.js: bad files are refused in words that name them', () => {
  const good = zipBundle(bundle, { date: DATE });
  /** A copy of `bytes` with `fn(view, bytes)` applied. */
  const patched = (fn, bytes = good) => {
    const b = bytes.slice();
    fn(new DataView(b.buffer), b);
    return b;
  };
  // Offsets in a zip this module wrote: manifest's local header at 0, then the weights'.
  const weightsHeader = 30 + 'manifest.json'.length + new TextEncoder().encode(manifestText).length;
  const centralStart = good.length - 22 - 2 * 46 - 'manifest.json'.length - 'weights.bpk'.length;
  const weightsCentral = centralStart + 46 + 'manifest.json'.length;

  test('not a zip, empty, truncated', async () => {
    const text = new TextEncoder().encode('These are not the weights you are looking for.\n'.repeat(3));
    await assert.rejects(unzipBundle(text, 'model.zip'), { message: 'model.zip is not a zip file.' });
    await assert.rejects(unzipBundle(new Uint8Array(0), 'empty.zip'), { message: 'empty.zip is not a zip file.' });
    await assert.rejects(unzipBundle(good.subarray(0, 1000), 'cut.zip'), /^Error: cut\.zip is damaged or truncated: its ZIP directory is missing\.$/);
    await assert.rejects(unzipBundle(good.subarray(0, 10), 'cut.zip'), /cut\.zip is damaged or truncated/);
    // The directory kept, the data before it cut short.
    const gap = new Uint8Array(good.length - 5000);
    gap.set(good.subarray(0, weightsHeader + 100));
    gap.set(good.subarray(centralStart), gap.length - (good.length - centralStart));
    await assert.rejects(unzipBundle(gap, 'gap.zip'), /gap\.zip is damaged or truncated/);
    // A directory that promises more data than the file holds.
    const longer = patched((v) => v.setUint32(weightsCentral + 20, weights.length + 1000, true));
    await assert.rejects(unzipBundle(longer, 'short.zip'), { message: 'short.zip is truncated: weights.bpk is cut short.' });
  });

  test('a CRC mismatch, disagreeing sizes, an entry too large, encryption, an unknown method', async () => {
    const flipped = patched((v, b) => {
      b[weightsHeader + 30 + 'weights.bpk'.length + 1000] ^= 0xff;
    });
    await assert.rejects(unzipBundle(flipped, 'model.zip'), { message: 'model.zip is damaged: the CRC of weights.bpk does not match.' });
    await assert.rejects(unzipBundle(patched((v) => v.setUint32(weightsCentral + 24, 12, true)), 'model.zip'), /model\.zip is damaged: the sizes recorded for weights\.bpk disagree/);
    const huge = patched((v) => {
      v.setUint32(weightsCentral + 20, MAX_ZIP_BYTES + 1, true);
      v.setUint32(weightsCentral + 24, MAX_ZIP_BYTES + 1, true);
    });
    await assert.rejects(unzipBundle(huge, 'huge.zip'), /weights\.bpk in huge\.zip is larger than 512 MB/);
    await assert.rejects(unzipBundle(patched((v) => v.setUint16(weightsCentral + 8, 1, true)), 'secret.zip'), /secret\.zip is encrypted/);
    await assert.rejects(unzipBundle(patched((v) => v.setUint16(weightsCentral + 10, 12, true)), 'bz.zip'), /bz\.zip compresses weights\.bpk with method 12, which this page cannot read/);
  });

  test('a file over 512 MB is refused before it is read', async () => {
    // Zero pages: the operating system does not commit them until they are written.
    await assert.rejects(unzipBundle(new Uint8Array(MAX_ZIP_BYTES + 1), 'big.zip'), { message: 'big.zip is larger than 512 MB: not a model this explorer can load.' });
  });

  test('no manifest, a manifest that is not JSON, missing weights, two models in one file', { skip: !python && 'no python3' }, async () => {
    await assert.rejects(unzipBundle(pythonZip([['notes.txt', { text: 'hello' }]]), 'notes.zip'), { message: 'notes.zip has no manifest.json: it is not a model file.' });
    await assert.rejects(unzipBundle(pythonZip([['a/b/manifest.json', { text: '{}' }]]), 'deep.zip'), /deep\.zip has no manifest\.json/);
    await assert.rejects(unzipBundle(pythonZip([['manifest.json', { text: '{"name": ' }], ['weights.bpk', { text: 'w' }]]), 'bad.zip'), /^Error: manifest\.json in bad\.zip is not valid JSON: /);
    await assert.rejects(unzipBundle(pythonZip([['m/manifest.json', { text: '{"weights": "w.bpk"}' }], ['m/weights.bpk', { text: 'w' }]]), 'missing.zip'), { message: 'missing.zip has no m/w.bpk, the weights file its manifest names.' });
    await assert.rejects(unzipBundle(pythonZip([['m/manifest.json', { text: '{"weights": "../w"}' }]]), 'path.zip'), /path\.zip: the manifest names its weights file “\.\.\/w”, which is not a plain file name/);
    await assert.rejects(unzipBundle(pythonZip([...fromFiles('a/'), ...fromFiles('b/')]), 'two.zip'), /two\.zip holds more than one model \(a\/manifest\.json, b\/manifest\.json\)/);
  });

  test('deflated data that does not inflate', { skip: !python && 'no python3' }, async () => {
    const z = pythonZip(fromFiles(), 'DEFLATED');
    const v = new DataView(z.buffer);
    const at = 30 + v.getUint16(26, true) + v.getUint16(28, true);
    z.fill(0xff, at + 10, at + 200);
    await assert.rejects(unzipBundle(z, 'model.zip'), /manifest\.json in model\.zip is damaged|model\.zip is damaged: the CRC of manifest\.json/);
  });
});

describe('model-store.js: names and titles', () => {
  test('slugify makes address-safe names', () => {
    assert.equal(slugify('My model'), 'my-model');
    assert.equal(slugify('  Café — 2-D! '), 'cafe-2-d');
    assert.equal(slugify(''), 'my-model');
    assert.equal(slugify('***'), 'my-model');
    assert.equal(slugify('x'.repeat(80)).length, 48);
  });

  test('uniqueName: the base if free, else -2, -3, …', () => {
    assert.equal(uniqueName('my-model', []), 'my-model');
    assert.equal(uniqueName('my-model', ['my-model']), 'my-model-2');
    assert.equal(uniqueName('My Model', ['my-model', 'my-model-2']), 'my-model-3');
    assert.equal(uniqueName('mnist-mlp-2', ['mnist-mlp-32', 'mnist-mlp-2']), 'mnist-mlp-2-2');
  });

  test('localTitle: title, latent size and when', () => {
    assert.equal(localTitle({ latent_dim: 2 }, 'trained', DATE), 'My model · 2-D · trained 14:05');
    assert.equal(localTitle({ title: 'Digits', latent: [{}, {}, {}] }, 'opened', new Date(2024, 0, 1, 9, 7)), 'Digits · 3-D · opened 09:07');
    assert.equal(localTitle({ title: 'MNIST, 2-D latent', latent_dim: 2 }, 'opened', DATE), 'MNIST, 2-D latent · opened 14:05');
  });

  test('without IndexedDB every operation fails in words', async () => {
    const store = new ModelStore({ idb: undefined });
    await assert.rejects(store.list(), /no IndexedDB\), so the page could not list the stored models/);
    await assert.rejects(store.save({ name: 'x', manifestText: '{}', weights: new Uint8Array(1) }), /could not keep the model/);
  });
});

describe('unzipBundle on damaged files (a seeded fuzz)', () => {
  /** A small deterministic generator, so that a failure names a case that can be replayed. */
  function rng(seed) {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
  }

  test('every mutation either reads as a bundle or is refused with a message naming the file', { timeout: 120_000 }, async () => {
    // A small bundle keeps each case fast; the structure (headers, CRC, directory) is the same.
    const small = zipBundle({ manifestText: '{"name":"m","weights":"weights.bpk"}', weights: new Uint8Array(300).map((_, i) => i * 7) }, { date: DATE });
    const random = rng(2026);
    let refused = 0;
    for (let c = 0; c < 3000; c++) {
      const bytes = small.slice();
      const kind = c % 3;
      if (kind === 0) {
        for (let k = 0; k < 1 + Math.floor(random() * 4); k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      const input = kind === 1 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      if (kind === 2) {
        // A 32-bit field (sizes, offsets, counts) set to an extreme value.
        const at = Math.floor(random() * (bytes.length - 4));
        new DataView(bytes.buffer).setUint32(at, random() < 0.5 ? 0xffffffff : Math.floor(random() * 2 ** 32), true);
      }
      try {
        const out = await unzipBundle(input, `case-${c}.zip`);
        assert.equal(typeof out.manifestText, 'string', `case ${c}`);
        assert.ok(out.weights instanceof Uint8Array, `case ${c}`);
      } catch (err) {
        refused++;
        assert.ok(err instanceof Error, `case ${c}: threw ${err}`);
        assert.match(err.message, new RegExp(`case-${c}\\.zip`), `case ${c}: ${err.message}`);
      }
    }
    assert.ok(refused > 1000, `most damaged files are refused (${refused} of 3000)`);
  });
});
