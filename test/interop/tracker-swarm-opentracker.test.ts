/**
 * Swarms that meet only through opentracker (no addPeer): our seed, two of our leechers and a
 * libtorrent leech, once with an HTTP and once with a UDP announce URL. Checks the files, that
 * peers came from the tracker, `completed` sent once per finished leecher (the tracker's
 * downloaded count), none from the seed, and `stopped` on close.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OpenTracker } from '../helpers/opentracker.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { makeTorrent } from '../helpers/mktorrent.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { freePort, tempDir } from '../helpers/tmp.js';
import { done, sameFile, trackedClient, until, waitAuthorised } from './tracker-swarm.js';

async function swarm(t: TestContext, kind: 'http' | 'udp'): Promise<void> {
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-trk-swarm-');
  defer(() => tmp.cleanup());
  const port = await freePort();
  const url = kind === 'http' ? `http://127.0.0.1:${port}/announce` : `udp://127.0.0.1:${port}/announce`;
  const made = await makeTorrent(tmp.path, {
    announce: url,
    size: 2 << 20,
    pieceLog2: 16,
    seed: kind === 'http' ? 3 : 4,
  });
  const ot = new OpenTracker(port, [made.infoHashHex]);
  defer(() => ot.kill());
  await ot.ready();
  await waitAuthorised(ot.announceUrl, made.metainfo.infoHash);

  const seed = await trackedClient(defer, made.torrentPath, made.dataDir);
  await until(() => seed.announces.some((a) => a.event === 'started'), 10_000, 'the seed to announce');
  assert.equal(seed.torrent.state, 'seeding');

  const leeches = await Promise.all(
    [1, 2].map((i) => trackedClient(defer, made.torrentPath, join(tmp.path, `leech${i}`))),
  );
  const lt = new LtPeer('leech', made.torrentPath, join(tmp.path, 'lt'), { timeout: 25 });
  defer(() => lt.kill());

  await Promise.all([...leeches.map((l) => done(l.torrent, 20_000)), lt.waitFor('done', 20_000)]);
  for (const dir of ['leech1', 'leech2', 'lt'])
    assert.ok(
      await sameFile(join(made.dataDir, made.name), join(tmp.path, dir, made.name)),
      `${dir} differs`,
    );

  // Every outgoing connection of our leechers came from the tracker (nothing else was given).
  for (const l of leeches) {
    const dialed = l.peerSources.filter((s) => !s.startsWith('incoming'));
    assert.ok(dialed.length > 0, 'a leecher dialed nobody');
    for (const s of dialed) assert.equal(s, `tracker ${url}`);
    await until(() => l.announces.some((a) => a.event === 'completed'), 10_000, 'completed announce');
    assert.equal(l.announces.filter((a) => a.event === 'completed').length, 1);
    const started = l.announces.find((a) => a.event === 'started')!;
    assert.ok(started.peers >= 1, 'the tracker gave the leecher peers');
  }
  assert.equal(seed.announces.filter((a) => a.event === 'completed').length, 0, 'the seed sent completed');
  assert.deepEqual(seed.errors, []);

  // The tracker's downloaded count: our two leechers once each, libtorrent at most once.
  let downloaded = 0;
  await until(
    async () => {
      const r = await seed.torrent.scrape();
      downloaded = r[0]?.result?.downloaded ?? -1;
      return downloaded >= 2;
    },
    10_000,
    'the tracker to count our completed announces',
  );
  assert.ok(downloaded === 2 || downloaded === 3, `downloaded = ${downloaded}`);
  const status = seed.torrent.trackers;
  assert.equal(status.length, 1);
  assert.equal(status[0]!.url, url);
  assert.ok(status[0]!.lastAnnounce !== undefined && status[0]!.failures === 0);

  // close() announces stopped (bounded) and the tracker forgets us.
  const t0 = Date.now();
  await Promise.all([seed, ...leeches].map((c) => c.client.close()));
  const closeMs = Date.now() - t0;
  assert.ok(closeMs < 3_000, `close took ${closeMs} ms`);
  for (const c of [seed, ...leeches])
    assert.ok(
      c.announces.some((a) => a.event === 'stopped'),
      'no stopped',
    );
  t.diagnostic(
    `${kind}: tracker downloaded=${downloaded}, close ${closeMs} ms, leech1 peers: ${leeches[0]!.peerSources.join(', ')}`,
  );
}

test('opentracker over HTTP: our seed, our leechers and libtorrent find each other through the tracker', async (t) => {
  if (!requirePeer(t, 'libtorrent') || !requirePeer(t, 'opentracker') || !requirePeer(t, 'mktorrent')) return;
  await swarm(t, 'http');
});

test('opentracker over UDP: our seed, our leechers and libtorrent find each other through the tracker', async (t) => {
  if (!requirePeer(t, 'libtorrent') || !requirePeer(t, 'opentracker') || !requirePeer(t, 'mktorrent')) return;
  await swarm(t, 'udp');
});
