/**
 * The hostile-peer soak (issue 18): for NBT_SOAK_SECONDS (CI: 20; run with 300 for the full
 * soak) client A seeds to real libtorrent leeches, one after another, and downloads a torrent
 * from our client B, while raw sockets attack A without pause with the audit's cases: garbage
 * after the handshake, keep-alive floods, repeated extension handshakes, connections that never
 * handshake (slot exhaustion), interested peers that never request (choker starvation), requests
 * while choked and out of range, unrequested pieces, bitfield and have garbage, abrupt closes.
 * Every leech must keep its unattacked speed (A's upload is capped, so "normal" is well defined),
 * the download must finish intact, no engine listener may throw, no connection may end as
 * INTERNAL_ERROR, and A's heap must stay bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { DisconnectReason as R } from '../../src/peer/index.js';
import { encodeMessage } from '../../src/wire/index.js';
import { encode } from '../../src/bencode/index.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { prng, seededBytes, tempDir } from '../helpers/tmp.js';
import { makeFixture, sameFiles, until, type Fixture } from '../unit/client/fixtures.js';
import { RawPeer } from '../unit/client/raw-peer.js';

const SOAK_SECONDS = Number(process.env.NBT_SOAK_SECONDS ?? 20);
/** A's upload cap: the leech's "normal speed" (bytes/s). */
const UPLOAD_CAP = 6_000_000;
const BLOCK = 16384;

function frame(id: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(1 + body.length, 0);
  out[4] = id;
  body.copy(out, 5);
  return out;
}
const u32s = (...n: number[]): Buffer => {
  const b = Buffer.alloc(4 * n.length);
  n.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
};

async function leechSeconds(fx: Fixture, port: number, dir: string): Promise<number> {
  const leech = new LtPeer('leech', fx.torrentPath, dir, {
    enc: 'disabled',
    connect: [`127.0.0.1:${port}`],
    timeout: 120,
  });
  try {
    return Number((await leech.waitFor('done', 130_000)).seconds);
  } finally {
    await leech.kill();
  }
}

test(
  `hostile soak: ${SOAK_SECONDS} s of attacks while libtorrent leeches keep their speed`,
  { timeout: (SOAK_SECONDS + 240) * 1000 },
  async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir('nbt-soak-');
    const seedFx = await makeFixture(join(tmp.path, 'seed'), {
      name: 'served',
      files: [{ path: 'big.bin', size: 12 * 1024 * 1024 }],
      pieceLength: 256 * 1024,
      seed: 5,
    });
    const wantFx = await makeFixture(join(tmp.path, 'good'), {
      name: 'wanted',
      files: [
        { path: 'w.bin', size: 6 * 1024 * 1024 },
        { path: 'd/v.bin', size: 70_001 },
      ],
      pieceLength: 65536,
      seed: 6,
    });
    const b = new Client({
      host: '127.0.0.1',
      encryption: 'disabled',
      trackers: false,
      dht: false,
      pex: false,
      lsd: false,
    });
    const a = new Client({
      host: '0.0.0.0',
      encryption: 'enabled',
      trackers: false,
      dht: false,
      lsd: false,
      uploadRateLimit: UPLOAD_CAP,
      limits: { maxPerHost: 10_000, maxConnections: 300, maxPeersPerTorrent: 250 },
    });
    const reasons = new Map<number, number>();
    const listenerErrors: Error[] = [];
    a.on('peer-disconnect', (_p, info) => reasons.set(info.reason, (reasons.get(info.reason) ?? 0) + 1));
    a.on('peer-error', (_p, e) => listenerErrors.push(e));
    const raws = new Set<RawPeer>();
    let stop = false;
    try {
      const bPort = await b.listen(0);
      await b.addTorrent(wantFx.torrent, { savePath: wantFx.dir });
      const aPort = await a.listen(0);
      const served = await a.addTorrent(seedFx.torrent, { savePath: seedFx.dir });
      await until(() => served.state === 'seeding', 20_000, 'A seeding');
      const unattacked = await leechSeconds(seedFx, aPort, join(tmp.path, 'baseline'));

      // The attackers: each loop keeps one hostile connection busy until A closes it, then opens the next.
      const rnd = prng(18);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const pieces = served.metainfo.pieceCount;
      const keepAlives = Buffer.alloc(4 * 50_000);
      const extHandshake = frame(
        20,
        Buffer.concat([
          Buffer.from([0]),
          encode({ m: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x${i}`, i + 1])) }),
        ]),
      );
      const attacks: ((r: RawPeer) => void)[] = [
        (r) => r.socket.write(seededBytes(1 + Math.floor(rnd() * 4000), Math.floor(rnd() * 1e6))),
        (r) => {
          for (let i = 0; i < 40; i++) r.socket.write(keepAlives);
        },
        (r) => {
          for (let i = 0; i < 30; i++) r.socket.write(extHandshake);
        },
        (r) => r.send({ type: 'interested' }),
        (r) => r.socket.write(frame(6, u32s(Math.floor(rnd() * pieces), 0, BLOCK))),
        (r) =>
          r.socket.write(frame(6, u32s(pieces + Math.floor(rnd() * 1000), Math.floor(rnd() * 1e6), 1 << 20))),
        (r) =>
          r.send({ type: 'piece', index: Math.floor(rnd() * pieces), begin: 0, block: Buffer.alloc(BLOCK) }),
        (r) => r.socket.write(frame(5, seededBytes(Math.floor(rnd() * 40), 9))),
        (r) => {
          for (let i = 0; i < 2000; i++) r.socket.write(frame(4, u32s(Math.floor(rnd() * pieces * 2))));
        },
        (r) => {
          const m = encodeMessage({ type: 'request', index: 0, begin: 0, length: BLOCK });
          r.socket.write(Buffer.concat(Array.from({ length: 1000 }, () => m)));
        },
        (r) => r.close(),
      ];
      const attacker = async (k: number): Promise<void> => {
        while (!stop) {
          let raw: RawPeer;
          try {
            raw = await RawPeer.connect(aPort, '127.0.0.1', `127.0.1.${1 + (k % 200)}`);
          } catch {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          raws.add(raw);
          // A third never handshake at all: they hold a half-open slot until A's timeout.
          if (k % 3 !== 0) {
            raw.sendHandshake(pick([seedFx.metainfo.infoHash, wantFx.metainfo.infoHash]));
            for (let j = 1 + Math.floor(rnd() * 3); j > 0 && !raw.isClosed; j--) pick(attacks)(raw);
          }
          await raw.waitFor((r) => r.isClosed || stop, 5000);
          raw.close();
          raws.delete(raw);
        }
      };
      const loops = Array.from({ length: 40 }, (_, k) => attacker(k));
      const heapBefore = process.memoryUsage().heapUsed;
      const wanted = await a.addTorrent(wantFx.torrent, {
        savePath: join(tmp.path, 'out'),
        peers: [{ host: '127.0.0.1', port: bPort }],
      });
      const times: number[] = [];
      const heapMB: number[] = [];
      const until_ = Date.now() + SOAK_SECONDS * 1000;
      let run = 0;
      while (Date.now() < until_ || times.length === 0) {
        times.push(await leechSeconds(seedFx, aPort, join(tmp.path, `leech-${run++}`)));
        heapMB.push(Math.round(process.memoryUsage().heapUsed / 1e6));
      }
      await until(() => wanted.state === 'seeding', 60_000, 'A finished its own download under attack');
      const heapAfter = process.memoryUsage().heapUsed;
      stop = true;
      await Promise.all(loops);
      assert.deepEqual(await sameFiles(wantFx, join(tmp.path, 'out')), [], 'A downloaded intact');
      assert.deepEqual(listenerErrors, [], 'no engine listener threw');
      assert.equal(reasons.get(R.INTERNAL_ERROR) ?? 0, 0, 'no INTERNAL_ERROR');
      assert.ok(
        heapAfter - heapBefore < 300e6,
        `heap grew ${((heapAfter - heapBefore) / 1e6).toFixed(0)} MB`,
      );
      const sorted = [...times].sort((x, y) => x - y);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      t.diagnostic(
        `unattacked ${unattacked.toFixed(2)} s; under attack ${times.map((x) => x.toFixed(2)).join(' ')} s; heap after each ${heapMB.join(' ')} MB; reasons ${JSON.stringify(Object.fromEntries(reasons))}`,
      );
      assert.ok(
        median <= unattacked * 1.3 + 0.5,
        `median leech ${median.toFixed(2)} s vs ${unattacked.toFixed(2)} s unattacked`,
      );
      assert.ok(sorted.at(-1)! <= unattacked * 2 + 1, `slowest leech ${sorted.at(-1)!.toFixed(2)} s`);
    } finally {
      stop = true;
      for (const r of raws) r.close();
      await Promise.all([a.close(), b.close()]);
      await tmp.cleanup();
    }
  },
);
