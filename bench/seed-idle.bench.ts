/**
 * A seed under 1,000 peers that say "interested" and never request (raw sockets in this
 * process): a libtorrent leech's time from the loaded seed over its time from the same seed
 * unloaded. Measured for our seed (limits raised to hold 1,000 connections) and for a
 * libtorrent seed (its defaults) the same way in the same run. NBT_BENCH_MB sets the size.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Client } from '../src/client/index.js';
import { LtPeer, peerInstalled } from '../test/helpers/real-peers.js';
import { tempDir } from '../test/helpers/tmp.js';
import { makeFixture, until, type Fixture } from '../test/unit/client/fixtures.js';
import { RawPeer } from '../test/unit/client/raw-peer.js';
import type { Reporter } from './harness.js';

const IDLE = 1000;

async function leechSeconds(fx: Fixture, port: number, dir: string): Promise<number> {
  const leech = new LtPeer('leech', fx.torrentPath, dir, {
    enc: 'disabled',
    connect: [`127.0.0.1:${port}`],
    timeout: 300,
  });
  try {
    return Number((await leech.waitFor('done', 310_000)).seconds);
  } finally {
    await leech.kill();
  }
}

/** Idle peers: handshake, interested, nothing else. Refused connections are simply dropped. */
async function idlePeers(fx: Fixture, port: number): Promise<RawPeer[]> {
  const peers: RawPeer[] = [];
  for (let i = 0; i < IDLE; i += 100) {
    const made = await Promise.all(
      Array.from({ length: 100 }, () => RawPeer.connect(port).catch(() => undefined)),
    );
    for (const p of made) {
      if (!p) continue;
      p.sendHandshake(fx.metainfo.infoHash);
      p.send({ type: 'interested' });
      peers.push(p);
    }
  }
  // Let the seed take them in and hand out its slots.
  await new Promise((r) => setTimeout(r, 2000));
  return peers;
}

export async function run(report: Reporter): Promise<void> {
  if (!peerInstalled('libtorrent')) {
    report.note('libtorrent not installed: skipped');
    return;
  }
  const mb = Number(process.env.NBT_BENCH_MB ?? 128);
  const tmp = await tempDir('nbt-bench-idle-');
  try {
    const fx = await makeFixture(join(tmp.path, 'seed'), {
      files: [{ path: 'data.bin', size: mb * 1024 * 1024 }],
      pieceLength: 1024 * 1024,
    });
    let n = 0;
    const dir = async (): Promise<string> => {
      const d = join(tmp.path, `leech${n++}`);
      await mkdir(d, { recursive: true });
      return d;
    };

    // Ours.
    const seed = new Client({
      host: '127.0.0.1',
      encryption: 'disabled',
      trackers: false,
      dht: false,
      pex: false,
      limits: { maxConnections: IDLE + 100, maxPeersPerTorrent: IDLE + 100, maxPerHost: IDLE + 100 },
    });
    let ours: number;
    try {
      const port = await seed.listen(0);
      const t = await seed.addTorrent(fx.torrent, { savePath: fx.dir });
      await until(() => t.state === 'seeding', 120_000, 'seed checked');
      const unloaded = await leechSeconds(fx, port, await dir());
      const raws = await idlePeers(fx, port);
      const loaded = await leechSeconds(fx, port, await dir());
      for (const r of raws) r.close();
      ours = loaded / unloaded;
      report.figure('nbt seed, 1000 idle peers: leech time / unloaded', ours, 'x', {
        target: '<= 1.2',
        note: `${loaded.toFixed(2)} s vs ${unloaded.toFixed(2)} s, ${mb} MiB`,
      });
    } finally {
      await seed.close();
    }

    // libtorrent's seed, same leech, same idle peers.
    const lt = new LtPeer('seed', fx.torrentPath, fx.dir, { enc: 'disabled' });
    try {
      const port = await lt.port();
      const unloaded = await leechSeconds(fx, port, await dir());
      const raws = await idlePeers(fx, port);
      const loaded = await leechSeconds(fx, port, await dir());
      for (const r of raws) r.close();
      report.figure('libtorrent seed, 1000 idle peers: leech time / unloaded', loaded / unloaded, 'x', {
        note: `${loaded.toFixed(2)} s vs ${unloaded.toFixed(2)} s`,
      });
    } finally {
      await lt.kill();
    }
  } finally {
    await tmp.cleanup();
  }
}
