/**
 * A peer that stalls mid-piece: it claims every piece, unchokes, answers the first block of
 * each piece it is asked for and then never the rest. The leech must notice (request timeout,
 * snubbing) and take those blocks from the honest seed instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakePeer, LISTEN_PORT, SimSwarm, mbit } from '../../sim/index.js';

async function download(withStaller: boolean): Promise<{ doneAt: number; ignored: number; exact: boolean }> {
  const sw = new SimSwarm({ seed: 21 });
  try {
    const torrent = sw.makeTorrent(2 << 20, 64 << 10);
    await sw.addSeed(torrent, { link: { link: { latencyMs: 30, bitsPerSecond: mbit(10) } } });
    const leech = await sw.addLeecher(torrent, {
      link: { link: { latencyMs: 30, bitsPerSecond: mbit(50) } },
    });
    sw.introduceAll();
    let staller: FakePeer | undefined;
    if (withStaller) {
      const host = sw.net.addHost('10.0.9.1', { link: { latencyMs: 5, bitsPerSecond: mbit(100) } });
      staller = new FakePeer(host, {
        infoHash: torrent.metainfo.infoHash,
        peerId: Buffer.from('-XX0001-stallstallst'),
        pieceCount: torrent.metainfo.pieceCount,
        data: torrent.data,
        pieceLength: torrent.metainfo.pieceLength,
        serve: (_index, begin) => begin === 0,
      });
      await staller.listen(LISTEN_PORT);
      leech.torrent.addPeer(host.ip, LISTEN_PORT);
    }
    assert.ok(await sw.runUntilComplete(600_000), 'the leech completes');
    const got = Buffer.alloc(torrent.data.length);
    await leech.storage.readInto(0, got);
    return { doneAt: leech.doneAt!, ignored: staller?.ignored ?? 0, exact: got.equals(torrent.data) };
  } finally {
    await sw.close();
  }
}

test('a peer that stalls mid-piece does not stop the download', async (t) => {
  const base = await download(false);
  const stalled = await download(true);
  t.diagnostic(
    `alone with the seed: ${(base.doneAt / 1000).toFixed(1)} s; with the staller: ` +
      `${(stalled.doneAt / 1000).toFixed(1)} s (${stalled.ignored} requests it never answered)`,
  );
  assert.ok(base.exact && stalled.exact, 'exact data both times');
  assert.ok(stalled.ignored > 0, 'the staller was asked and stalled');
  // The stalled blocks are re-requested after the engine's request timeout (20 s) at worst.
  assert.ok(stalled.doneAt < base.doneAt + 45_000, `done at ${stalled.doneAt} ms`);
});
