/**
 * Web seeds (BEP 19) against Debian's nginx serving the files on 127.0.0.1: a torrent with no
 * peers at all completes from the web seed alone (single file, by file URL and by directory URL;
 * multi-file, with ranges split per file); a seed serving wrong bytes in one range is detected
 * and dropped; 503 + Retry-After is honoured; redirects are followed, but never to a host the IP
 * filter blocks and not forever; mixed with a real libtorrent seed both sources contribute; a
 * magnet's ws= is used; `nbt create -w` then `nbt download` completes from the web seed alone.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { createTorrent } from '../../src/metainfo/create.js';
import type { Torrent } from '../../src/torrent/torrent.js';
import type { WebSeedErrorInfo } from '../../src/torrent/web-seed.js';
import { cleanupStack, type Defer } from '../helpers/cleanup.js';
import { startNginx, shareWithNginx, type NginxServer } from '../helpers/nginx.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';
import { done, until } from './tracker-swarm.js';
import { NbtChild } from '../unit/cli/nbt-child.js';

interface Fixture {
  dir: string;
  /** nginx's root: `files/<name>` holds the torrent's data. */
  root: string;
  nginx: NginxServer;
}

async function fixture(t: TestContext, defer: Defer, locations = ''): Promise<Fixture> {
  const tmp = await tempDir('nbt-webseed-');
  defer(() => tmp.cleanup());
  const root = join(tmp.path, 'www');
  await mkdir(join(root, 'files'), { recursive: true });
  await shareWithNginx([tmp.path, root]);
  const nginx = await startNginx({ root, locations });
  defer(() => nginx.stop());
  t.diagnostic(`nginx on ${nginx.origin}`);
  return { dir: tmp.path, root, nginx };
}

async function singleFile(fx: Fixture, name: string, size: number, seed: number): Promise<Buffer> {
  const data = seededBytes(size, seed);
  await writeFile(join(fx.root, 'files', name), data);
  return data;
}

function webSeedClient(defer: Defer, o: ConstructorParameters<typeof Client>[0] = {}): Client {
  const client = new Client({ host: '127.0.0.1', trackers: false, dht: false, pex: false, ...o });
  defer(() => client.close());
  return client;
}

function errors(torrent: Torrent): WebSeedErrorInfo[] {
  const out: WebSeedErrorInfo[] = [];
  torrent.on('web-seed-error', (e) => out.push(e));
  return out;
}

/** The Range headers nginx saw for one URI prefix, as [start, end] pairs. */
async function ranges(nginx: NginxServer, prefix: string): Promise<[number, number][]> {
  const out: [number, number][] = [];
  for (const line of (await nginx.accessLog()).split('\n')) {
    const m = /^GET (\S+) \d+ "bytes=(\d+)-(\d+)"$/.exec(line);
    if (m && m[1]!.startsWith(prefix)) out.push([Number(m[2]), Number(m[3])]);
  }
  return out;
}

for (const style of ['file URL', 'directory URL'] as const) {
  test(`a single-file torrent with only a web seed (${style}) completes from nginx`, async (t) => {
    if (!requirePeer(t, 'nginx')) return;
    const defer = cleanupStack(t);
    const fx = await fixture(t, defer);
    const data = await singleFile(fx, 'single.bin', 5 * 1024 * 1024 + 12_345, 7);
    const url = style === 'file URL' ? `${fx.nginx.origin}/files/single.bin` : `${fx.nginx.origin}/files/`;
    const { torrent: bytes } = await createTorrent(join(fx.root, 'files', 'single.bin'), {
      pieceLength: 256 * 1024,
      webSeeds: [url],
    });
    const client = webSeedClient(defer);
    const torrent = await client.addTorrent(bytes, { savePath: join(fx.dir, 'dl') });
    const errs = errors(torrent);
    await done(torrent, 30_000);
    assert.ok((await readFile(join(fx.dir, 'dl', 'single.bin'))).equals(data));
    const st = torrent.stats();
    assert.equal(st.peers.total, 0);
    assert.equal(st.hashFailures, 0);
    assert.deepEqual(errs, []);
    assert.equal(st.webSeeds.length, 1);
    assert.equal(st.webSeeds[0]!.url, url);
    assert.equal(st.webSeeds[0]!.downloaded, data.length);
    const counters = client.counters();
    assert.equal(counters.webSeedDownloaded, data.length);
    assert.equal(counters.payloadDownloaded, 0, 'no peer payload');
    // Contiguous runs, not scattered blocks: far fewer requests than 16 KiB blocks.
    const seen = await ranges(fx.nginx, '/files/single.bin');
    assert.ok(seen.length > 0 && seen.length <= data.length / (256 * 1024), `${seen.length} requests`);
    assert.ok(
      seen.some(([a, b]) => b - a + 1 >= 256 * 1024),
      'some request spans a whole piece or more',
    );
  });
}

test('a multi-file torrent completes from nginx; ranges are split per file', async (t) => {
  if (!requirePeer(t, 'nginx')) return;
  const defer = cleanupStack(t);
  const fx = await fixture(t, defer);
  const top = join(fx.root, 'pub', 'multi');
  await mkdir(join(top, 'sub dir'), { recursive: true });
  const files: [string, Buffer][] = [
    ['a.bin', seededBytes(300_000, 1)],
    [join('sub dir', 'b #1.bin'), seededBytes(1_100_000, 2)],
    ['c.txt', Buffer.from('seventeen bytes!\n')],
    ['d.bin', seededBytes(700_001, 3)],
  ];
  for (const [p, d] of files) await writeFile(join(top, p), d);
  await shareWithNginx([join(fx.root, 'pub'), top, join(top, 'sub dir')]);
  const { torrent: bytes } = await createTorrent(top, {
    pieceLength: 64 * 1024,
    webSeeds: [`${fx.nginx.origin}/pub`],
  });
  const client = webSeedClient(defer);
  const torrent = await client.addTorrent(bytes, { savePath: join(fx.dir, 'dl') });
  await done(torrent, 30_000);
  for (const [p, d] of files) assert.ok((await readFile(join(fx.dir, 'dl', 'multi', p))).equals(d), p);
  assert.equal(torrent.stats().peers.total, 0);
  // Every file was asked for by its own URL (name/path, percent-encoded).
  const log = await fx.nginx.accessLog();
  for (const uri of [
    '/pub/multi/a.bin',
    '/pub/multi/sub%20dir/b%20%231.bin',
    '/pub/multi/c.txt',
    '/pub/multi/d.bin',
  ])
    assert.ok(log.includes(`GET ${uri} 206`), `${uri} requested`);
});

test('a web seed serving wrong bytes in one range is detected and dropped; another completes', async (t) => {
  if (!requirePeer(t, 'nginx')) return;
  const defer = cleanupStack(t);
  const fx = await fixture(t, defer);
  const data = await singleFile(fx, 'x.bin', 2 * 1024 * 1024, 9);
  const bad = Buffer.from(data);
  bad.fill(0x55, 700_000, 700_000 + 5000); // inside piece 5 (128 KiB pieces)
  await mkdir(join(fx.root, 'bad'));
  await writeFile(join(fx.root, 'bad', 'x.bin'), bad);
  await shareWithNginx([join(fx.root, 'bad')]);
  const badUrl = `${fx.nginx.origin}/bad/x.bin`;
  const { torrent: bytes } = await createTorrent(join(fx.root, 'files', 'x.bin'), {
    pieceLength: 128 * 1024,
    webSeeds: [badUrl],
  });
  const client = webSeedClient(defer);
  const torrent = await client.addTorrent(bytes, { savePath: join(fx.dir, 'dl') });
  const errs = errors(torrent);
  const fails: [number, string[]][] = [];
  torrent.on('piece-hash-fail', (i, senders) => fails.push([i, senders]));
  const alerts: string[] = [];
  client.on('alert', (a) => {
    if (a.type === 'web-seed-error') alerts.push(`${a.url} ${a.code} ${a.dropped}`);
  });
  await until(() => errs.some((e) => e.dropped), 20_000, 'the bad web seed dropped');
  assert.deepEqual(fails, [[5, [badUrl]]]);
  assert.equal(errs[0]!.code, 'WEBSEED_CORRUPT');
  assert.equal(errs[0]!.url, badUrl);
  assert.deepEqual(alerts, [`${badUrl} WEBSEED_CORRUPT true`]);
  assert.equal(torrent.webSeeds[0]!.state, 'dropped');
  assert.equal(torrent.complete, false);
  assert.ok(torrent.addWebSeed(`${fx.nginx.origin}/files/x.bin`));
  await done(torrent, 20_000);
  assert.ok((await readFile(join(fx.dir, 'dl', 'x.bin'))).equals(data));
  assert.equal(torrent.webSeeds[0]!.state, 'dropped', 'the bad one stays dropped');
});

test('503 with Retry-After: the seed rests that long, then completes', async (t) => {
  if (!requirePeer(t, 'nginx')) return;
  const defer = cleanupStack(t);
  const tmpFlag = await tempDir('nbt-flag-');
  defer(() => tmpFlag.cleanup());
  await shareWithNginx([tmpFlag.path]);
  const flag = join(tmpFlag.path, 'busy');
  await writeFile(flag, '');
  const fx = await fixture(
    t,
    defer,
    `location /files/ { if (-f ${flag}) { add_header Retry-After 2 always; return 503; } }`,
  );
  const data = await singleFile(fx, 'y.bin', 1024 * 1024, 11);
  const { torrent: bytes } = await createTorrent(join(fx.root, 'files', 'y.bin'), {
    pieceLength: 64 * 1024,
    webSeeds: [`${fx.nginx.origin}/files/y.bin`],
  });
  const client = webSeedClient(defer);
  const torrent = await client.addTorrent(bytes, { savePath: join(fx.dir, 'dl') });
  const errs = errors(torrent);
  await until(() => errs.length > 0, 10_000, 'a 503');
  const restedAt = Date.now();
  assert.equal(errs[0]!.code, 'WEBSEED_UNAVAILABLE');
  assert.equal(errs[0]!.retryInMs, 2000);
  assert.equal(errs[0]!.dropped, false);
  assert.equal(torrent.webSeeds[0]!.state, 'resting');
  await rm(flag);
  await done(torrent, 15_000);
  assert.ok(Date.now() - restedAt >= 1900, 'waited for Retry-After');
  assert.equal(errs.length, 1, 'one 503, then success');
  assert.ok((await readFile(join(fx.dir, 'dl', 'y.bin'))).equals(data));
  const log = await fx.nginx.accessLog();
  // Only the transfers already in flight met the 503 (at most 4); none was sent while resting.
  const busy = log.split('\n').filter((l) => / 503 /.test(l)).length;
  assert.ok(busy >= 1 && busy <= 4, `${busy} requests answered 503`);
});

test('redirects: followed on the same server; never to a filtered host; not forever', async (t) => {
  if (!requirePeer(t, 'nginx')) return;
  const defer = cleanupStack(t);
  const fx = await fixture(
    t,
    defer,
    `location /moved/ { rewrite ^/moved/(.*)$ /files/$1 redirect; }
     location /evil/ { return 302 http://127.0.0.2:$server_port/files/z.bin; }
     location /loop/ { rewrite ^/loop/(.*)$ /loop/$1 redirect; }`,
  );
  const data = await singleFile(fx, 'z.bin', 3_000_000, 13);
  const make = async (url: string): Promise<Buffer> =>
    (await createTorrent(join(fx.root, 'files', 'z.bin'), { pieceLength: 32 * 1024, webSeeds: [url] }))
      .torrent;
  // Small runs, so that more transfers follow the first ones (which meet the redirect).
  const client = webSeedClient(defer, {
    ipFilter: (ip) => ip !== '127.0.0.2',
    webSeeds: { maxRunBytes: 256 * 1024 },
  });

  const moved = await client.addTorrent(await make(`${fx.nginx.origin}/moved/z.bin`), {
    savePath: join(fx.dir, 'a'),
  });
  await done(moved, 20_000);
  assert.ok((await readFile(join(fx.dir, 'a', 'z.bin'))).equals(data));
  // The redirect is remembered: only the first transfers (up to 4 in flight) asked /moved/.
  const log = await fx.nginx.accessLog();
  const movedAsks = log.split('\n').filter((l) => l.startsWith('GET /moved/')).length;
  assert.ok(movedAsks >= 1 && movedAsks <= 4, `${movedAsks} requests to /moved/`);
  assert.ok(log.split('\n').filter((l) => l.startsWith('GET /files/z.bin 206')).length > movedAsks);
  await client.removeTorrent(moved);

  for (const [path, code] of [
    ['/evil/z.bin', 'WEBSEED_IP_FILTERED'],
    ['/loop/z.bin', 'WEBSEED_BAD_REDIRECT'],
  ] as const) {
    const torrent = await client.addTorrent(await make(`${fx.nginx.origin}${path}`), {
      savePath: join(fx.dir, path.split('/')[1]!),
    });
    const errs = errors(torrent);
    await until(() => errs.some((e) => e.dropped), 10_000, `${path} dropped`);
    assert.equal(errs[0]!.code, code, JSON.stringify(errs));
    assert.equal(torrent.stats().pieces.have, 0);
    await client.removeTorrent(torrent);
  }
});

test('mixed with a real libtorrent seed: both supply pieces', async (t) => {
  if (!requirePeer(t, 'nginx') || !requirePeer(t, 'libtorrent')) return;
  const defer = cleanupStack(t);
  // A slow mirror (1 MB/s per connection), so neither source can finish alone quickly.
  const fx = await fixture(t, defer, 'location /files/ { limit_rate 1m; }');
  const data = await singleFile(fx, 'm.bin', 8 * 1024 * 1024, 17);
  const { torrent: bytes } = await createTorrent(join(fx.root, 'files', 'm.bin'), {
    pieceLength: 256 * 1024,
    webSeeds: [`${fx.nginx.origin}/files/m.bin`],
  });
  const torrentPath = join(fx.dir, 'm.torrent');
  await writeFile(torrentPath, bytes);
  const seed = new LtPeer('seed', torrentPath, join(fx.root, 'files'), {
    uploadLimit: 2_000_000,
    enc: 'disabled',
  });
  defer(() => seed.kill());
  const port = await seed.port();
  const client = webSeedClient(defer, { webSeeds: { maxInFlight: 2 } });
  const torrent = await client.addTorrent(bytes, { savePath: join(fx.dir, 'dl') });
  torrent.addPeer('127.0.0.1', port);
  await done(torrent, 40_000);
  assert.ok((await readFile(join(fx.dir, 'dl', 'm.bin'))).equals(data));
  const st = torrent.stats();
  const fromSeed = st.webSeeds[0]!.downloaded;
  t.diagnostic(`web seed ${fromSeed} bytes, peers ${st.sessionDownloaded - fromSeed} bytes`);
  assert.ok(fromSeed > 0, 'the web seed supplied pieces');
  assert.ok(st.sessionDownloaded - fromSeed > 0, 'the peer supplied pieces');
  assert.equal(st.hashFailures, 0);
});

test('a magnet link ws= web seed is used once the torrent is known (saved metadata)', async (t) => {
  if (!requirePeer(t, 'nginx')) return;
  const defer = cleanupStack(t);
  const fx = await fixture(t, defer);
  const data = await singleFile(fx, 'w.bin', 1_300_000, 23);
  // No url-list in the torrent: the web seed comes from the magnet alone.
  const { torrent: bytes, metainfo } = await createTorrent(join(fx.root, 'files', 'w.bin'), {
    pieceLength: 64 * 1024,
  });
  const resumeDir = join(fx.dir, 'resume');
  await mkdir(resumeDir);
  await writeFile(join(resumeDir, `${metainfo.infoHashHex}.torrent`), bytes);
  const ws = `${fx.nginx.origin}/files/`;
  const client = webSeedClient(defer, { resumeDir });
  const torrent = await client.addTorrent(
    `magnet:?xt=urn:btih:${metainfo.infoHashHex}&ws=${encodeURIComponent(ws)}`,
    {
      savePath: join(fx.dir, 'dl'),
    },
  );
  assert.deepEqual(
    torrent.webSeeds.map((w) => w.url),
    [ws],
  );
  await done(torrent, 20_000);
  assert.ok((await readFile(join(fx.dir, 'dl', 'w.bin'))).equals(data));
});

test('nbt create -w writes the web seed and nbt download completes from it alone', async (t) => {
  if (!requirePeer(t, 'nginx')) return;
  const defer = cleanupStack(t);
  const fx = await fixture(t, defer);
  const data = await singleFile(fx, 'cli.bin', 2_000_000, 29);
  const torrentPath = join(fx.dir, 'cli.torrent');
  const create = new NbtChild([
    'create',
    join(fx.root, 'files', 'cli.bin'),
    '-o',
    torrentPath,
    '-w',
    `${fx.nginx.origin}/files/cli.bin`,
  ]);
  assert.equal(await create.exit, 0, create.tail());
  const out = join(fx.dir, 'out');
  const dl = new NbtChild(['download', torrentPath, '-o', out, '--port', '0', '--no-dht', '--json']);
  defer(() => dl.kill());
  assert.equal(await dl.exit, 0, dl.tail());
  assert.ok((await readFile(join(out, 'cli.bin'))).equals(data));
  const summary = dl.lines.find((l) => l.event === 'summary');
  assert.equal(summary?.['status'], 'complete', dl.tail());
});

test("the session's download limit applies to web seed traffic", async (t) => {
  if (!requirePeer(t, 'nginx')) return;
  const defer = cleanupStack(t);
  const fx = await fixture(t, defer);
  const data = await singleFile(fx, 'slow.bin', 1_500_000, 31);
  const { torrent: bytes } = await createTorrent(join(fx.root, 'files', 'slow.bin'), {
    pieceLength: 64 * 1024,
    webSeeds: [`${fx.nginx.origin}/files/slow.bin`],
  });
  const client = webSeedClient(defer, { downloadRateLimit: 500_000 });
  const torrent = await client.addTorrent(bytes, { savePath: join(fx.dir, 'dl') });
  const t0 = Date.now();
  await done(torrent, 20_000);
  const secs = (Date.now() - t0) / 1000;
  t.diagnostic(`1.5 MB at a 500 kB/s limit: ${secs.toFixed(2)} s`);
  // 1.5 MB less a second's burst at 500 kB/s is 2 s; bytes are counted as they are read, so the
  // last chunks of the 4 connections (up to ~0.5 s of budget) need not wait. Unlimited: ~0.1 s.
  assert.ok(secs >= 1.3, `${secs} s is faster than the limit allows`);
  assert.ok((await readFile(join(fx.dir, 'dl', 'slow.bin'))).equals(data));
});

test('a slow mirror (limit_rate) completes without requests timing out and being fetched twice', async (t) => {
  if (!requirePeer(t, 'nginx')) return;
  const defer = cleanupStack(t);
  // 4 connections × 200 kB/s: the pipeline must stay within what the seed delivers before the
  // Downloader's 20 s request timeout, or blocks are cancelled and fetched again (wasted).
  const fx = await fixture(t, defer, 'location /files/ { limit_rate 200k; }');
  const data = await singleFile(fx, 'slow.bin', 6 * 1024 * 1024, 37);
  const { torrent: bytes } = await createTorrent(join(fx.root, 'files', 'slow.bin'), {
    pieceLength: 256 * 1024,
    webSeeds: [`${fx.nginx.origin}/files/slow.bin`],
  });
  const client = webSeedClient(defer);
  const torrent = await client.addTorrent(bytes, { savePath: join(fx.dir, 'dl') });
  const errs = errors(torrent);
  await done(torrent, 40_000);
  assert.ok((await readFile(join(fx.dir, 'dl', 'slow.bin'))).equals(data));
  const st = torrent.stats();
  t.diagnostic(`wasted ${st.wasted} bytes, web seed ${st.webSeeds[0]!.downloaded} bytes`);
  assert.equal(st.wasted, 0);
  assert.deepEqual(errs, []);
});
