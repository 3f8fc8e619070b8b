/**
 * Local service discovery through the Client, over real multicast sockets on the loopback
 * interface (named explicitly: lo is left out by default) and a port of the test's own, so
 * nothing reaches the LAN or other clients. Two clients that know nothing of each other find
 * each other by LSD alone and one downloads from the other; private torrents stay silent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { Alert } from '../../../src/client/alerts.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { decodeAnnounce, LSD_GROUP_V4 } from '../../../src/lsd/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { freePort, tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

function lsdClient(port: number, extra: ConstructorParameters<typeof Client>[0] = {}): Client {
  return new Client({
    host: '127.0.0.1',
    limits: { maxPerHost: 4 },
    trackers: false,
    dht: false,
    pex: false,
    lsd: { interfaces: ['127.0.0.1'], port, ipv6: false },
    ...extra,
  });
}

test('two clients find each other by LSD alone; the leech completes from the seed', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files: [{ path: 'a.bin', size: 600_000 }] });
  const port = await freePort();
  const seedClient = lsdClient(port);
  const leechClient = lsdClient(port);
  const alerts: Alert[] = [];
  seedClient.on('alert', (a) => void (a.type === 'lsd-peer' && alerts.push(a)));
  const joined: string[] = [];
  seedClient.on('peer-connect', (_t, p) => joined.push(`${p.source.kind} ${p.incoming ? 'in' : 'out'}`));
  try {
    const seedPort = await seedClient.listen(0);
    const leechPort = await leechClient.listen(0);
    await Promise.all([seedClient.lsd!.ready, leechClient.lsd!.ready]);
    assert.deepEqual(seedClient.lsd!.announcer.listenPort, seedPort, 'announcing our listen port');
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed checked');
    const found: string[] = [];
    seedClient.on('lsd-peer', (t, p) => found.push(`${t.infoHashHex} ${p.host}:${p.port}`));
    const leech = await leechClient.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    const sources: string[] = [];
    seed.on('peers', (_a, source) => sources.push(source.kind));
    await until(() => leech.state === 'seeding', 15_000, 'leech complete');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    // The seed announced when the leech did not have the torrent yet; the leech announced on
    // start, the seed heard it and dialled the leech: a candidate with source 'lsd'.
    assert.ok(found.includes(`${fx.metainfo.infoHashHex} 127.0.0.1:${leechPort}`), found.join(', '));
    assert.deepEqual(sources, ['lsd']);
    assert.ok(joined.includes('lsd out'), `seed's connections: ${joined.join(', ')}`);
    assert.ok(
      alerts.some((a) => a.peer === `127.0.0.1:${leechPort}` && a.infoHash === fx.metainfo.infoHashHex),
    );
    assert.ok(
      leechClient.lsd!.announcer.stats.notOurs >= 1,
      'the leech heard the seed before it had the torrent',
    );
    // Multicast loops back: each heard its own announce and dropped it by cookie.
    await until(() => seedClient.lsd!.announcer.stats.own >= 1, 3000, 'own announce looped back');
    assert.equal(seedClient.lsd!.announcer.stats.malformed, 0);
  } finally {
    await Promise.all([seedClient.close(), leechClient.close()]);
    await tmp.cleanup();
  }
});

test('a private torrent is never announced; a public one is, and lsd: false stays silent', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'pub'), { files: [{ path: 'p.bin', size: 10_000 }] });
  const priv = await createTorrent(join(fx.dir, fx.name), { pieceLength: 16384, date: false, private: true });
  const port = await freePort();
  const heard: string[] = [];
  const sniffer = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => sniffer.bind(port, '0.0.0.0', () => r()));
  sniffer.addMembership(LSD_GROUP_V4, '127.0.0.1');
  sniffer.on('message', (m) => heard.push(...decodeAnnounce(m).infoHashes.map((h) => h.toString('hex'))));
  const c = lsdClient(port);
  const off = lsdClient(port, { lsd: false });
  try {
    await c.listen(0);
    await off.listen(0);
    assert.equal(off.lsd, undefined);
    await c.lsd!.ready;
    const p = await c.addTorrent(priv.torrent, { savePath: fx.dir, skipCheck: true });
    await off.addTorrent(fx.torrent, { savePath: fx.dir, skipCheck: true });
    const q = await c.addTorrent(fx.torrent, { savePath: fx.dir, skipCheck: true });
    await until(() => heard.includes(q.infoHashHex), 3000, 'public torrent announced');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(heard, [q.infoHashHex], 'only the public torrent, once, and nothing from lsd: false');
    assert.notEqual(p.infoHashHex, q.infoHashHex);
    // A private torrent takes no LSD peers either (BEP 27).
    p.addPeers([{ host: '127.0.0.9', port: 1 }], { kind: 'lsd' });
    assert.equal(p.candidates.size, 0);
  } finally {
    sniffer.close();
    await Promise.all([c.close(), off.close()]);
    await tmp.cleanup();
  }
});

test('enable_lsd is on by default, off with a custom network unless asked for', () => {
  const a = new Client({ host: '127.0.0.1', dht: false });
  assert.equal(a.settings().enable_lsd, true);
  assert.ok(a.lsd);
  const b = new Client({ host: '127.0.0.1', dht: false, settings: { enable_lsd: false } });
  assert.equal(b.lsd, undefined);
  void a.close();
  void b.close();
});

test('the service re-announces on the Client clock: every lsd_announce_interval, not sooner', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'pub'), { files: [{ path: 'p.bin', size: 10_000 }] });
  const port = await freePort();
  const heard: number[] = [];
  const sniffer = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => sniffer.bind(port, '0.0.0.0', () => r()));
  sniffer.addMembership(LSD_GROUP_V4, '127.0.0.1');
  const clock = new FakeClock(5_000_000);
  sniffer.on('message', () => heard.push(clock.now()));
  const c = lsdClient(port, {
    clock,
    lsd: { interfaces: ['127.0.0.1'], port, ipv6: false, intervalMs: 120_000 },
  });
  try {
    await c.listen(0);
    await c.lsd!.ready;
    await c.addTorrent(fx.torrent, { savePath: fx.dir, skipCheck: true });
    await until(() => heard.length === 1, 3000, 'announce on start');
    clock.advance(119_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(heard.length, 1, 'not before the interval');
    clock.advance(1_000);
    await until(() => heard.length === 2, 3000, 'announce after the interval');
    assert.deepEqual(heard, [5_000_000, 5_120_000]);
  } finally {
    sniffer.close();
    await c.close();
    await tmp.cleanup();
  }
});
