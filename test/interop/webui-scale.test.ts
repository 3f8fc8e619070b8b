/**
 * The web UI with 1,000 torrents in headless Chromium: the first event carries every row, the
 * list keeps only the visible rows in the DOM, scrolling to the end and keyboard navigation
 * reach the last torrent, and the label filter and search narrow the list. Prints timings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../src/rpc/transmission/server.js';
import { torrentRow } from '../../src/rpc/webui/rows.js';
import { requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';

const COUNT = 1000;
/** The compiled web UI (tests run from the checkout root). */
const BUILT = 'dist/webui/app.js';

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

interface Doc {
  document: {
    querySelectorAll(s: string): { length: number };
    getElementById(id: string): {
      scrollTop: number;
      scrollHeight: number;
      getAttribute(n: string): string | null;
      textContent: string | null;
    } | null;
  };
}

test(`the web UI lists ${COUNT} torrents with a virtualised list`, { timeout: 180_000 }, async (t) => {
  if (!requirePeer(t, 'chromium')) return;
  const puppeteer = (await import('puppeteer-core')).default;
  assert.ok(await exists(BUILT), `${BUILT} missing: build the web UI (npx tsc -p webui/tsconfig.json)`);
  const tmp = await tempDir('nbt-webui-scale-');
  const daemon = await Daemon.open({
    configDir: join(tmp.path, 'cfg'),
    downloadDir: join(tmp.path, 'dl'),
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const server = new TransmissionRpcServer(daemon, { port: 0 });
  const port = await server.listen();
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      `--user-data-dir=${join(tmp.path, 'p')}`,
    ],
  });
  try {
    await Promise.all(
      Array.from({ length: COUNT }, (_, i) => {
        const hash = i.toString(16).padStart(40, '0');
        const name = `torrent ${String(i).padStart(4, '0')}`;
        return daemon.add({
          filename: `magnet:?xt=urn:btih:${hash}&dn=${encodeURIComponent(name)}`,
          paused: true,
          labels: [i % 10 === 0 ? 'tens' : 'rest'],
        });
      }),
    );
    assert.equal(daemon.list().length, COUNT);
    // The server's share of a round: every row computed once.
    let rowsMs = Infinity;
    for (let round = 0; round < 5; round++) {
      const r0 = performance.now();
      for (const e of daemon.list()) JSON.stringify(torrentRow(daemon, e));
      rowsMs = Math.min(rowsMs, performance.now() - r0);
    }

    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 720 });
    const t0 = performance.now();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(
      (n: number) =>
        (globalThis as unknown as Doc).document.getElementById('list')?.getAttribute('aria-rowcount') ===
        String(n),
      { timeout: 30_000 },
      COUNT,
    );
    await page.waitForSelector('body[data-ready] .list .row');
    const loadMs = performance.now() - t0;
    const domRows = await page.evaluate(
      () => (globalThis as unknown as Doc).document.querySelectorAll('.list .row').length,
    );
    assert.ok(domRows > 10 && domRows < 80, `only the visible rows are in the DOM (${domRows})`);

    // Scroll to the end: the last torrent (sorted by added, then name) is drawn.
    const s0 = performance.now();
    await page.evaluate(() => {
      const list = (globalThis as unknown as Doc).document.getElementById('list')!;
      list.scrollTop = list.scrollHeight;
    });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as Doc).document.querySelectorAll('.list .row[aria-posinset="1000"]')
          .length === 1,
    );
    const scrollMs = performance.now() - s0;
    // Keyboard: Home selects the first, End the last.
    await page.focus('#list');
    await page.keyboard.press('Home');
    await page.waitForSelector('.list .row[aria-posinset="1"][aria-selected="true"]');
    await page.keyboard.press('End');
    await page.waitForSelector('.list .row[aria-posinset="1000"][aria-selected="true"]');
    assert.equal(await page.$eval('#selection', (e) => e.textContent), '1 selected');
    await page.keyboard.down('Control');
    await page.keyboard.press('a');
    await page.keyboard.up('Control');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as Doc).document.getElementById('selection')?.textContent === '1000 selected',
    );

    // Label filter: a tenth of them.
    await page.select('#filter-label', 'tens');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as Doc).document.getElementById('list')?.getAttribute('aria-rowcount') ===
        '100',
    );
    await page.type('#search', 'torrent 099');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as Doc).document.getElementById('list')?.getAttribute('aria-rowcount') === '1',
    );
    console.log(
      `webui scale: ${COUNT} torrents, rows computed in ${rowsMs.toFixed(1)} ms per round, page with every row in ${loadMs.toFixed(0)} ms, ${domRows} rows in the DOM, scroll to the end drawn in ${scrollMs.toFixed(0)} ms`,
    );
  } finally {
    await browser.close();
    await server.close();
    await daemon.close();
    await tmp.cleanup();
  }
});
