/**
 * The web UI in a real browser (Debian's headless Chromium driven by puppeteer-core) against a
 * real Daemon, a tracker of ours and a seeding Client: adds a torrent by file and one by magnet,
 * watches both complete, opens the details (files, peers with the past connections' reasons,
 * trackers, piece map), changes a file priority, opens the session panel, searches, and removes
 * both (with and without data). Screenshots of each page go to a temp directory, or to
 * NBT_WEBUI_SCREENSHOTS (e.g. docs/webui) when set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildMagnet, createTorrent } from '../../src/metainfo/index.js';
import { TransmissionRpcServer } from '../../src/rpc/transmission/server.js';
import { TrackerServer } from '../../src/tracker/server/index.js';
import { requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';
import { until } from '../unit/client/fixtures.js';

/** The compiled web UI (tests run from the checkout root). */
const BUILT = 'dist/webui/app.js';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

test('the web UI adds, shows, edits and removes torrents in Chromium', { timeout: 180_000 }, async (t) => {
  if (!requirePeer(t, 'chromium')) return;
  const puppeteer = (await import('puppeteer-core')).default;
  assert.ok(await exists(BUILT), `${BUILT} missing: build the web UI (npx tsc -p webui/tsconfig.json)`);
  const tmp = await tempDir('nbt-webui-');
  const shots = process.env['NBT_WEBUI_SCREENSHOTS'] ?? join(tmp.path, 'shots');
  await mkdir(shots, { recursive: true });
  const tracker = new TrackerServer({ host: '127.0.0.1', http: { port: 0 }, intervalS: 5 });
  await tracker.listen();
  const announce = tracker.announceUrls().http!;
  // Two torrents in the seed's directory: a folder of two files (added by file) and one file
  // (added by magnet).
  const seedDir = join(tmp.path, 'seed');
  await mkdir(join(seedDir, 'album'), { recursive: true });
  await writeFile(join(seedDir, 'album', 'one.bin'), seededBytes(900_000, 1));
  await writeFile(join(seedDir, 'album', 'two.bin'), seededBytes(300_000, 2));
  await writeFile(join(seedDir, 'clip.bin'), seededBytes(500_000, 3));
  const album = await createTorrent(join(seedDir, 'album'), {
    pieceLength: 16384,
    date: false,
    trackers: [announce],
  });
  const clip = await createTorrent(join(seedDir, 'clip.bin'), {
    pieceLength: 16384,
    date: false,
    trackers: [announce],
  });
  const albumFile = join(tmp.path, 'album.torrent');
  await writeFile(albumFile, album.torrent);
  const albumHash = album.metainfo.infoHashHex;
  const clipHash = clip.metainfo.infoHashHex;
  // Rate-limited, so that the list and the graphs show a download under way.
  const seeder = new Client({
    host: '127.0.0.1',
    dht: false,
    pex: false,
    limits: { maxPerHost: 10 },
    uploadRateLimit: 200_000,
  });
  await seeder.listen(0);
  const seeds = [
    await seeder.addTorrent(album.torrent, { savePath: seedDir }),
    await seeder.addTorrent(clip.torrent, { savePath: seedDir }),
  ];
  // A seed still checking refuses peers (HASHCHECKING) and the dialler backs off for 15 s.
  await until(() => seeds.every((t) => t.state === 'seeding'), 10_000, 'seeds ready');
  const downloads = join(tmp.path, 'downloads');
  const daemon = await Daemon.open({
    configDir: join(tmp.path, 'cfg'),
    downloadDir: downloads,
    port: 0,
    // TCP only for now: over uTP, re-wanting a skipped file once left the download idle with the
    // seed connected (seen in CI, not reproduced locally; under investigation).
    client: { dht: false, pex: false, utp: false, host: '127.0.0.1', limits: { maxPerHost: 10 } },
  });
  const server = new TransmissionRpcServer(daemon, { port: 0 });
  const port = await server.listen();
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...FLAGS, `--user-data-dir=${join(tmp.path, 'profile')}`],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1180, height: 560 });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body[data-ready] #empty:not([hidden])');

    // Add by file (picked in the add dialog).
    await page.click('#add');
    await page.waitForSelector('#add-dialog[open]');
    const picker = await page.$('#add-files');
    await picker!.uploadFile(albumFile);
    // The daemon reads the file list: leave two.bin out.
    await page.waitForSelector('#add-file-list input[type=checkbox][value="1"]');
    await page.click('#add-file-list input[type=checkbox][value="1"]');
    assert.equal(
      await page.$eval('#add-savepath', (e) => (e as unknown as { value: string }).value),
      downloads,
    );
    await page.screenshot({ path: join(shots, 'add.png') });
    await page.click('#add-submit');
    await page.waitForSelector(`#row-${albumHash}`, { timeout: 10_000 });
    await until(() => daemon.byHash(albumHash)?.record.filePriorities?.[1] === 0, 10_000, 'two.bin left out');

    // Add by magnet (pasted).
    await page.click('#add');
    await page.waitForSelector('#add-dialog[open]');
    const magnet = buildMagnet({ infoHash: clip.metainfo.infoHash, name: 'clip.bin', trackers: [announce] });
    await page.type('#add-urls', magnet);
    await page.click('#add-submit');
    await page.waitForSelector(`#row-${clipHash}`, { timeout: 10_000 });
    await page.waitForSelector('.list .row[data-state="downloading"]', { timeout: 20_000 });
    await page.screenshot({ path: join(shots, 'list.png') });
    // The dark theme follows prefers-color-scheme.
    const background = (): Promise<string> =>
      page.evaluate(() => {
        const g = globalThis as unknown as {
          getComputedStyle(e: unknown): { backgroundColor: string };
          document: { body: unknown };
        };
        return g.getComputedStyle(g.document.body).backgroundColor;
      });
    const light = await background();
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    const dark = await background();
    assert.notEqual(dark, light);
    await page.screenshot({ path: join(shots, 'list-dark.png') });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);

    // Both complete, as the list shows it.
    for (const h of [albumHash, clipHash])
      await page
        .waitForSelector(`#row-${h}[data-state="stalledUP"], #row-${h}[data-state="uploading"]`, {
          timeout: 60_000,
        })
        .catch((e: unknown) => {
          const d = daemon.byHash(h);
          const st = d?.torrent?.stats();
          throw new Error(
            `${String(e)}: queued ${d?.queued} stopped ${d?.record.stopped} paused ${d?.torrent?.paused} ${d?.torrent?.state} done ${st?.bytesDone} peers ${JSON.stringify(d?.torrent?.peers.map((p) => [p.state, p.peerChoking, p.amInterested]))} ${JSON.stringify(d?.torrent?.trackers)}`,
          );
        });
    const pct = await page.$eval(`#row-${albumHash} .pct`, (e) => e.textContent);
    assert.equal(pct, '100.0%');
    assert.deepEqual(await readFile(join(downloads, 'album', 'one.bin')), seededBytes(900_000, 1));
    // (Only the piece it shares with one.bin may be written.)
    const twoBefore = await readFile(join(downloads, 'album', 'two.bin')).catch(() => Buffer.alloc(0));
    assert.ok(!twoBefore.equals(seededBytes(300_000, 2)), 'the file left out is not downloaded');
    assert.deepEqual(await readFile(join(downloads, 'clip.bin')), seededBytes(500_000, 3));

    // Search narrows the list; clearing it brings both back.
    await page.type('#search', 'clip');
    await page.waitForFunction(
      () => (globalThis as unknown as Doc).document.querySelectorAll('.list .row').length === 1,
    );
    await page.click('#search', { count: 3 });
    await page.keyboard.press('Backspace');
    await page.waitForFunction(
      () => (globalThis as unknown as Doc).document.querySelectorAll('.list .row').length === 2,
    );

    // Details by keyboard: select the album's row, Enter opens it.
    await page.click(`#row-${albumHash} .c-name`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#details:not([hidden]) #tab-files tbody tr:nth-child(2)');
    await page.screenshot({ path: join(shots, 'details-files.png') });
    const prioOf = (i: number): Promise<string> =>
      page.$eval(`#tab-files select[data-index="${i}"]`, (e) => (e as unknown as { value: string }).value);
    assert.equal(await prioOf(1), '0', 'two.bin shows Skip');
    // two.bin back to Normal: the daemon records priority 4 and downloads it.
    await page.select('#tab-files select[data-index="1"]', '1');
    await until(
      () => daemon.byHash(albumHash)?.record.filePriorities?.[1] === 4,
      10_000,
      'file priority set',
    );
    assert.equal(daemon.byHash(albumHash)!.record.filePriorities![0], 4, 'the other file stays normal');
    for (let i = 0; ; i++) {
      const two = await readFile(join(downloads, 'album', 'two.bin')).catch(() => Buffer.alloc(0));
      if (two.equals(seededBytes(300_000, 2)) && daemon.byHash(albumHash)!.torrent!.finished) break;
      if (i >= 300) {
        const det = (await (
          await fetch(`http://127.0.0.1:${port}/api/nbt/torrent?hash=${albumHash}`)
        ).json()) as Record<string, unknown>;
        const tt = daemon.byHash(albumHash)!.torrent!;
        assert.fail(
          `two.bin not downloaded: ${tt.state} ${tt.finished} ${JSON.stringify(det.peers)} ${JSON.stringify(det.disconnects)} ${JSON.stringify(det.trackers)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    await page.click('[data-tab=peers]');
    await page.waitForSelector('#tab-peers:not([hidden]) h3');
    await page.screenshot({ path: join(shots, 'details-peers.png') });
    await page.click('[data-tab=trackers]');
    await page.waitForFunction(
      (url: string) =>
        (globalThis as unknown as Doc).document.querySelector('#tab-trackers')?.textContent?.includes(url) ??
        false,
      {},
      announce,
    );
    await page.click('[data-tab=pieces]');
    await page.waitForSelector('#tab-pieces canvas');
    const legend = await page.$eval('#tab-pieces .legend', (e) => e.textContent);
    assert.match(
      legend ?? '',
      new RegExp(`^${album.metainfo.pieceCount} of ${album.metainfo.pieceCount} pieces`),
    );
    await page.screenshot({ path: join(shots, 'details-pieces.png') });
    await page.click('[data-tab=speed]');
    await page.waitForSelector('#tab-speed canvas[aria-label^="Speed graph"]');
    const peakOf = (sel: string): Promise<number> =>
      page.$eval(sel, (e) => Number((e as unknown as { dataset: Record<string, string> }).dataset['peak']));
    assert.ok((await peakOf('#tab-speed canvas')) > 50_000, 'the graph has the download in it');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#details[hidden]');

    // Edit the selected torrent: a label (the list shows it, the label filter offers it) and a
    // download limit.
    await page.click('#edit');
    await page.waitForSelector('#edit-dialog[open]');
    await page.type('#edit-label', 'music');
    await page.type('#edit-dl', '250');
    await page.click('#edit-submit');
    await page.waitForSelector('#edit-dialog:not([open])');
    await until(() => daemon.byHash(albumHash)?.record.category === 'music', 10_000, 'label set');
    await until(() => daemon.byHash(albumHash)?.record.downloadLimit === 250_000, 10_000, 'limit set');
    assert.equal(daemon.byHash(albumHash)!.record.downloadLimited, true);
    await page.waitForFunction(
      (h: string) =>
        (globalThis as unknown as Doc).document.querySelector(`#row-${h} .c-label`)?.textContent === 'music',
      {},
      albumHash,
    );
    await page.waitForSelector('#filter-label option[value="music"]');
    assert.equal(daemon.byHash(clipHash)!.record.category ?? '', '', 'only the selected torrent');

    // The session panel: counters of this session.
    await page.click('#session-open');
    await page.waitForSelector('#session-dialog[open] #counters-bytes dt').catch(async (e: unknown) => {
      throw new Error(`${String(e)}; page errors: ${pageErrors.join('; ')}`);
    });
    assert.ok((await peakOf('#session-graph')) > 50_000, 'the session graph has the download in it');
    await page.screenshot({ path: join(shots, 'session.png') });
    await page.click('#session-dialog .cancel');

    // Remove the album (data kept), then the clip with its data.
    await page.click(`#row-${albumHash} .c-name`);
    await page.click('#remove');
    await page.waitForSelector('#remove-dialog[open]');
    await page.click('#remove-confirm');
    await until(() => daemon.byHash(albumHash) === undefined, 10_000, 'album removed');
    await page.waitForSelector(`#row-${albumHash}`, { hidden: true });
    assert.ok(await exists(join(downloads, 'album', 'one.bin')), 'data kept');
    await page.click(`#row-${clipHash} .c-name`);
    await page.click('#remove-data');
    await page.waitForSelector('#remove-dialog[open]');
    await page.click('#remove-confirm');
    await until(() => daemon.byHash(clipHash) === undefined, 10_000, 'clip removed');
    await until(() => daemon.list().length === 0, 5_000, 'no torrents');
    await page.waitForSelector('#empty:not([hidden])');
    for (let i = 0; i < 50 && (await exists(join(downloads, 'clip.bin'))); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(!(await exists(join(downloads, 'clip.bin'))), 'data deleted');
    assert.deepEqual(pageErrors, []);

    // With credentials (a second server on the same daemon): the login page, a wrong password,
    // then the list.
    const guarded = new TransmissionRpcServer(daemon, { port: 0, username: 'admin', password: 'secret' });
    const guardedPort = await guarded.listen();
    try {
      const login = await browser.newPage();
      await login.setViewport({ width: 640, height: 420 });
      await login.goto(`http://127.0.0.1:${guardedPort}/`);
      assert.equal(new URL(login.url()).pathname, '/login');
      await login.type('#username', 'admin');
      await login.type('#password', 'wrong');
      await login.keyboard.press('Enter');
      await login.waitForFunction(
        () => ((globalThis as unknown as Doc).document.querySelector('#message')?.textContent ?? '') !== '',
      );
      await login.screenshot({ path: join(shots, 'login.png') });
      await login.$eval('#password', (e) => ((e as unknown as { value: string }).value = ''));
      await login.type('#password', 'secret');
      await Promise.all([login.waitForNavigation(), login.keyboard.press('Enter')]);
      assert.equal(new URL(login.url()).pathname, '/');
      await login.waitForFunction(() =>
        /^0 torrents/.test(
          (globalThis as unknown as Doc).document.querySelector('#torrent-count')?.textContent ?? '',
        ),
      );
      await login.close();
    } finally {
      await guarded.close();
    }
  } finally {
    await browser.close();
    await server.close();
    await daemon.close();
    await seeder.close();
    await tracker.close();
    await tmp.cleanup();
  }
});

/** The minimal DOM shape page functions use (the project compiles without DOM types). */
interface Doc {
  document: {
    querySelectorAll(s: string): { length: number };
    querySelector(s: string): { textContent: string | null } | null;
  };
}
