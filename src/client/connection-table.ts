/**
 * The client's connection bookkeeping: every connection it owns (with the torrent it joined),
 * connections per host (all, and those that joined a torrent) and the half-open dials.
 */
import type { Peer } from '../peer/index.js';
import type { Torrent } from '../torrent/torrent.js';

export class ConnectionTable {
  /** Every connection we own, with the torrent it joined (once it did). */
  readonly peers = new Map<Peer<Torrent>, Torrent | undefined>();
  /** Outgoing dials that have not finished their handshake (or closed) yet. */
  halfOpen = 0;
  /** All connections per host (outgoing dials respect the limit). */
  private readonly perHost = new Map<string, number>();
  /** Connections per host that joined a torrent (incoming handshakes respect the limit). */
  private readonly attachedPerHost = new Map<string, number>();

  get size(): number {
    return this.peers.size;
  }

  /** All connections to `host` (normalized). */
  hostCount(host: string): number {
    return this.perHost.get(host) ?? 0;
  }

  /** Connections to `host` (normalized) that joined a torrent. */
  attachedCount(host: string): number {
    return this.attachedPerHost.get(host) ?? 0;
  }

  added(peer: Peer<Torrent>, host: string): void {
    this.peers.set(peer, undefined);
    this.perHost.set(host, this.hostCount(host) + 1);
  }

  joined(peer: Peer<Torrent>, host: string, torrent: Torrent): void {
    this.peers.set(peer, torrent);
    this.attachedPerHost.set(host, this.attachedCount(host) + 1);
  }

  /** Forgets a closed connection; returns the torrent it had joined. */
  removed(peer: Peer<Torrent>, host: string): Torrent | undefined {
    const torrent = this.peers.get(peer);
    this.peers.delete(peer);
    decrement(this.perHost, host);
    if (torrent) decrement(this.attachedPerHost, host);
    return torrent;
  }
}

/** IPv4-mapped IPv6 addresses count as their IPv4 host. */
export function normalizeHost(host: string): string {
  return host.startsWith('::ffff:') ? host.slice(7) : host;
}

function decrement(m: Map<string, number>, key: string): void {
  const n = (m.get(key) ?? 1) - 1;
  if (n > 0) m.set(key, n);
  else m.delete(key);
}
