/**
 * Whole Clients on the simulated network: each member is a host with its own links, a Client
 * dialing and listening through it, the simulation's FakeClock, in-memory storage and a hash
 * pool that hashes on the spot (no threads). DHT, trackers and PEX are off: members learn
 * each other through addPeer, like a tracker answer would give them.
 */
import { createHash } from 'node:crypto';
import { Client, type ClientOptions } from '../../src/client/index.js';
import type { Torrent } from '../../src/torrent/torrent.js';
import type { Metainfo } from '../../src/metainfo/types.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { encode } from '../../src/bencode/index.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import { HashPool } from '../../src/hash/pool.js';
import { Simulation } from './scheduler.js';
import { SimNetwork, type HostOptions, type NetworkOptions, type SimHost } from './network.js';

/** SHA-1 on the main thread, at once: worker threads would make a run's timing depend on the OS. */
export class InlineHashPool extends HashPool {
  constructor() {
    super({ threads: 1 });
  }

  override warmUp(): void {}

  override async hashPieces(data: Uint8Array, pieceLength: number): Promise<Buffer> {
    const out: Buffer[] = [];
    for (let at = 0; at < data.byteLength; at += pieceLength)
      out.push(
        createHash('sha1')
          .update(data.subarray(at, at + pieceLength))
          .digest(),
      );
    return Buffer.concat(out);
  }

  override async hashLent(data: Buffer, pieceLength: number): Promise<{ digests: Buffer; data: Buffer }> {
    return { digests: await this.hashPieces(data, pieceLength), data };
  }
}

export interface SimTorrent {
  metainfo: Metainfo;
  data: Buffer;
}

export interface MemberOptions {
  /** This member's access links (up/down). */
  link?: HostOptions;
  /** More Client options (limits, rate limits…); network, clock and peerId are set here. */
  client?: Partial<ClientOptions>;
}

export interface Member {
  name: string;
  ip: string;
  host: SimHost;
  client: Client;
  torrent: Torrent;
  storage: MemoryStorage;
  seed: boolean;
  /** Virtual time at which the member had every piece (undefined: not yet). */
  doneAt: number | undefined;
}

export const LISTEN_PORT = 6881;

export class SimSwarm {
  readonly sim: Simulation;
  readonly net: SimNetwork;
  readonly members: Member[] = [];
  private readonly hashPool = new InlineHashPool();

  constructor(o: { seed?: number; network?: NetworkOptions } = {}) {
    this.sim = new Simulation({ seed: o.seed ?? 1 });
    this.sim.installRandom();
    this.net = new SimNetwork(this.sim, o.network);
  }

  /** A single-file torrent of `size` seeded-random bytes, built in memory. */
  makeTorrent(size: number, pieceLength: number, name = 'sim.bin'): SimTorrent {
    const data = this.sim.rng.fork().bytes(size);
    const hashes: Buffer[] = [];
    for (let at = 0; at < size; at += pieceLength)
      hashes.push(
        createHash('sha1')
          .update(data.subarray(at, at + pieceLength))
          .digest(),
      );
    const info = {
      length: size,
      name: Buffer.from(name),
      'piece length': pieceLength,
      pieces: Buffer.concat(hashes),
    };
    return { metainfo: parseTorrent(encode({ info })), data };
  }

  /** Adds a member with all the data (trusted, no check) and starts it listening. */
  addSeed(t: SimTorrent, o: MemberOptions = {}): Promise<Member> {
    return this.addMember(t, true, o);
  }

  addLeecher(t: SimTorrent, o: MemberOptions = {}): Promise<Member> {
    return this.addMember(t, false, o);
  }

  /** Tells every member about every other one (as one full tracker answer would). */
  introduceAll(): void {
    for (const m of this.members)
      for (const o of this.members) if (o !== m) m.torrent.addPeer(o.ip, LISTEN_PORT);
  }

  /** Runs virtual time until every member has the whole torrent (or `maxMs` passed). */
  async runUntilComplete(maxMs: number): Promise<boolean> {
    return this.sim.run({ until: () => this.members.every((m) => m.doneAt !== undefined), for: maxMs });
  }

  /** Closes every client, letting virtual time run so their goodbyes complete. */
  async close(): Promise<void> {
    let done = false;
    const all = Promise.all(this.members.map((m) => m.client.close())).finally(() => (done = true));
    await this.sim.run({ until: () => done, for: 120_000 });
    await all;
    this.sim.dispose();
  }

  private async addMember(t: SimTorrent, seed: boolean, o: MemberOptions): Promise<Member> {
    const n = this.members.length;
    const ip = `10.0.${1 + (n >> 8)}.${n & 255}`;
    const host = this.net.addHost(ip, o.link);
    const id = Buffer.concat([Buffer.from('-NB0100-'), Buffer.from(this.sim.rng.bytes(6).toString('hex'))]);
    const client = new Client({
      dht: false,
      trackers: false,
      pex: false,
      encryption: 'disabled',
      ...o.client,
      network: host,
      clock: this.sim.clock,
      hashPool: this.hashPool,
      peerId: id,
    });
    await client.listen(LISTEN_PORT);
    const storage = new MemoryStorage(t.metainfo, { now: () => this.sim.now() });
    if (seed)
      for (let p = 0; p < t.metainfo.pieceCount; p++) {
        const at = p * t.metainfo.pieceLength;
        await storage.write(p, 0, t.data.subarray(at, at + t.metainfo.pieceLength));
      }
    const torrent = await client.addTorrent(t.metainfo, {
      storage: () => storage,
      skipCheck: seed,
      savePath: `/sim/${ip}`,
    });
    const m: Member = {
      name: seed ? `seed${n}` : `leech${n}`,
      ip,
      host,
      client,
      torrent,
      storage,
      seed,
      doneAt: seed ? 0 : undefined,
    };
    client.on('torrent-done', () => (m.doneAt ??= this.sim.now()));
    this.members.push(m);
    return m;
  }
}
