/**
 * Peers announced to us (announce_peer), per info-hash, each expiring 30 minutes after its last
 * announce. Bounded: at most `maxPeersPerHash` per info-hash (the oldest gives way) and
 * `maxInfoHashes` info-hashes (new ones are refused when full).
 */
import type { Clock } from '../util/clock.js';
import { formatAddress, type PeerAddress } from '../util/compact.js';

export const PEER_TTL_MS = 30 * 60_000;

export interface PeerStoreOptions {
  ttlMs?: number;
  maxPeersPerHash?: number;
  maxInfoHashes?: number;
}

interface Entry {
  peer: PeerAddress;
  expires: number;
}

export class PeerStore {
  private readonly byHash = new Map<string, Map<string, Entry>>();
  private readonly ttlMs: number;
  readonly maxPeersPerHash: number;
  readonly maxInfoHashes: number;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    options: PeerStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? PEER_TTL_MS;
    this.maxPeersPerHash = options.maxPeersPerHash ?? 200;
    this.maxInfoHashes = options.maxInfoHashes ?? 2000;
  }

  get infoHashCount(): number {
    return this.byHash.size;
  }

  /** Stores or refreshes a peer; false when the store is full of other info-hashes. */
  add(infoHash: Uint8Array, peer: PeerAddress): boolean {
    const key = Buffer.from(infoHash).toString('hex');
    let peers = this.byHash.get(key);
    if (!peers) {
      if (this.byHash.size >= this.maxInfoHashes) this.purge();
      if (this.byHash.size >= this.maxInfoHashes) return false;
      peers = new Map();
      this.byHash.set(key, peers);
    }
    const addr = formatAddress(peer);
    // Re-inserting moves the peer to the end, so Map order is oldest-announce first.
    peers.delete(addr);
    peers.set(addr, { peer: { host: peer.host, port: peer.port }, expires: this.clock.now() + this.ttlMs });
    while (peers.size > this.maxPeersPerHash) peers.delete(peers.keys().next().value as string);
    return true;
  }

  /** Up to `max` live peers for an info-hash (most recent announces first), optionally of one family. */
  get(infoHash: Uint8Array, max = 50, family?: 4 | 6): PeerAddress[] {
    const key = Buffer.from(infoHash).toString('hex');
    const peers = this.byHash.get(key);
    if (!peers) return [];
    const now = this.clock.now();
    const out: PeerAddress[] = [];
    for (const [addr, e] of [...peers].reverse()) {
      if (e.expires <= now) {
        peers.delete(addr);
        continue;
      }
      if (family !== undefined && e.peer.host.includes(':') !== (family === 6)) continue;
      if (out.length < max) out.push(e.peer);
    }
    if (peers.size === 0) this.byHash.delete(key);
    return out;
  }

  /** Drops expired peers and empty info-hashes. */
  purge(): void {
    const now = this.clock.now();
    for (const [key, peers] of this.byHash) {
      for (const [addr, e] of peers) if (e.expires <= now) peers.delete(addr);
      if (peers.size === 0) this.byHash.delete(key);
    }
  }
}
