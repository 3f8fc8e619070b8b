/**
 * The web UI in a real browser (Debian's headless Chromium driven by puppeteer-core) against a
 * real Daemon, a tracker of ours and a seeding Client: adds a torrent by file and one by magnet,
 * watches both complete, opens the details (the file tree: a folder collapsed, a folder's
 * priority and wanted box set for every file in it; peers with the past connections' reasons,
 * trackers, piece map), opens the session panel, edits engine settings (a refused value named,
 * then one applied and remembered), searches, and removes both (with and without data). Screenshots of each page go to a temp directory, or to
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
  // Clients re-announce no sooner than every 60 s whatever the interval says, so the seed must
  // outlive the default TTL (2 × interval): on a loaded machine the daemon's first announce can
  // come more than 10 s after the seed's.
  const tracker = new TrackerServer({
    host: '127.0.0.1',
    http: { port: 0 },
    intervalS: 5,
    peerTtlMs: 600_000,
  });
  await tracker.listen();
  const announce = tracker.announceUrls().http!;
  // Two torrents in the seed's directory: a folder of three files, two in a subfolder (added by
  // file), and one file (added by magnet).
  const seedDir = join(tmp.path, 'seed');
  await mkdir(join(seedDir, 'album', 'disc2'), { recursive: true });
  await writeFile(join(seedDir, 'album', 'one.bin'), seededBytes(900_000, 1));
  await writeFile(join(seedDir, 'album', 'disc2', 'two.bin'), seededBytes(300_000, 2));
  await writeFile(join(seedDir, 'album', 'disc2', 'three.bin'), seededBytes(200_000, 4));
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
  const indexOf = (name: string): number => album.metainfo.files.findIndex((f) => f.path.at(-1) === name);
  const [one, two, three] = [indexOf('one.bin'), indexOf('two.bin'), indexOf('three.bin')];
  const disc2 = [two, three];
  const prios = (): number[] | undefined => daemon.byHash(albumHash)?.record.filePriorities;
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
    // Once in CI the first click did not open the dialog in 30 s (not reproduced): say what was
    // under the pointer, then click again.
    await page.click('#add');
    if (!(await page.waitForSelector('#add-dialog[open]', { timeout: 10_000 }).catch(() => null))) {
      const under = await page.$eval('#add', (el) => {
        const r = el.getBoundingClientRect();
        const doc = (
          globalThis as unknown as {
            document: {
              elementFromPoint(
                x: number,
                y: number,
              ): { tagName: string; id: string; className: unknown } | null;
            };
          }
        ).document;
        const top = doc.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return top ? `${top.tagName}#${top.id}.${String(top.className)}` : 'nothing';
      });
      t.diagnostic(`add dialog did not open on the first click; under the pointer: ${under}`);
      await page.click('#add');
      await page.waitForSelector('#add-dialog[open]');
    }
    const picker = await page.$('#add-files');
    await picker!.uploadFile(albumFile);
    // The daemon reads the file list: leave disc2 (two.bin, three.bin) out.
    for (const i of disc2) {
      await page.waitForSelector(`#add-file-list input[type=checkbox][value="${i}"]`);
      await page.click(`#add-file-list input[type=checkbox][value="${i}"]`);
    }
    assert.equal(
      await page.$eval('#add-savepath', (e) => (e as unknown as { value: string }).value),
      downloads,
    );
    await page.screenshot({ path: join(shots, 'add.png') });
    await page.click('#add-submit');
    await page.waitForSelector(`#row-${albumHash}`, { timeout: 30_000 });
    await until(() => disc2.every((i) => prios()?.[i] === 0), 10_000, 'disc2 left out');

    // Add by magnet (pasted).
    await page.click('#add');
    await page.waitForSelector('#add-dialog[open]');
    const magnet = buildMagnet({ infoHash: clip.metainfo.infoHash, name: 'clip.bin', trackers: [announce] });
    await page.type('#add-urls', magnet);
    await page.click('#add-submit');
    await page.waitForSelector(`#row-${clipHash}`, { timeout: 30_000 });
    await page
      .waitForSelector('.list .row[data-state="downloading"]', { timeout: 20_000 })
      .catch((e: unknown) => {
        throw new Error(
          `${String(e)} ${JSON.stringify(daemon.list().map((d) => [d.record.name, d.torrent?.state, d.torrent?.paused, d.record.stopped, d.queued, d.torrent?.peers.length, d.torrent?.stats().bytesDone, d.torrent?.trackers]))} seeder ${JSON.stringify(seeds.map((t) => [t.state, t.peers.length, t.trackers]))} ${pageErrors.join(';')}`,
        );
      });
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
    const twoBefore = await readFile(join(downloads, 'album', 'disc2', 'two.bin')).catch(() =>
      Buffer.alloc(0),
    );
    assert.ok(!twoBefore.equals(seededBytes(300_000, 2)), 'the files left out are not downloaded');
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
    // The files as a tree: album/ and album/disc2/ are folders; disc2 is left out, so album is
    // partly wanted and of mixed priority.
    await page.waitForSelector('#details:not([hidden]) #tab-files tr.folder[data-folder="album/disc2"]');
    const field = (sel: string, key: string): Promise<string | boolean> =>
      page.$eval(sel, (e, k) => (e as unknown as Record<string, string | boolean>)[k]!, key);
    const folderPrio = (f: string) => field(`#tab-files select[data-folder="${f}"]`, 'value');
    const folderWanted = (f: string) => field(`#tab-files input[data-folder="${f}"]`, 'checked');
    const folderSome = (f: string) => field(`#tab-files input[data-folder="${f}"]`, 'indeterminate');
    const prioOf = (i: number) => field(`#tab-files select[data-index="${i}"]`, 'value');
    assert.equal(await prioOf(two), '0', 'two.bin shows Skip');
    assert.equal(await prioOf(one), '1', 'one.bin shows Normal');
    assert.equal(await folderPrio('album/disc2'), '0');
    assert.equal(await folderWanted('album/disc2'), false);
    assert.equal(await folderPrio('album'), '', 'album: mixed');
    assert.equal(await folderWanted('album'), false);
    assert.equal(await folderSome('album'), true, 'album: partly wanted');
    const visibleFiles = (): Promise<number> =>
      page.$$eval(
        '#tab-files tbody tr:not(.folder)',
        (rows) => rows.filter((r) => !(r as unknown as { hidden: boolean }).hidden).length,
      );
    assert.equal(await visibleFiles(), 3);
    // Collapsing disc2 hides its two files; expanding shows them again.
    await page.click('#tab-files tr[data-folder="album/disc2"] .toggle');
    assert.equal(await visibleFiles(), 1);
    assert.equal(await field('#tab-files tr[data-folder="album/disc2"] .toggle', 'ariaExpanded'), 'false');
    await page.click('#tab-files tr[data-folder="album/disc2"] .toggle');
    assert.equal(await visibleFiles(), 3);
    await page.screenshot({ path: join(shots, 'details-files.png') });
    // disc2 back to Normal through the folder's priority: the daemon records 4 for both files and
    // downloads them; one.bin stays as it was.
    await page.select('#tab-files select[data-folder="album/disc2"]', '1');
    await until(() => disc2.every((i) => prios()?.[i] === 4), 10_000, 'folder priority set');
    assert.equal(prios()![one], 4, 'the file outside the folder stays normal');
    for (let i = 0; ; i++) {
      const got = await Promise.all(
        ['two.bin', 'three.bin'].map((n) =>
          readFile(join(downloads, 'album', 'disc2', n)).catch(() => Buffer.alloc(0)),
        ),
      );
      if (
        got[0]!.equals(seededBytes(300_000, 2)) &&
        got[1]!.equals(seededBytes(200_000, 4)) &&
        daemon.byHash(albumHash)!.torrent!.finished
      )
        break;
      if (i >= 300) {
        const det = (await (
          await fetch(`http://127.0.0.1:${port}/api/nbt/torrent?hash=${albumHash}`)
        ).json()) as Record<string, unknown>;
        const tt = daemon.byHash(albumHash)!.torrent!;
        assert.fail(
          `disc2 not downloaded: ${tt.state} ${tt.finished} ${JSON.stringify(det.peers)} ${JSON.stringify(det.disconnects)} ${JSON.stringify(det.trackers)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.waitForFunction(
      () =>
        (globalThis as unknown as Doc).document.querySelector('#tab-files tr[data-folder="album"] .pct')
          ?.textContent === '100.0%',
    );
    // The top folder's priority sets all three files; disc2's wanted box clears both of its files.
    await page.select('#tab-files select[data-folder="album"]', '7');
    await until(() => prios()?.every((p) => p === 7) ?? false, 10_000, 'album to maximum');
    await page.waitForFunction(
      () => (globalThis as unknown as Doc).document.querySelector('#tab-files select[data-index]') !== null,
    );
    await page.click('#tab-files input[data-folder="album/disc2"]');
    await until(
      () => disc2.every((i) => prios()?.[i] === 0) && prios()?.[one] === 7,
      10_000,
      'disc2 unwanted',
    );
    await page.waitForFunction(() => {
      const box = (
        globalThis as unknown as { document: { querySelector(s: string): { indeterminate: boolean } | null } }
      ).document.querySelector('#tab-files input[data-folder="album"]');
      return box?.indeterminate === true;
    });
    // Wanted again through one file's box: Normal.
    await page.click(`#tab-files input[data-index="${two}"]`);
    await until(() => prios()?.[two] === 4 && prios()?.[three] === 0, 10_000, 'two.bin wanted');

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

    // The settings editor: every setting of the registry; a refused value is named and marked,
    // nothing changes; a good one is applied and remembered in the session file.
    await page.click('#settings-open');
    await page.waitForSelector('#settings-dialog[open] #setting-request_timeout');
    assert.equal(
      await page.$$eval('#settings-table tbody tr', (rows) => rows.length),
      Object.keys(daemon.client.settings()).length,
    );
    assert.equal(await field('#setting-download_rate_limit', 'disabled'), true, 'the session limits own it');
    await page.type('#settings-search', 'timeout');
    await page.waitForSelector('#settings-table tr[data-name="snub_timeout"]:not([hidden])');
    assert.equal(
      await page.$eval(
        '#settings-table tr[data-name="alert_categories"]',
        (e) => (e as unknown as { hidden: boolean }).hidden,
      ),
      true,
    );
    await page.click('#setting-request_timeout', { count: 3 });
    await page.keyboard.type('0');
    await page.click('#settings-apply');
    await page.waitForFunction(() =>
      /request_timeout must be in 1\.\./.test(
        (globalThis as unknown as Doc).document.querySelector('#settings-error')?.textContent ?? '',
      ),
    );
    assert.equal(
      await page.$eval('#setting-request_timeout', (e) =>
        (e as unknown as { getAttribute(n: string): string }).getAttribute('aria-invalid'),
      ),
      'true',
    );
    assert.equal(daemon.client.settings().request_timeout, 20_000, 'nothing applied');
    await page.screenshot({ path: join(shots, 'settings.png') });
    await page.click('#setting-request_timeout', { count: 3 });
    await page.keyboard.type('15000');
    await page.click('#settings-apply');
    await until(() => daemon.client.settings().request_timeout === 15_000, 10_000, 'setting applied');
    await page.waitForFunction(
      () => (globalThis as unknown as Doc).document.querySelector('#settings-error')?.textContent === '',
    );
    const session = JSON.parse(await readFile(join(tmp.path, 'cfg', 'session.json'), 'utf8')) as {
      engine?: Record<string, unknown>;
    };
    assert.equal(session.engine?.['request_timeout'], 15_000);
    await page.click('#settings-dialog .cancel');

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
