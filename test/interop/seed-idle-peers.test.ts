/**
 * A seed under peers that say "interested" and never request (raw sockets): a real libtorrent
 * leech must still be served at about the speed it gets from the same seed unloaded. 20 idle
 * peers against default limits (each from its own 127.0.0.x address, one per host), and 1,000
 * with raised limits. Before the choker served only peers that request, 20 such peers kept the
 * leech at 0 B/s for as long as they stayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client, type ClientOptions } from '../../src/client/index.js';
import type { Torrent } from '../../src/torrent/torrent.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, until, type Fixture } from '../unit/client/fixtures.js';
import { RawPeer } from '../unit/client/raw-peer.js';

/** Seconds the libtorrent leech took to download everything from the seed at `port`. */
async function leechSeconds(fx: Fixture, port: number, dir: string): Promise<number> {
  const leech = new LtPeer('leech', fx.torrentPath, dir, {
    enc: 'disabled',
    connect: [`127.0.0.1:${port}`],
    timeout: 120,
  });
  try {
    const done = await leech.waitFor('done', 130_000);
    return Number(done.seconds);
  } finally {
    await leech.kill();
  }
}

/** `n` raw peers that handshake, say interested, and never request. */
async function idlePeers(fx: Fixture, port: number, n: number, distinctHosts: boolean): Promise<RawPeer[]> {
  const peers: RawPeer[] = [];
  const batch = 100;
  for (let i = 0; i < n; i += batch) {
    const made = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
        RawPeer.connect(port, '127.0.0.1', distinctHosts ? `127.0.0.${2 + i + j}` : undefined),
      ),
    );
    for (const p of made) {
      p.sendHandshake(fx.metainfo.infoHash);
      p.send({ type: 'interested' });
    }
    peers.push(...made);
  }
  return peers;
}

function interestedCount(t: Torrent): number {
  return t.peers.filter((p) => p.peerInterested).length;
}

for (const { idle, limits } of [
  { idle: 20, limits: undefined },
  { idle: 1000, limits: { maxConnections: 1100, maxPeersPerTorrent: 1100, maxPerHost: 2000 } },
] as { idle: number; limits: ClientOptions['limits'] }[]) {
  test(`a seed with ${idle} interested-but-idle peers serves a libtorrent leech at full speed`, async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    const fx = await makeFixture(join(tmp.path, 'seed'), {
      files: [{ path: 'big.bin', size: 48 * 1024 * 1024 }],
      pieceLength: 256 * 1024,
    });
    const seed = new Client({
      host: '0.0.0.0',
      encryption: 'disabled',
      trackers: false,
      dht: false,
      pex: false,
      ...(limits ? { limits } : {}),
    });
    let raws: RawPeer[] = [];
    try {
      const port = await seed.listen(0);
      const torrent = await seed.addTorrent(fx.torrent, { savePath: fx.dir });
      await until(() => torrent.state === 'seeding', 20_000, 'seed checked');
      const unloaded = await leechSeconds(fx, port, join(tmp.path, 'unloaded'));

      raws = await idlePeers(fx, port, idle, limits === undefined);
      await until(() => interestedCount(torrent) >= idle, 30_000, `${idle} idle peers attached`);
      // Every slot went to idle peers as they arrived.
      await until(() => torrent.peers.filter((p) => !p.amChoking).length >= 5, 5000, 'slots taken');
      const loaded = await leechSeconds(fx, port, join(tmp.path, 'loaded'));
      assert.ok(
        raws.filter((r) => !r.isClosed).length >= idle * 0.95,
        'the idle peers stayed connected throughout',
      );
      t.diagnostic(`unloaded ${unloaded} s, with ${idle} idle peers ${loaded} s`);
      assert.ok(loaded <= 2 * unloaded + 0.5, `loaded ${loaded} s vs unloaded ${unloaded} s`);
    } finally {
      for (const r of raws) r.close();
      await seed.close();
      await tmp.cleanup();
    }
  });
}
