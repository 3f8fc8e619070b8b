/**
 * Proxies against real SOCKS5 servers from Debian: microsocks (username/password auth) carries
 * our TCP peer connection to a libtorrent seed; Dante carries a proxy-only session whole: the
 * HTTP (TCP case) or UDP (uTP case) tracker announces to opentracker, the peer connection (TCP, or uTP through the
 * UDP association) and DHT queries. Dante's log names every connection and association it
 * relayed, and a proxy-only client listens on nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Client } from '../../src/client/index.js';
import { createTorrent } from '../../src/metainfo/index.js';
import { DhtNode } from '../../src/dht/index.js';
import { ProxyConnector } from '../../src/proxy/index.js';
import { systemClock } from '../../src/util/clock.js';
import type { Torrent } from '../../src/torrent/torrent.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { OpenTracker } from '../helpers/opentracker.js';
import { Dante, Microsocks, Tinyproxy } from '../helpers/socks-servers.js';
import { freePort, tempDir } from '../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../unit/client/fixtures.js';

const files = [
  { path: 'a.bin', size: 2_500_000 },
  { path: 'sub/b.bin', size: 300_007 },
];

function done(t: Torrent, ms: number): Promise<void> {
  if (t.state === 'seeding') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not done in ${ms} ms: ${JSON.stringify(t.stats())}`)),
      ms,
    );
    t.on('state', (s) => {
      if (s !== 'seeding') return;
      clearTimeout(timer);
      resolve();
    });
  });
}

test('download from libtorrent through microsocks with username/password auth', async (t) => {
  if (!requirePeer(t, 'libtorrent') || !requirePeer(t, 'microsocks')) return;
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files });
  const seed = new LtPeer('seed', fx.torrentPath, fx.dir, { enc: 'enabled' });
  const proxy = new Microsocks('127.0.0.1', await freePort(), { username: 'nbt', password: 's3cret' });
  const client = new Client({
    host: '127.0.0.1',
    dht: false,
    lsd: false,
    utp: false,
    proxy: `socks5://nbt:s3cret@127.0.0.1:${proxy.port}`,
  });
  try {
    await proxy.ready();
    const port = await seed.port();
    await client.listen(0);
    const torrent = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    const seen: string[] = [];
    client.on('peer-connect', (_t, p) => seen.push(p.transport));
    torrent.addPeer('127.0.0.1', port);
    await done(torrent, 60_000);
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    assert.deepEqual(seen, ['socks5']);

    // The wrong password: the proxy refuses, and the error says so.
    const bad = new ProxyConnector(
      { type: 'socks5', host: '127.0.0.1', port: proxy.port, username: 'nbt', password: 'wrong' },
      { clock: systemClock, timeoutMs: 5_000 },
    ).connect('127.0.0.1', port);
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => bad.on('error', resolve));
    assert.equal((err as { code?: string }).code, 'PROXY_AUTH_FAILED');
  } finally {
    await client.close();
    await seed.kill();
    await proxy.kill();
    await tmp.cleanup();
  }
});

for (const transport of ['tcp', 'utp'] as const) {
  test(`proxy-only through Dante: trackers, ${transport} peer and DHT all go through the proxy`, async (t) => {
    if (!requirePeer(t, 'libtorrent') || !requirePeer(t, 'dante') || !requirePeer(t, 'opentracker')) return;
    const tmp = await tempDir();
    const fx0 = await makeFixture(join(tmp.path, 'seed'), { files });
    const trackerPort = await freePort();
    const { torrent: bytes, metainfo } = await createTorrent(join(fx0.dir, fx0.name), {
      pieceLength: 64 * 1024,
      date: false,
      // The TCP case announces over HTTP, the uTP case over UDP (through the association).
      trackers: [[`${transport === 'tcp' ? 'http' : 'udp'}://127.0.0.1:${trackerPort}/announce`]],
    });
    await writeFile(fx0.torrentPath, bytes);
    const fx = { ...fx0, torrent: bytes, metainfo };
    const tracker = new OpenTracker(trackerPort, [metainfo.infoHashHex]);
    const dante = new Dante('127.0.0.1', await freePort());
    const seed = new LtPeer('seed', fx.torrentPath, fx.dir, {
      enc: 'enabled',
      ...(transport === 'utp' ? { utpOnly: true } : {}),
    });
    const router = new DhtNode({ host: '127.0.0.1', port: 0, bootstrap: [] });
    const dhtSources: { host: string; port: number }[] = [];
    router.on('node', (n: { host: string; port: number }) => dhtSources.push(n));
    let client: Client | undefined;
    try {
      await Promise.all([tracker.ready(), dante.ready()]);
      const routerAddr = await router.listen();
      await seed.port();
      await tracker.waitForSeeders(metainfo.infoHashHex, 1, 15_000);
      client = new Client({
        host: '127.0.0.1',
        lsd: false,
        dht: { bootstrap: [routerAddr] },
        ...(transport === 'utp' ? { tcp: { outgoing: false } } : { utp: false }),
        proxy: `socks5://127.0.0.1:${dante.port}`,
        proxyOnly: true,
      });
      const warnings: string[] = [];
      client.on('warning', (e) => warnings.push(String((e as { code?: string }).code ?? e)));
      const seen: string[] = [];
      client.on('peer-connect', (_t, p) => seen.push(p.transport));
      assert.equal(await client.listen(0), 0, 'proxy-only listens on no TCP port');
      const torrent = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
      await done(torrent, 90_000);
      assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
      assert.ok(
        seen.length >= 1 && seen.every((k) => k === (transport === 'utp' ? 'utp' : 'socks5')),
        seen.join(),
      );
      // The HTTP announce and the peer (TCP case) and the UDP association are in Dante's log.
      await until(() => dhtSources.length > 0, 20_000, 'a DHT query reaching the router');
      const log = dante.log;
      if (transport === 'tcp')
        assert.match(
          log,
          new RegExp(`tcp/connect .*127\\.0\\.0\\.1\\.${trackerPort}\\b`),
          'HTTP tracker via dante',
        );
      assert.match(log, /udp\/udpassociate/, 'a UDP association');
      if (transport === 'tcp')
        assert.match(log, new RegExp(`tcp/connect .*127\\.0\\.0\\.1\\.${await seed.port()}\\b`));
      // The DHT router saw us from Dante's relay, never from our own UDP port.
      const ours = client.udp.port;
      assert.ok(
        dhtSources.every((s) => s.port !== ours),
        JSON.stringify({ dhtSources, ours }),
      );
      if (transport === 'utp')
        assert.ok(
          (client.udp.stats?.tracker ?? 0) >= 1,
          `a UDP tracker reply came through: ${JSON.stringify(client.udp.stats)}`,
        );
      assert.ok(!warnings.includes('PROXY_NO_UDP'), warnings.join());
    } finally {
      await client?.close();
      await router.close();
      await seed.kill();
      await dante.kill();
      await tracker.kill();
      await tmp.cleanup();
    }
  });
}

test('HTTP CONNECT through tinyproxy with Basic auth: the HTTP announce and the peer connection', async (t) => {
  if (!requirePeer(t, 'libtorrent') || !requirePeer(t, 'tinyproxy') || !requirePeer(t, 'opentracker')) return;
  const tmp = await tempDir();
  const fx0 = await makeFixture(join(tmp.path, 'seed'), { files });
  const trackerPort = await freePort();
  const { torrent: bytes, metainfo } = await createTorrent(join(fx0.dir, fx0.name), {
    pieceLength: 64 * 1024,
    date: false,
    trackers: [[`http://127.0.0.1:${trackerPort}/announce`]],
  });
  await writeFile(fx0.torrentPath, bytes);
  const fx = { ...fx0, torrent: bytes, metainfo };
  const tracker = new OpenTracker(trackerPort, [metainfo.infoHashHex]);
  const proxy = new Tinyproxy('127.0.0.1', await freePort(), { username: 'nbt', password: 'pw' });
  const seed = new LtPeer('seed', fx.torrentPath, fx.dir, { enc: 'enabled' });
  let client: Client | undefined;
  try {
    await Promise.all([tracker.ready(), proxy.ready(), seed.port()]);
    await tracker.waitForSeeders(metainfo.infoHashHex, 1, 15_000);
    client = new Client({
      host: '127.0.0.1',
      lsd: false,
      utp: false,
      proxy: `http://nbt:pw@127.0.0.1:${proxy.port}`,
      proxyOnly: true,
    });
    const warnings: string[] = [];
    client.on('warning', (e) => warnings.push(String((e as { code?: string }).code ?? e)));
    const seen: string[] = [];
    client.on('peer-connect', (_t, p) => seen.push(p.transport));
    await client.listen(0);
    const torrent = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    await done(torrent, 60_000);
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    assert.ok(seen.length >= 1 && seen.every((k) => k === 'http-proxy'), seen.join());
    // An HTTP proxy carries no UDP: in proxy-only mode the DHT is off, and says why.
    assert.ok(warnings.includes('PROXY_NO_UDP'), warnings.join());
    assert.equal(client.dht, undefined);
    assert.match(proxy.log, new RegExp(`CONNECT.*127\\.0\\.0\\.1:${trackerPort}`));
    assert.match(proxy.log, new RegExp(`CONNECT.*127\\.0\\.0\\.1:${await seed.port()}`));

    // The wrong password is a 407: PROXY_AUTH_FAILED.
    const bad = new ProxyConnector(
      { type: 'http', host: '127.0.0.1', port: proxy.port, username: 'nbt', password: 'nope' },
      { clock: systemClock, timeoutMs: 5_000 },
    ).connect('127.0.0.1', await seed.port());
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => bad.on('error', resolve));
    assert.equal((err as { code?: string }).code, 'PROXY_AUTH_FAILED');
  } finally {
    await client?.close();
    await seed.kill();
    await proxy.kill();
    await tracker.kill();
    await tmp.cleanup();
  }
});
