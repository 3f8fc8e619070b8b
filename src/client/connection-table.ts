/**
 * The client's connection bookkeeping: every connection it owns (with the torrent it joined),
 * connections per host (all, and those that joined a torrent) and the half-open dials.
 */
import type { Peer } from '../peer/index.js';
import type { Torrent } from '../torrent/torrent.js';
import type { Candidate } from '../torrent/candidates.js';
import type { EngineExtension } from '../torrent/engine-extension.js';

/** What the session keeps per connection (in place of listeners' closures). */
export interface ConnectionEntry {
  /** The remote's address, normalized (per-host limits). */
  readonly host: string;
  /** An outgoing dial's candidate (its hints and failure count are updated). */
  readonly candidate: { torrent: Torrent; c: Candidate } | undefined;
  /** The torrent it joined at its handshake. */
  torrent: Torrent | undefined;
  /** An outgoing dial that has not completed its handshake (counted in halfOpen). */
  halfOpen: boolean;
  /** Its extension handshake's `yourip` was counted (once per connection). */
  voted: boolean;
  /** The session's extensions when it joined (they see its handshakes, messages and close). */
  extensions: EngineExtension[] | undefined;
}

export class ConnectionTable {
  /** Every connection we own, with what the session keeps of it. */
  readonly peers = new Map<Peer<Torrent>, ConnectionEntry>();
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

  added(peer: Peer<Torrent>, entry: ConnectionEntry): void {
    this.peers.set(peer, entry);
    this.perHost.set(entry.host, this.hostCount(entry.host) + 1);
    if (entry.halfOpen) this.halfOpen++;
  }

  joined(entry: ConnectionEntry, torrent: Torrent): void {
    entry.torrent = torrent;
    this.attachedPerHost.set(entry.host, this.attachedCount(entry.host) + 1);
  }

  /** The connection is no longer half-open (its handshake completed, or it closed). */
  opened(entry: ConnectionEntry): void {
    if (entry.halfOpen) this.halfOpen--;
    entry.halfOpen = false;
  }

  /** Forgets a closed connection. */
  removed(peer: Peer<Torrent>, entry: ConnectionEntry): void {
    this.peers.delete(peer);
    decrement(this.perHost, entry.host);
    if (entry.torrent) decrement(this.attachedPerHost, entry.host);
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
