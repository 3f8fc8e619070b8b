/**
 * Outgoing connections: round-robin over the torrents that want peers, taking due candidate
 * addresses while the half-open, global and per-host limits allow.
 */
import type { Clock } from '../util/clock.js';
import type { Torrent } from '../torrent/torrent.js';
import type { Candidate } from '../torrent/candidates.js';
import type { ConnectionLimits } from './options.js';
import { normalizeHost, type ConnectionTable } from './connection-table.js';

export interface DialerHost {
  readonly clock: Clock;
  readonly limits: ConnectionLimits;
  readonly connections: ConnectionTable;
  /** Incoming connections before their handshake: they have their own pool, not our slots. */
  pendingIncoming?(): number;
  closed(): boolean;
  torrents(): Torrent[];
  /** Opens (and tracks) a connection to the candidate. */
  connect(t: Torrent, c: Candidate): void;
}

export class Dialer {
  private rr = 0;
  private queued = false;

  constructor(private readonly host: DialerHost) {}

  /**
   * Dials once the current turn of the event loop is over: many triggers, one round. (Not a
   * microtask: 1,000 torrents starting one after another would each run a round over all.)
   */
  soon(): void {
    if (this.queued || this.host.closed()) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      this.run();
    });
  }

  /** Opens outgoing connections while the limits allow, round-robin over torrents. */
  run(): void {
    const h = this.host;
    if (h.closed()) return;
    const limits = h.limits;
    const conns = h.connections;
    const now = h.clock.now();
    const torrents = h.torrents();
    let idle = 0;
    while (
      torrents.length > 0 &&
      idle < torrents.length &&
      conns.halfOpen < limits.maxHalfOpen &&
      conns.size - (h.pendingIncoming?.() ?? 0) < limits.maxConnections
    ) {
      const t = torrents[this.rr++ % torrents.length]!;
      // Most of 1,000 seeding torrents have no address to try: skip them before any iteration.
      const c =
        t.candidates.size > 0 && t.wantsPeers(limits.maxPeersPerTorrent)
          ? t.candidates.next(
              now,
              (c) => !t.isBanned(c.host) && conns.hostCount(normalizeHost(c.host)) < limits.maxPerHost,
            )
          : undefined;
      if (!c) {
        idle++;
        continue;
      }
      idle = 0;
      h.connect(t, c);
    }
  }
}
