/**
 * Swarms that meet only through OUR TrackerServer (embedded here): our seed, two of our leechers
 * and an aria2 leech, over HTTP and over UDP. Checks the files, tracker-sourced peers, the
 * server's downloaded count (one `completed` per leecher, none from the seed) and `stopped`.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TrackerServer } from '../../src/tracker/index.js';
import { Aria2Peer } from '../helpers/aria2.js';
import { requirePeer } from '../helpers/real-peers.js';
import { makeTorrent } from '../helpers/mktorrent.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { freePort, tempDir } from '../helpers/tmp.js';
import { done, sameFile, trackedClient, until } from './tracker-swarm.js';

async function swarm(t: TestContext, kind: 'http' | 'udp'): Promise<void> {
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-trk-server-');
  defer(() => tmp.cleanup());
  const server = new TrackerServer({ host: '127.0.0.1', http: { port: 0 }, udp: { port: 0 }, intervalS: 60 });
  await server.listen();
  defer(() => server.close());
  const url = server.announceUrls('127.0.0.1')[kind]!;
  const made = await makeTorrent(tmp.path, {
    announce: url,
    size: 2 << 20,
    pieceLog2: 16,
    seed: kind === 'http' ? 5 : 6,
  });
  const hash = made.metainfo.infoHash;
  const downloaded = (): number => server.store.scrape([hash])[0]?.downloaded ?? 0;

  const seed = await trackedClient(defer, made.torrentPath, made.dataDir);
  await until(() => seed.announces.some((a) => a.event === 'started'), 10_000, 'the seed to announce');
  const leeches = await Promise.all(
    [1, 2].map((i) => trackedClient(defer, made.torrentPath, join(tmp.path, `leech${i}`))),
  );
  // aria2 sends UDP tracker requests through its DHT socket, so UDP needs DHT on (no bootstrap).
  const extraArgs = kind === 'udp' ? ['--enable-dht=true', `--dht-listen-port=${await freePort()}`] : [];
  const aria = await Aria2Peer.leech(made.torrentPath, join(tmp.path, 'aria2'), { extraArgs });
  defer(() => aria.kill());

  await Promise.all([...leeches.map((l) => done(l.torrent, 20_000)), aria.waitDone(20_000)]);
  for (const dir of ['leech1', 'leech2', 'aria2'])
    assert.ok(
      await sameFile(join(made.dataDir, made.name), join(tmp.path, dir, made.name)),
      `${dir} differs`,
    );
  for (const l of leeches) {
    const dialed = l.peerSources.filter((s) => !s.startsWith('incoming'));
    assert.ok(dialed.length > 0, 'a leecher dialed nobody');
    for (const s of dialed) assert.equal(s, `tracker ${url}`);
    await until(() => l.announces.some((a) => a.event === 'completed'), 10_000, 'completed announce');
    assert.equal(l.announces.filter((a) => a.event === 'completed').length, 1);
  }
  assert.equal(seed.announces.filter((a) => a.event === 'completed').length, 0, 'the seed sent completed');
  // Our two leechers and aria2 (which counts once it reports left = 0).
  await until(() => downloaded() >= 3, 10_000, 'the server to count three downloads');
  assert.equal(downloaded(), 3);
  const scraped = await seed.torrent.scrape();
  assert.equal(scraped[0]?.result?.downloaded, 3);

  const before = server.store.peersOf(made.infoHashHex).length;
  const t0 = Date.now();
  await Promise.all([seed, ...leeches].map((c) => c.client.close()));
  const closeMs = Date.now() - t0;
  assert.ok(closeMs < 3_000, `close took ${closeMs} ms`);
  // `stopped` removed our three peers from the swarm.
  assert.equal(server.store.peersOf(made.infoHashHex).length, before - 3);
  t.diagnostic(`${kind}: server downloaded=${downloaded()}, close ${closeMs} ms`);
}

test('our tracker server over HTTP: our seed, our leechers and aria2 meet through it', async (t) => {
  if (!requirePeer(t, 'aria2') || !requirePeer(t, 'mktorrent')) return;
  await swarm(t, 'http');
});

test('our tracker server over UDP: our seed, our leechers and aria2 meet through it', async (t) => {
  if (!requirePeer(t, 'aria2') || !requirePeer(t, 'mktorrent')) return;
  await swarm(t, 'udp');
});
