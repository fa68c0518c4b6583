// Images to take away: "Download image" saves the decoded image as a PNG at the chosen scale,
// "Download strips" the traversal strips on show (without their markers), the interpolation
// strip, palette and prior samples their grids, and "Download animation" the walk A → B → A
// as an animated PNG. Each file is decoded here, independently of the
// browser, and compared with what the page shows.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, browserForSuite, openPage, settle, decodedPixels, canvasGrey } from './harness.mjs';
import { pngChunks } from '../../www/lib/apng.js';
import { readPng } from '../png.mjs';

const T = { timeout: 180_000 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

async function download(page, button) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), button.click()]);
  const file = await d.path();
  return { name: d.suggestedFilename(), bytes: fs.readFileSync(file), png: readPng(fs.readFileSync(file)) };
}

/** An APNG's frames, each rebuilt as a plain PNG and decoded: {plays, frames: [{delay, png}]}. */
function readApng(bytes) {
  const chunks = pngChunks(new Uint8Array(bytes));
  const make = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    Buffer.from(data).copy(out, 8);
    return out; // CRCs are not read back by readPng
  };
  const ihdr = chunks.find((c) => c.type === 'IHDR').data;
  const actl = chunks.find((c) => c.type === 'acTL').data;
  const view = (d) => new DataView(d.buffer, d.byteOffset, d.byteLength);
  const frames = [];
  const sequence = [];
  for (const c of chunks) {
    if (c.type === 'fcTL') {
      sequence.push(view(c.data).getUint32(0));
      frames.push({ delay: view(c.data).getUint16(20) / view(c.data).getUint16(22), data: [] });
    } else if (c.type === 'IDAT' && frames.length) frames.at(-1).data.push(c.data);
    else if (c.type === 'fdAT') {
      sequence.push(view(c.data).getUint32(0));
      frames.at(-1).data.push(c.data.subarray(4));
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]);
  return {
    count: view(actl).getUint32(0),
    plays: view(actl).getUint32(4),
    sequence,
    frames: frames.map((f) => ({ delay: f.delay, png: readPng(Buffer.concat([signature, make('IHDR', ihdr), ...f.data.map((d) => make('IDAT', d)), make('IEND', new Uint8Array(0))])) })),
  };
}

describe('downloads (CPU backend)', () => {
  const browser = browserForSuite({ webgpu: false });

  test('Download image: a PNG of the decoded image at the chosen scale, pixel for pixel', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32');
    try {
      const { page, log } = s;
      await settle(page);
      const shown = await decodedPixels(page);
      await page.getByLabel('PNG scale').selectOption('10');
      const { name, png } = await download(page, page.getByRole('button', { name: 'Download image' }));
      assert.equal(name, 'mnist-mlp-32-decoded-x10.png');
      assert.deepEqual([png.width, png.height], [280, 280]);
      // Every 10 × 10 block is one of the page's pixels.
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          for (const [dx, dy] of [[0, 0], [9, 9], [4, 7]]) assert.equal(png.grey[(y * 10 + dy) * 280 + x * 10 + dx], shown[y * 28 + x], `pixel (${x}, ${y})`);
        }
      }
      await page.getByLabel('PNG scale').selectOption('1');
      const one = await download(page, page.getByRole('button', { name: 'Download image' }));
      assert.equal(one.name, 'mnist-mlp-32-decoded.png');
      assert.deepEqual(one.png.grey, shown);
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });

  test('Download strips, strip, palette and samples: one PNG each, the size of what is on show', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32');
    try {
      const { page, log } = s;
      await settle(page);
      await page.waitForFunction(() => window.vaeStats.traversalMs.length > 0 && window.vaeStats.gridMs.palette?.length > 0 && window.vaeStats.gridMs['prior samples']?.length > 0, null, { timeout: 60_000 });
      const visible = await page.getByRole('img', { name: /^Traversal of latent dimension/ }).count();
      const strips = await download(page, page.getByRole('button', { name: 'Download strips' }));
      assert.deepEqual([strips.png.width, strips.png.height], [9 * 28 * 4, visible * 28 * 4], `${visible} strips on show, ×4`);
      // The first row is the first strip on show, without the red marker.
      const first = await page.locator('#traversals .strip:not([hidden]) canvas').first().evaluate(canvasGrey, [0, 0, 9 * 28, 28 - 3]);
      for (let k = 0; k < first.length; k += 97) {
        const x = k % (9 * 28);
        const y = Math.floor(k / (9 * 28));
        assert.equal(strips.png.grey[(y * 4 + 1) * 9 * 28 * 4 + x * 4 + 1], first[k], `strip pixel (${x}, ${y})`);
      }
      for (const [button, canvas, what] of [['Download interpolation', '#interp-strip', 'interpolation'], ['Download palette', '#palette', 'palette'], ['Download samples', '#prior-grid', 'samples']]) {
        const [w, h] = await page.locator(canvas).evaluate((c) => [c.width, c.height]);
        const got = await download(page, page.getByRole('button', { name: button }));
        assert.equal(got.name, `mnist-mlp-32-${what}-x4.png`);
        assert.deepEqual([got.png.width, got.png.height], [w * 4, h * 4], button);
      }
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
    } finally {
      await s.close();
    }
  });

  test('Download animation: the walk A → B → A as an animated PNG whose frames are the anchors’ images', T, async () => {
    const s = await openPage(browser(), server, '?backend=cpu&model=mnist-mlp-32');
    try {
      const { page, log } = s;
      await settle(page);
      await page.waitForFunction(() => window.vaeStats.gridMs['anchor A']?.length > 0 && window.vaeStats.gridMs['anchor B']?.length > 0, null, { timeout: 60_000 });
      const a = await page.locator('#anchor-a').evaluate(canvasGrey);
      const b = await page.locator('#anchor-b').evaluate(canvasGrey);
      const got = await download(page, page.getByRole('button', { name: 'Download animation' }));
      assert.equal(got.name, 'mnist-mlp-32-interpolation-animated-x4.png');
      const apng = readApng(got.bytes);
      assert.equal(apng.count, 30, '16 frames from A to B, 14 on the way back');
      assert.equal(apng.frames.length, 30);
      assert.equal(apng.plays, 0, 'loops for ever');
      assert.deepEqual(apng.sequence, [...apng.sequence.keys()], 'fcTL and fdAT numbered in order');
      assert.ok(apng.frames.every((f) => f.delay === 0.08 && f.png.width === 112 && f.png.height === 112));
      const scaledDown = (png) => Array.from({ length: 28 * 28 }, (_, i) => png.grey[(Math.floor(i / 28) * 4 + 2) * 112 + (i % 28) * 4 + 2]);
      const near = (x, y) => Math.max(...x.map((v, i) => Math.abs(v - y[i])));
      assert.ok(near(scaledDown(apng.frames[0].png), a) <= 1, 'the first frame is anchor A');
      assert.ok(near(scaledDown(apng.frames[15].png), b) <= 1, 'frame 16 is anchor B');
      assert.ok(near(scaledDown(apng.frames[29].png), scaledDown(apng.frames[1].png)) === 0, 'the way back repeats the frames');
      // Chromium itself reads it as an animated image of that size.
      const size = await page.evaluate(async (bytes) => {
        const img = new Image();
        img.src = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: 'image/apng' }));
        await img.decode();
        return [img.naturalWidth, img.naturalHeight];
      }, [...got.bytes]);
      assert.deepEqual(size, [112, 112]);
      assert.deepEqual(log.pageErrors, []);
    } finally {
      await s.close();
    }
  });
});
