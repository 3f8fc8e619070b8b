/**
 * Trackers that fail, answer garbage, redirect forever or never answer, wired into real
 * torrents: the download goes on from other sources (a later tier, or a libtorrent seed given
 * with addPeer), every failure is a 'tracker-error' event with a clear reason, and close() is
 * prompt even when a tracker that answered `started` never answers `stopped`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { createSocket } from 'node:dgram';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '../../src/bencode/index.js';
import { createTorrent } from '../../src/metainfo/index.js';
import { TrackerServer } from '../../src/tracker/index.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { cleanupStack, type Defer } from '../helpers/cleanup.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';
import { done, sameFile, trackedClient, until } from './tracker-swarm.js';

/** HTTP trackers that misbehave by path, and a UDP "tracker" that never answers. */
async function hostileTrackers(
  defer: Defer,
): Promise<{ http: string; udp: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    switch (path) {
      case '/failure/announce':
        res.end(encode({ 'failure reason': 'torrent not registered' }));
        return;
      case '/garbage/announce':
        res.end('<html>502 Bad Gateway</html>');
        return;
      case '/loop/announce':
        res.writeHead(302, { location: '/loop/announce?again=1' }).end();
        return;
      case '/once/announce':
        // Answers `started` only: later announces (the `stopped` at close) get no answer
        if (/[?&]event=started(&|$)/.test(req.url ?? ''))
          res.end(encode({ interval: 1800, peers: Buffer.alloc(0) }));
        return;
      default:
        return; // silent
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  defer(() => new Promise<void>((r) => udp.close(() => r())));
  const { port } = server.address() as { port: number };
  return { http: `http://127.0.0.1:${port}`, udp: `udp://127.0.0.1:${udp.address().port}/announce`, hits };
}

/** A 1 MiB single-file torrent announcing to `tiers`; returns its bytes and data directory. */
async function torrentWith(
  dir: string,
  tiers: string[][],
): Promise<{ torrent: Buffer; dataDir: string; file: string }> {
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'payload.bin');
  await writeFile(file, seededBytes(1 << 20, 11));
  const { torrent } = await createTorrent(file, { trackers: tiers, pieceLength: 1 << 16, date: false });
  return { torrent, dataDir, file: 'payload.bin' };
}

test('failing, garbage and looping trackers are reported and skipped; a later tier still connects the swarm', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-trk-hostile-');
  defer(() => tmp.cleanup());
  const bad = await hostileTrackers(defer);
  const good = new TrackerServer({ host: '127.0.0.1', http: { port: 0 }, intervalS: 60 });
  await good.listen();
  defer(() => good.close());
  const goodUrl = good.announceUrls('127.0.0.1').http!;
  const failure = `${bad.http}/failure/announce`;
  const garbage = `${bad.http}/garbage/announce`;
  const loop = `${bad.http}/loop/announce`;
  const { torrent, dataDir, file } = await torrentWith(tmp.path, [[failure], [garbage], [loop], [goodUrl]]);
  const torrentPath = join(tmp.path, 'hostile.torrent');
  await writeFile(torrentPath, torrent);

  // Our seed and a libtorrent seed announce through the hostile tiers to the good one.
  const seed = await trackedClient(defer, torrent, dataDir);
  const lt = new LtPeer('seed', torrentPath, dataDir);
  defer(() => lt.kill());
  await until(() => seed.announces.some((a) => a.url === goodUrl), 10_000, 'the seed to reach the good tier');
  await until(
    () => good.store.peersOf(seed.torrent.infoHashHex).length >= 2,
    15_000,
    'both seeds on the tracker',
  );

  const leech = await trackedClient(defer, torrent, join(tmp.path, 'leech'));
  await done(leech.torrent, 20_000);
  assert.ok(await sameFile(join(dataDir, file), join(tmp.path, 'leech', file)));
  const dialed = leech.peerSources.filter((s) => !s.startsWith('incoming'));
  assert.ok(dialed.length >= 1, 'the leech dialed nobody');
  for (const s of dialed) assert.equal(s, `tracker ${goodUrl}`);

  // Each bad tracker was reported once per round with a reason that says what went wrong.
  const byUrl = new Map(leech.errors.map((e) => [e.url, e]));
  assert.equal(byUrl.get(failure)?.code, 'TRACKER_FAILURE');
  assert.match(byUrl.get(failure)!.message, /torrent not registered/);
  assert.match(byUrl.get(garbage)!.code, /^(BENCODE_|TRACKER_BAD_RESPONSE)/);
  assert.equal(byUrl.get(loop)?.code, 'TRACKER_REDIRECTS');
  assert.equal(leech.errors.filter((e) => e.url === goodUrl).length, 0, 'the good tracker reported an error');
  const status = new Map(leech.torrent.trackers.map((s) => [s.url, s]));
  assert.equal(status.size, 4);
  for (const u of [failure, garbage, loop]) {
    assert.ok(status.get(u)!.failures >= 1);
    assert.ok(status.get(u)!.lastError);
  }
  assert.equal(status.get(goodUrl)!.failures, 0);
  assert.ok(status.get(goodUrl)!.lastAnnounce !== undefined);

  const t0 = Date.now();
  await Promise.all([seed.client.close(), leech.client.close()]);
  assert.ok(Date.now() - t0 < 3_000, `close took ${Date.now() - t0} ms`);
});

test('silent trackers (HTTP and UDP) never stall the download or close(); a stopped that gets no answer is cut off', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-trk-silent-');
  defer(() => tmp.cleanup());
  const bad = await hostileTrackers(defer);
  const silent = `${bad.http}/silent/announce`;
  const once = `${bad.http}/once/announce`;
  const { torrent, dataDir, file } = await torrentWith(tmp.path, [[silent], [bad.udp], [once]]);
  const torrentPath = join(tmp.path, 'silent.torrent');
  await writeFile(torrentPath, torrent);
  const lt = new LtPeer('seed', torrentPath, dataDir);
  defer(() => lt.kill());
  const ltPort = await lt.port();

  const leech = await trackedClient(defer, torrent, join(tmp.path, 'leech'), {
    trackers: { requestTimeoutMs: 1_000, stopTimeoutMs: 1_000 },
  });
  leech.torrent.addPeer('127.0.0.1', ltPort);
  await done(leech.torrent, 20_000);
  assert.ok(await sameFile(join(dataDir, file), join(tmp.path, 'leech', file)));

  // Both silent trackers time out (reported), then the third tier answers `started`.
  await until(() => leech.announces.some((a) => a.url === once), 10_000, 'the third tier to answer');
  const timeouts = leech.errors.filter((e) => e.code === 'TRACKER_TIMEOUT').map((e) => e.url);
  assert.ok(timeouts.includes(silent), 'silent HTTP tracker not reported');
  assert.ok(timeouts.includes(bad.udp), 'silent UDP tracker not reported');

  // close(): `stopped` goes to the tracker that answered, which never answers again: the wait
  // is cut at stopTimeoutMs (1 s), and the silent trackers are not asked at all.
  const before = bad.hits.get('/once/announce') ?? 0;
  const t0 = Date.now();
  await leech.client.close();
  const closeMs = Date.now() - t0;
  assert.ok(closeMs >= 900 && closeMs < 2_500, `close took ${closeMs} ms`);
  assert.equal(bad.hits.get('/once/announce'), before + 1, 'stopped was sent to the answering tracker');
  t.diagnostic(`close with a silent stopped: ${closeMs} ms`);
});
