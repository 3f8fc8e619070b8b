/**
 * The tracker's memory of swarms, pure (time is passed in). Bounded everywhere: torrents,
 * peers per torrent, per address in one torrent, per address over all torrents and in total
 * (each time the least recently seen entry of that group is evicted), peers returned per
 * announce; peers that stop announcing expire after `peerTtlMs`. Peer ids cost nothing to
 * invent, so the per-address bounds are what stop one host from filling the tracker.
 */
import { isIPv4 } from 'node:net';
import { NbtError } from '../../util/errors.js';
import { ipv6Bytes, type PeerAddress } from '../../util/compact.js';
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
  /** Peers one address (an IPv6 /64) may have in one torrent (distinct ids; default 8: NATs). */
  maxPeersPerAddressPerTorrent?: number;
  /** Peers one address may have over all torrents (default 10,000: a seedbox's torrents). */
  maxPeersPerAddress?: number;
  /** Peers stored over all torrents (default 500,000). */
  maxPeers?: number;
  /** Peers not heard from for this long are dropped (default 2 × interval). */
  peerTtlMs?: number;
  /** Lower-case hex info-hashes allowed; undefined tracks any torrent (open mode). */
  allow?: Iterable<string>;
  /** Randomness for peer sampling. */
  random?: () => number;
}

interface StoredPeer {
  host: string;
  /** What the per-address bounds count by: the IPv4 address, or the IPv6 /64. */
  group: string;
  port: number;
  peerId: Buffer;
  seed: boolean;
  seen: number;
  swarm: Swarm;
  /** Peer id in hex: the key within the swarm. */
  key: string;
}

interface Swarm {
  hex: string;
  /** Least recently seen first (re-inserted on every announce). */
  peers: Map<string, StoredPeer>;
  /** Per address group, its peers, least recently seen first. */
  byHost: Map<string, Set<StoredPeer>>;
  seeds: number;
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
  private readonly maxPerAddressPerTorrent: number;
  private readonly maxPerAddress: number;
  private readonly maxTotal: number;
  private readonly ttlMs: number;
  private readonly allow: Set<string> | undefined;
  private readonly random: () => number;
  private readonly swarms = new Map<string, Swarm>();
  /** Every stored peer, least recently seen first. */
  private readonly all = new Set<StoredPeer>();
  /** Per address group, its peers in every swarm, least recently seen first. */
  private readonly byHost = new Map<string, Set<StoredPeer>>();

  constructor(o: SwarmOptions = {}) {
    this.intervalS = o.intervalS ?? 1800;
    this.minIntervalS = o.minIntervalS ?? Math.max(1, Math.floor(this.intervalS / 2));
    this.numwantDefault = o.numwantDefault ?? 50;
    this.numwantMax = o.numwantMax ?? 200;
    this.maxPeers = o.maxPeersPerTorrent ?? 2000;
    this.maxTorrents = o.maxTorrents ?? 100_000;
    this.maxPerAddressPerTorrent = Math.max(1, o.maxPeersPerAddressPerTorrent ?? 8);
    this.maxPerAddress = Math.max(1, o.maxPeersPerAddress ?? 10_000);
    this.maxTotal = Math.max(1, o.maxPeers ?? 500_000);
    this.ttlMs = o.peerTtlMs ?? 2 * this.intervalS * 1000;
    this.allow = o.allow ? new Set([...o.allow].map((h) => h.toLowerCase())) : undefined;
    this.random = o.random ?? Math.random;
  }

  get torrentCount(): number {
    return this.swarms.size;
  }

  /** Peers stored over all torrents. */
  get peerCount(): number {
    return this.all.size;
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
        if (before) this.remove(before);
        if (swarm.peers.size === 0 && swarm.downloads === 0) this.swarms.delete(hex);
      }
      return { ...this.counts(swarm), interval: this.intervalS, minInterval: this.minIntervalS, peers: [] };
    }
    if (!swarm) {
      if (this.swarms.size >= this.maxTorrents) this.expire(now);
      if (this.swarms.size >= this.maxTorrents)
        throw new NbtError('TRACKER_FULL', 'tracker is tracking too many torrents');
      swarm = { hex, peers: new Map(), byHost: new Map(), seeds: 0, downloads: 0 };
      this.swarms.set(hex, swarm);
    }
    if (finished) swarm.downloads++;
    // Re-insert so every order is least-recently-seen first, which eviction relies on.
    if (before) this.remove(before);
    const group = addressGroup(a.host);
    this.makeRoom(swarm, group, now);
    this.add({
      host: a.host,
      group,
      port: a.port,
      peerId: Buffer.from(a.peerId),
      seed,
      seen: now,
      swarm,
      key,
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
    // Least recently seen first: stop at the first fresh one.
    for (const p of this.all.values()) {
      if (now - p.seen <= this.ttlMs) break;
      this.remove(p);
      if (p.swarm.peers.size === 0 && p.swarm.downloads === 0) this.swarms.delete(p.swarm.hex);
    }
    for (const [hex, swarm] of this.swarms)
      if (swarm.peers.size === 0 && swarm.downloads === 0) this.swarms.delete(hex);
  }

  /** Evicts, least recently seen first, until one more peer from `group` fits every bound. */
  private makeRoom(swarm: Swarm, group: string, now: number): void {
    for (const p of swarm.peers.values()) {
      if (swarm.peers.size < this.maxPeers && now - p.seen <= this.ttlMs) break;
      this.remove(p);
    }
    const inSwarm = swarm.byHost.get(group);
    while (inSwarm && inSwarm.size >= this.maxPerAddressPerTorrent) this.remove(first(inSwarm));
    const anywhere = this.byHost.get(group);
    while (anywhere && anywhere.size >= this.maxPerAddress) this.evict(first(anywhere), swarm);
    while (this.all.size >= this.maxTotal) this.evict(first(this.all), swarm);
  }

  /** Removes a peer, dropping its swarm if left empty (unless it is the one announcing). */
  private evict(p: StoredPeer, announcing: Swarm): void {
    this.remove(p);
    const sw = p.swarm;
    if (sw !== announcing && sw.peers.size === 0 && sw.downloads === 0 && this.swarms.get(sw.hex) === sw)
      this.swarms.delete(sw.hex);
  }

  private add(p: StoredPeer): void {
    p.swarm.peers.set(p.key, p);
    if (p.seed) p.swarm.seeds++;
    this.all.add(p);
    let inSwarm = p.swarm.byHost.get(p.group);
    if (!inSwarm) p.swarm.byHost.set(p.group, (inSwarm = new Set()));
    inSwarm.add(p);
    let anywhere = this.byHost.get(p.group);
    if (!anywhere) this.byHost.set(p.group, (anywhere = new Set()));
    anywhere.add(p);
  }

  private remove(p: StoredPeer): void {
    if (p.swarm.peers.get(p.key) !== p) return;
    p.swarm.peers.delete(p.key);
    if (p.seed) p.swarm.seeds--;
    this.all.delete(p);
    const inSwarm = p.swarm.byHost.get(p.group)!;
    inSwarm.delete(p);
    if (inSwarm.size === 0) p.swarm.byHost.delete(p.group);
    const anywhere = this.byHost.get(p.group)!;
    anywhere.delete(p);
    if (anywhere.size === 0) this.byHost.delete(p.group);
  }

  private counts(swarm: Swarm | undefined): { complete: number; incomplete: number } {
    if (!swarm) return { complete: 0, incomplete: 0 };
    return { complete: swarm.seeds, incomplete: swarm.peers.size - swarm.seeds };
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

/** An IPv4 address as is; an IPv6 address by its /64 (one subscriber's usual allocation). */
function addressGroup(host: string): string {
  const v6 = ipv6Bytes(host);
  return v6 ? v6.subarray(0, 8).toString('hex') + '::/64' : host;
}

function first<T>(set: Set<T>): T {
  return set.values().next().value!;
}

/** '::ffff:1.2.3.4' → '1.2.3.4', so v4 peers on a dual-stack socket count as v4. */
export function normalizeHost(host: string): string {
  return host.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : host;
}
