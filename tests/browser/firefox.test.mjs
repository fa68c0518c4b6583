// A smoke set in a second browser: Debian's firefox-esr, headless, driven by puppeteer-core over
// WebDriver BiDi (every other browser test runs in Chromium through Playwright). Firefox on Linux
// has no WebGPU adapter, so this covers the page's CPU path in another engine: loading with the
// default backend (auto) and ?backend=cpu, a slider, the drawing pad's encoder, switching models,
// a phone-sized viewport, and no console error nor request to another origin in any of them.
// Needs /usr/bin/firefox-esr (scripts/setup.sh --browser installs it); fails when it is missing.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { startServer, ROOT, ONE, pixelDiff, pixelStats, canvasGrey, strokeWithMouse } from './harness.mjs';

const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';

const LOAD = { timeout: 180_000 };
const T = { timeout: 120_000 };
const DESKTOP = { width: 1400, height: 1000 };
const PHONE = { width: 390, height: 844 };
const READY_MS = 90_000;

/**
 * Preferences on top of puppeteer's own Firefox defaults (which already turn off app updates,
 * Normandy/Shield, safebrowsing lists, search updates, health reports and point the blocklist
 * at a dummy host). The machine has no internet: everything below would otherwise try to reach
 * Mozilla's servers in the background (and log errors or slow the start down).
 */
const PREFS = {
  // Updates of the app, its system add-ons and search engines.
  'app.update.enabled': false,
  'app.update.auto': false,
  'app.update.staging.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.systemAddon.update.url': '',
  'extensions.blocklist.enabled': false,
  'extensions.getAddons.showPane': false,
  'browser.search.geoSpecificDefaults': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'media.gmp-gmpopenh264.enabled': false,
  'media.gmp-widevinecdm.enabled': false,
  // Telemetry and studies (Nimbus experiments come through Remote Settings).
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.newProfilePing.enabled': false,
  'toolkit.telemetry.shutdownPingSender.enabled': false,
  'toolkit.telemetry.firstShutdownPing.enabled': false,
  'toolkit.telemetry.bhrPing.enabled': false,
  'toolkit.telemetry.updatePing.enabled': false,
  'datareporting.usage.uploadEnabled': false,
  'app.shield.optoutstudies.enabled': false,
  'app.normandy.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'nimbus.rollouts.enabled': false,
  'browser.ping-centre.telemetry': false,
  'browser.discovery.enabled': false,
  // Remote Settings (blocklists, experiments, certificate revocation lists, ...): release builds
  // ignore another server unless MOZ_DISABLE_NONLOCAL_CONNECTIONS is set (see ENV); with it,
  // this dummy address makes Remote Settings skip all its syncs (Mozilla's own tests use it).
  'services.settings.server': 'data:,#remote-settings-dummy/v1',
  'security.remote_settings.crlite_filters.enabled': false,
  'security.remote_settings.intermediates.enabled': false,
  // Connectivity and captive portal probes, DNS over HTTPS, push.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'captivedetect.canonicalURL': '',
  'network.trr.mode': 5,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'dom.push.enabled': false,
  'dom.push.connection.enabled': false,
  'security.OCSP.enabled': 0,
  // Safebrowsing list downloads (puppeteer turns off the checks, not the providers).
  'browser.safebrowsing.update.enabled': false,
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.google4.gethashURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.safebrowsing.provider.mozilla.gethashURL': '',
  // New tab page feeds, sponsored tiles, sync and accounts.
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.newtabpage.activity-stream.feeds.telemetry': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.newtabpage.activity-stream.showSponsored': false,
  'browser.newtabpage.activity-stream.showSponsoredTopSites': false,
  'browser.topsites.contile.enabled': false,
  'identity.fxaccounts.enabled': false,
  'services.sync.engine.addons': false,
};

/**
 * MOZ_DISABLE_NONLOCAL_CONNECTIONS: Firefox refuses every connection to an address that is not
 * local (what Mozilla's test harnesses set); the page and the driver only use 127.0.0.1.
 */
const ENV = { MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1', MOZ_CRASHREPORTER_DISABLE: '1' };

let server;
let browser;
let profileDir;
let browserLog = '';

const MISSING = `Firefox is not installed at ${FIREFOX}: run scripts/setup.sh --browser (it installs Debian's firefox-esr), or set FIREFOX to another Firefox binary`;

/** The dev server and one Firefox for the whole file (the describe block's before). */
async function start() {
  assert.ok(existsSync(FIREFOX), MISSING);
  server = await startServer();
  // A fresh profile each run, removed in after().
  profileDir = await mkdtemp(path.join(os.tmpdir(), 'vae-firefox-'));
  browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profileDir,
    extraPrefsFirefox: PREFS,
    // Firefox's output is not copied to the test's; browserLog keeps it for a failing test's message.
    dumpio: false,
    timeout: 90_000,
    protocolTimeout: 120_000,
    env: { ...process.env, ...ENV },
  });
  // GTK's GLib-GObject warnings (headless Firefox prints them at every start) left out.
  browser.process()?.stderr?.on('data', (d) => {
    const lines = String(d).split('\n').filter((l) => l.trim() && !/GLib|g_type_add_interface_static/.test(l));
    if (lines.length) browserLog = `${browserLog}${lines.join('\n')}\n`.slice(-20_000);
  });
}

async function stop() {
  await browser?.close().catch(() => {});
  await server?.stop();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- helpers

/**
 * A fresh page in a new browser context at `viewport`, with a log of console errors, page
 * errors, failed requests and requests to other origins.
 */
async function openPage(query = '', { viewport = DESKTOP } = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(viewport);
  page.setDefaultTimeout(60_000);
  const log = { consoleErrors: [], pageErrors: [], failedRequests: [], foreignRequests: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') log.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => log.pageErrors.push(`${e.name}: ${e.message}`));
  page.on('requestfailed', (r) => log.failedRequests.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => {
    log.requests.push(r.url());
    const u = new URL(r.url());
    if (u.protocol === 'data:' || u.protocol === 'blob:') return;
    if (u.origin !== server.origin) log.foreignRequests.push(r.url());
  });
  await page.goto(server.url + query);
  return { page, context, log, close: () => context.close() };
}

/** Waits until the page is ready (first image painted) or shows its error; fails on the error. */
async function waitForReady(page, timeout = READY_MS) {
  await page.waitForFunction(
    () => document.body.dataset.ready === 'true' || !document.getElementById('error').hidden,
    { timeout, polling: 50 },
  );
  const { ready, alert } = await page.evaluate(() => ({
    ready: document.body.dataset.ready === 'true',
    alert: document.querySelector('[role="alert"]')?.textContent.trim() ?? '',
  }));
  assert.ok(ready, `the page showed an error instead of an image: ${alert}`);
}

/** Fails on any console error, page error, failed request or request to another origin. */
function assertClean(log) {
  assert.deepEqual(log.pageErrors, [], 'no page errors');
  assert.deepEqual(log.consoleErrors, [], 'no console errors');
  assert.deepEqual(log.foreignRequests, [], 'no requests to another origin');
  assert.deepEqual(log.failedRequests, [], 'no failed requests');
}

/**
 * The element with role="img" and accessible name `name`. Over BiDi, Firefox's accessibility
 * tree gives role="img" the computed role "image" (ARIA 1.3's name), and `[role="img"]` finds
 * nothing: both names are tried.
 */
async function imageByName(page, name) {
  for (const role of ['image', 'img']) {
    const el = await page.$(`::-p-aria([name="${name}"][role="${role}"])`);
    if (el) return el;
  }
  assert.fail(`no image named "${name}" in the accessibility tree`);
}

/** The canvas with accessible name `name` as grey levels (the red channel, 0..255). */
async function canvasPixels(page, name = 'Decoded image') {
  const canvas = await imageByName(page, name);
  assert.equal(await canvas.evaluate((el) => el.localName), 'canvas');
  return canvas.evaluate(canvasGrey);
}

function sliderValues(page) {
  return page.evaluate(() => [...document.querySelectorAll('#sliders input[type=range]')].map((el) => Number(el.value)));
}

const decodeCount = (page) => page.evaluate(() => window.vaeStats.decodes);

/** Waits until more than `n` images have been painted and the page has nothing queued or running. */
async function waitForDecodesAfter(page, n, timeout = 30_000) {
  await page.waitForFunction((k) => window.vaeStats.decodes > k, { timeout, polling: 20 }, n);
  await settle(page, timeout);
}

/** Waits until the painted-image count stays the same for a few ticks with no work in flight. */
async function settle(page, timeout = 30_000) {
  await page.waitForFunction(
    () =>
      new Promise((resolve) => {
        let last = window.vaeStats.decodes;
        let quiet = 0;
        const tick = () => {
          const now = window.vaeStats.decodes;
          if (now === last && !(window.vaeStats.busy?.() > 0)) quiet++;
          else {
            quiet = 0;
            last = now;
          }
          if (quiet >= 6) resolve(true);
          else setTimeout(tick, 20);
        };
        tick();
      }),
    { timeout },
  );
}

/** Draws `strokes` (lists of [x, y] in [0,1] of the pad's box) on the "Drawing pad" with the mouse. */
async function drawStrokes(page, strokes) {
  const pad = await imageByName(page, 'Drawing pad');
  await pad.scrollIntoView();
  await strokeWithMouse(page.mouse, await pad.boundingBox(), strokes);
}

/** Waits until the encoder has moved a slider away from `before` (a drawing was encoded). */
function waitForSlidersToMove(page, before) {
  return page.waitForFunction(
    (b) => [...document.querySelectorAll('#sliders input[type=range]')].some((el, i) => Number(el.value) !== b[i]),
    { timeout: 30_000, polling: 50 },
    before,
  );
}

async function latentDim(name) {
  const manifest = JSON.parse(await readFile(path.join(ROOT, 'models', name, 'manifest.json'), 'utf8'));
  return manifest.latent_dim;
}

/** Runs `body` on a fresh page; checks the page stayed clean and closes it, adding Firefox's output on failure. */
async function withPage(query, opts, body) {
  const s = await openPage(query, opts);
  try {
    await body(s);
    assertClean(s.log);
  } catch (err) {
    err.message += `\n-- requests: ${s.log.requests.length}; Firefox's last output:\n${browserLog.slice(-3000)}`;
    throw err;
  } finally {
    await s.close();
  }
}

// ---------------------------------------------------------------- tests

// A failing test of its own: a failed before hook only cancels the tests below (node:test
// counts them as cancelled, not failed).
test('Firefox is installed', () => {
  assert.ok(existsSync(FIREFOX), MISSING);
});

describe('Firefox (CPU backend: no WebGPU adapter on Linux)', () => {
  before(start, LOAD);
  after(stop);

  test('loads with the default backend (auto): falls back to the CPU and paints', LOAD, async () => {
    await withPage('', {}, async ({ page }) => {
      await waitForReady(page);
      const { backend, status, gpu } = await page.evaluate(() => ({
        backend: document.body.dataset.backend,
        status: document.getElementById('status-main').textContent,
        gpu: 'gpu' in navigator,
      }));
      assert.equal(backend, 'CPU', `backend (navigator.gpu present: ${gpu})`);
      assert.match(status, /^Backend: CPU/);
      const px = await canvasPixels(page);
      assert.equal(px.length, 28 * 28);
      assert.ok(pixelStats(px).std > 1, 'the decoded image is not flat');
    });
  });

  test('loads with ?backend=cpu', LOAD, async () => {
    await withPage('?backend=cpu', {}, async ({ page }) => {
      await waitForReady(page);
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'CPU');
      await page.waitForFunction(() => /^Backend: CPU — decode/.test(document.getElementById('status-main').textContent), { timeout: 30_000 });
    });
  });

  test('ArrowRight on "Latent dimension 1" changes the decoded image', T, async () => {
    await withPage('?backend=cpu', {}, async ({ page }) => {
      await waitForReady(page);
      await settle(page);
      const before = await canvasPixels(page);
      const slider = await page.$('::-p-aria([name="Latent dimension 1"][role="slider"])');
      assert.ok(slider, 'a slider named "Latent dimension 1"');
      assert.equal(await slider.evaluate((el) => el.id), 'z-1');
      await slider.focus();
      const valueBefore = Number(await slider.evaluate((el) => el.value));
      const n = await decodeCount(page);
      for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
      await waitForDecodesAfter(page, n);
      const valueAfter = Number(await slider.evaluate((el) => el.value));
      assert.ok(valueAfter > valueBefore, `the slider moved right (${valueBefore} → ${valueAfter})`);
      const after = await canvasPixels(page);
      assert.ok(pixelDiff(before, after) > 0, 'the decoded image changed');
    });
  });

  test('drawing on the pad moves the sliders (the encoder)', T, async () => {
    await withPage('?backend=cpu', {}, async ({ page }) => {
      await waitForReady(page);
      await settle(page);
      const before = await sliderValues(page);
      const pixels = await canvasPixels(page);
      const n = await decodeCount(page);
      await drawStrokes(page, ONE);
      await waitForDecodesAfter(page, n);
      await waitForSlidersToMove(page, before);
      await settle(page);
      const after = await sliderValues(page);
      assert.equal(after.length, before.length);
      assert.ok(after.some((v, i) => v !== before[i]), `the sliders moved (${before} → ${after})`);
      assert.ok(pixelDiff(pixels, await canvasPixels(page)) > 0, 'the decoded image changed');
    });
  });

  test('switching the model to mnist-mlp-2 shows its 2 sliders and paints', T, async () => {
    await withPage('', {}, async ({ page }) => {
      await waitForReady(page);
      await settle(page);
      const first = await page.evaluate(() => document.body.dataset.model);
      const options = await page.$$eval('#model-select option', (os) => os.map((o) => o.value));
      assert.ok(options.includes('mnist-mlp-32') && options.includes('mnist-mlp-2'), `models offered: ${options}`);
      const other = first === 'mnist-mlp-2' ? 'mnist-mlp-32' : 'mnist-mlp-2';
      const n = await decodeCount(page);
      await page.select('#model-select', other);
      await page.waitForFunction((m) => document.body.dataset.model === m, { timeout: 60_000, polling: 50 }, other);
      await waitForDecodesAfter(page, n, 60_000);
      const want = await latentDim(other);
      assert.equal((await sliderValues(page)).length, want, `${other} has ${want} sliders`);
      assert.equal(await page.evaluate(() => document.body.dataset.backend), 'CPU');
      assert.ok(pixelStats(await canvasPixels(page)).std > 1, 'the decoded image is not flat');
    });
  });

  test('at 390×844 (a phone) the page loads and the drawing pad encodes', T, async () => {
    await withPage('?backend=cpu', { viewport: PHONE }, async ({ page }) => {
      await waitForReady(page);
      await settle(page);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= PHONE.width, `no horizontal scrolling (scrollWidth ${width})`);
      const before = await sliderValues(page);
      const n = await decodeCount(page);
      await drawStrokes(page, ONE);
      await waitForDecodesAfter(page, n);
      await waitForSlidersToMove(page, before);
    });
  });
});
