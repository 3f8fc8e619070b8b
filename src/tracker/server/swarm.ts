/**
 * The tracker's memory of swarms, pure (time is passed in). Bounded everywhere: torrents,
 * peers per torrent (oldest evicted), peers returned per announce; peers that stop announcing
 * expire after `peerTtlMs`.
 */
import { isIPv4 } from 'node:net';
import { NbtError } from '../../util/errors.js';
import type { PeerAddress } from '../../util/compact.js';
import type { AnnounceEvent, ScrapeEntry } from '../types.js';

export interface SwarmOptions {
  /** Announce interval told to clients, seconds (default 1800). */
  intervalS?: number;
  /** Min interval told to clients, seconds (default intervalS / 2). */
  minIntervalS?: number;
  /** Peers given when the client names no numwant (default 50). */
  numwantDefault?: number;
  /** Most peers given per announce (default 200). */
  numwantMax?: number;
  /** Peers kept per torrent; the least recently seen is dropped beyond it (default 2000). */
  maxPeersPerTorrent?: number;
  /** Torrents tracked at once (default 100,000). */
  maxTorrents?: number;
  /** Peers not heard from for this long are dropped (default 2 × interval). */
  peerTtlMs?: number;
  /** Lower-case hex info-hashes allowed; undefined tracks any torrent (open mode). */
  allow?: Iterable<string>;
  /** Randomness for peer sampling. */
  random?: () => number;
}

interface StoredPeer {
  host: string;
  port: number;
  peerId: Buffer;
  seed: boolean;
  seen: number;
}

interface Swarm {
  peers: Map<string, StoredPeer>;
  downloads: number;
}

export interface SwarmAnnounce {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** The announcer's address as seen by the server. */
  host: string;
  port: number;
  event: AnnounceEvent;
  left: number | bigint;
  /** Negative or undefined means the default. */
  numwant: number | undefined;
}

export interface SwarmReply {
  interval: number;
  minInterval: number;
  complete: number;
  incomplete: number;
  peers: (PeerAddress & { peerId: Buffer })[];
}

export class SwarmStore {
  readonly intervalS: number;
  readonly minIntervalS: number;
  private readonly numwantDefault: number;
  private readonly numwantMax: number;
  private readonly maxPeers: number;
  private readonly maxTorrents: number;
  private readonly ttlMs: number;
  private readonly allow: Set<string> | undefined;
  private readonly random: () => number;
  private readonly swarms = new Map<string, Swarm>();

  constructor(o: SwarmOptions = {}) {
    this.intervalS = o.intervalS ?? 1800;
    this.minIntervalS = o.minIntervalS ?? Math.max(1, Math.floor(this.intervalS / 2));
    this.numwantDefault = o.numwantDefault ?? 50;
    this.numwantMax = o.numwantMax ?? 200;
    this.maxPeers = o.maxPeersPerTorrent ?? 2000;
    this.maxTorrents = o.maxTorrents ?? 100_000;
    this.ttlMs = o.peerTtlMs ?? 2 * this.intervalS * 1000;
    this.allow = o.allow ? new Set([...o.allow].map((h) => h.toLowerCase())) : undefined;
    this.random = o.random ?? Math.random;
  }

  get torrentCount(): number {
    return this.swarms.size;
  }

  allowed(infoHashHex: string): boolean {
    return !this.allow || this.allow.has(infoHashHex);
  }

  announce(a: SwarmAnnounce, now: number): SwarmReply {
    const hex = Buffer.from(a.infoHash).toString('hex');
    if (!this.allowed(hex)) throw new NbtError('TRACKER_NOT_ALLOWED', 'torrent not tracked here');
    if (!(a.port > 0 && a.port < 65536)) throw new NbtError('TRACKER_BAD_REQUEST', 'invalid port');
    const key = Buffer.from(a.peerId).toString('hex');
    let swarm = this.swarms.get(hex);
    const before = swarm?.peers.get(key);
    const seed = BigInt(a.left) === 0n;
    // A download is counted once per peer: a known leecher that reports left=0 (in any event;
    // aria2 goes straight to `stopped`), or `completed` from a peer we did not know.
    const finished =
      (before !== undefined && !before.seed && seed) || (before === undefined && a.event === 'completed');
    if (a.event === 'stopped') {
      if (swarm) {
        if (finished) swarm.downloads++;
        swarm.peers.delete(key);
        if (swarm.peers.size === 0 && swarm.downloads === 0) this.swarms.delete(hex);
      }
      return { ...this.counts(swarm), interval: this.intervalS, minInterval: this.minIntervalS, peers: [] };
    }
    if (!swarm) {
      if (this.swarms.size >= this.maxTorrents) this.expire(now);
      if (this.swarms.size >= this.maxTorrents)
        throw new NbtError('TRACKER_FULL', 'tracker is tracking too many torrents');
      swarm = { peers: new Map(), downloads: 0 };
      this.swarms.set(hex, swarm);
    }
    if (finished) swarm.downloads++;
    // Re-insert so the Map's order is least-recently-seen first, which eviction relies on.
    swarm.peers.delete(key);
    if (swarm.peers.size >= this.maxPeers) this.evictOldest(swarm, now);
    swarm.peers.set(key, {
      host: a.host,
      port: a.port,
      peerId: Buffer.from(a.peerId),
      seed,
      seen: now,
    });
    const want = Math.min(
      this.numwantMax,
      a.numwant === undefined || a.numwant < 0 ? this.numwantDefault : Math.floor(a.numwant),
    );
    return {
      ...this.counts(swarm),
      interval: this.intervalS,
      minInterval: this.minIntervalS,
      peers: this.sample(swarm, key, want),
    };
  }

  /** Counts for each hash, in order (zeros for torrents not tracked). */
  scrape(infoHashes: readonly Uint8Array[]): ScrapeEntry[] {
    return infoHashes.map((h) => {
      const swarm = this.swarms.get(Buffer.from(h).toString('hex'));
      const c = this.counts(swarm);
      return { complete: c.complete, incomplete: c.incomplete, downloaded: swarm?.downloads ?? 0 };
    });
  }

  /** Addresses currently stored for a torrent (for tests and the CLI). */
  peersOf(infoHashHex: string): PeerAddress[] {
    const swarm = this.swarms.get(infoHashHex.toLowerCase());
    return swarm ? [...swarm.peers.values()].map((p) => ({ host: p.host, port: p.port })) : [];
  }

  /** Drops peers not seen within the TTL, and swarms left empty with nothing to remember. */
  expire(now: number): void {
    for (const [hex, swarm] of this.swarms) {
      for (const [key, p] of swarm.peers) {
        // Least recently seen first: stop at the first fresh one.
        if (now - p.seen <= this.ttlMs) break;
        swarm.peers.delete(key);
      }
      if (swarm.peers.size === 0 && swarm.downloads === 0) this.swarms.delete(hex);
    }
  }

  private evictOldest(swarm: Swarm, now: number): void {
    for (const [key, p] of swarm.peers) {
      if (swarm.peers.size < this.maxPeers && now - p.seen <= this.ttlMs) break;
      swarm.peers.delete(key);
    }
  }

  private counts(swarm: Swarm | undefined): { complete: number; incomplete: number } {
    let complete = 0;
    let incomplete = 0;
    for (const p of swarm?.peers.values() ?? []) {
      if (p.seed) complete++;
      else incomplete++;
    }
    return { complete, incomplete };
  }

  private sample(swarm: Swarm, self: string, want: number): (PeerAddress & { peerId: Buffer })[] {
    if (want <= 0) return [];
    const all: StoredPeer[] = [];
    for (const [key, p] of swarm.peers) if (key !== self) all.push(p);
    // Partial Fisher–Yates: the first `want` entries become a uniform sample.
    const n = Math.min(want, all.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.random() * (all.length - i));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, n).map((p) => ({ host: p.host, port: p.port, peerId: p.peerId }));
  }
}

/** '::ffff:1.2.3.4' → '1.2.3.4', so v4 peers on a dual-stack socket count as v4. */
export function normalizeHost(host: string): string {
  return host.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : host;
}
