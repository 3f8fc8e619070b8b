/**
 * The stage for hostile-peer tests: client A (under attack) seeds a small torrent and, at the
 * same time, downloads another one from a good seed B (rate-limited, so the download is still
 * running while the attacks happen). Scripted raw sockets attack A; every test then checks that
 * the good download completed byte-identical and that nothing was written outside the save path.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { Peer } from '../../../src/peer/index.js';
import type { DisconnectInfo } from '../../../src/peer/disconnect.js';
import type { Torrent } from '../../../src/torrent/torrent.js';
import { encodeHandshake, makeReserved, type Message } from '../../../src/wire/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until, type Fixture } from './fixtures.js';
import { RawPeer, randomPeerId } from './raw-peer.js';

export interface World {
  a: Client;
  b: Client;
  aPort: number;
  /** The torrent A seeds. */
  seeded: Torrent;
  /** The torrent A downloads from B. */
  wanted: Torrent;
  seedFx: Fixture;
  wantFx: Fixture;
  outDir: string;
  root: string;
  /** A's closed connections by remote port (incoming: the raw socket's local port). */
  closes: Map<number, DisconnectInfo>;
  /** A's live peers by remote port. */
  peers: Map<number, Peer<unknown>>;
  peerErrors: Error[];
  raws: RawPeer[];
  /** Asserts the good download finished intact, A is still sane, and closes everything. */
  finish(): Promise<void>;
}

export async function makeWorld(o: { maxConnections?: number } = {}): Promise<World> {
  const tmp = await tempDir('nbt-hostile-');
  const root = tmp.path;
  const seedFx = await makeFixture(join(root, 'seed'), {
    name: 'seeded',
    files: [{ path: 'x.bin', size: 300_000 }],
    pieceLength: 32768,
    seed: 11,
  });
  const wantFx = await makeFixture(join(root, 'good'), {
    name: 'wanted',
    files: [
      { path: 'w.bin', size: 900_000 },
      { path: 'd/v.bin', size: 70_001 },
    ],
    pieceLength: 32768,
    seed: 21,
  });
  const outDir = join(root, 'out');
  const before = await listTree(root);

  const b = new Client({
    host: '127.0.0.1',
    encryption: 'disabled',
    trackers: false,
    dht: false,
    uploadRateLimit: 1_500_000,
    limits: { maxPerHost: 10 },
  });
  const bPort = await b.listen(0);
  const bt = await b.addTorrent(wantFx.torrent, { savePath: wantFx.dir });

  const a = new Client({
    host: '127.0.0.1',
    encryption: 'enabled',
    trackers: false,
    dht: false,
    limits: { maxPerHost: 10_000, maxConnections: o.maxConnections ?? 200, maxPeersPerTorrent: 150 },
  });
  const closes = new Map<number, DisconnectInfo>();
  const peers = new Map<number, Peer<unknown>>();
  const peerErrors: Error[] = [];
  a.on('peer-connect', (_t, p) => peers.set(p.port, p));
  a.on('peer-disconnect', (p, info) => {
    closes.set(p.port, info);
    peers.delete(p.port);
  });
  a.on('peer-error', (_p, e) => peerErrors.push(e));
  const aPort = await a.listen(0);
  const seeded = await a.addTorrent(seedFx.torrent, { savePath: seedFx.dir });
  await until(() => seeded.state === 'seeding' && bt.state === 'seeding', 10_000, 'seeds ready');
  const wanted = await a.addTorrent(wantFx.torrent, {
    savePath: outDir,
    peers: [{ host: '127.0.0.1', port: bPort }],
  });
  await until(() => wanted.state === 'downloading' || wanted.state === 'seeding', 10_000, 'download started');
  const raws: RawPeer[] = [];

  const world: World = {
    a,
    b,
    aPort,
    seeded,
    wanted,
    seedFx,
    wantFx,
    outDir,
    root,
    closes,
    peers,
    peerErrors,
    raws,
    finish: async () => {
      try {
        await until(() => wanted.state === 'seeding', 20_000, 'good download complete');
        assert.deepEqual(await sameFiles(wantFx, outDir), [], 'downloaded files differ');
        // Nothing new anywhere but the downloaded files under the save path.
        const after = await listTree(root);
        const added = after.filter((f) => !before.includes(f));
        assert.deepEqual(added.sort(), ['out/wanted/d/v.bin', 'out/wanted/w.bin']);
        assert.deepEqual(await sameFiles(seedFx, seedFx.dir), []);
        assert.deepEqual(peerErrors, [], 'no engine listener threw');
      } finally {
        for (const r of raws) r.close();
        await Promise.all([a.close(), b.close()]);
        await tmp.cleanup();
      }
    },
  };
  return world;
}

async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(root, p).split('\\').join('/'));
    }
  }
  await walk(root);
  return out;
}

/** Connects a raw peer to A and completes a plaintext handshake for `infoHash`. */
export async function hostile(
  w: World,
  infoHash: Buffer = w.seeded.infoHash,
  o: { extended?: boolean; fast?: boolean; handshake?: boolean } = {},
): Promise<RawPeer> {
  const raw = await RawPeer.connect(w.aPort);
  ports.set(raw, raw.socket.localPort!);
  w.raws.push(raw);
  if (o.handshake === false) return raw;
  raw.socket.write(
    encodeHandshake({
      reserved: makeReserved({ fast: o.fast ?? true, extended: o.extended ?? false }),
      infoHash,
      peerId: randomPeerId(),
    }),
  );
  assert.ok(await raw.waitFor((r) => r.handshake !== undefined, 5000), 'A answered the handshake');
  return raw;
}

/** Local ports of raw peers (a destroyed socket forgets its own). */
const ports = new WeakMap<RawPeer, number>();

export function portOf(raw: RawPeer): number {
  return ports.get(raw)!;
}

/** The reason A closed this raw peer's connection (waits for it). */
export async function reasonOf(w: World, raw: RawPeer, ms = 5000): Promise<number> {
  const port = portOf(raw);
  await until(() => w.closes.has(port), ms, `A closing the connection from port ${port}`);
  return w.closes.get(port)!.reason;
}

/** A's Peer object for this raw connection (undefined once closed). */
export function peerOf(w: World, raw: RawPeer): Peer<unknown> | undefined {
  return w.peers.get(portOf(raw));
}

/** A frame with a 4-byte length prefix: id then body (any bytes, valid or not). */
export function frame(id: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(1 + body.length, 0);
  out[4] = id;
  body.copy(out, 5);
  return out;
}

export function u32s(...n: number[]): Buffer {
  const b = Buffer.alloc(4 * n.length);
  n.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

export function count(raw: RawPeer, type: Message['type']): number {
  return raw.messages.filter((m) => m.type === type).length;
}
