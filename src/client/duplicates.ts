/**
 * Two connections to the same peer in one torrent (we dialled it while it dialled us): both
 * sides must end up keeping the same one. The rule, libtorrent's: the side with the lower listen
 * port keeps the connection it opened (equal ports: the lower peer id does). Whatever rule the
 * remote follows, we close our loser only after a short grace: if the remote closes the other
 * connection first, ours is kept instead, so exactly one survives on both sides.
 *
 * The same peer is recognised by its peer id, by its listen endpoint (an incoming connection's
 * listen port arrives in its extension handshake), or, where the per-host limit would otherwise
 * refuse it, by its address alone (one peer per IP, as libtorrent assumes by default).
 */
import type { Peer } from '../peer/index.js';
import { DisconnectReason } from '../peer/disconnect.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Torrent } from '../torrent/torrent.js';
import { normalizeHost } from './connection-table.js';

/** How long the remote has to close the other connection before we close ours. */
export const DUPLICATE_GRACE_MS = 1500;

/**
 * True when we keep the connection we opened: our listen port is lower than theirs (the port we
 * dialled), ties broken by the lower peer id. Both sides compute the same answer.
 */
export function keepsOurOutgoing(
  ourPort: number,
  theirPort: number,
  ourId: Buffer,
  theirId: Buffer,
): boolean {
  if (ourPort !== theirPort) return ourPort < theirPort;
  return Buffer.compare(ourId, theirId) < 0;
}

/** The remote of `a` and `b` is the same peer: same id or same listen endpoint. */
export function samePeer(a: Peer<unknown>, b: Peer<unknown>): boolean {
  if (normalizeHost(a.host) !== normalizeHost(b.host)) return false;
  if (a.peerId && b.peerId?.equals(a.peerId)) return true;
  const port = (p: Peer<unknown>): number | undefined => (p.incoming ? p.listenPort : p.port);
  const pa = port(a);
  return pa !== undefined && pa === port(b);
}

/**
 * The connection of `peers` in the other direction that is `peer`'s twin: the same peer, or
 * (`byHost`) any one to the same address.
 */
export function findTwin(
  peers: Iterable<Peer<unknown>>,
  peer: Peer<unknown>,
  byHost: boolean,
): Peer<unknown> | undefined {
  const host = normalizeHost(peer.host);
  let sameHost: Peer<unknown> | undefined;
  for (const p of peers) {
    if (p === peer || p.closed || p.incoming === peer.incoming || normalizeHost(p.host) !== host) continue;
    if (samePeer(p, peer)) return p;
    sameHost ??= p;
  }
  return byHost ? sameHost : undefined;
}

export interface DuplicateHost {
  clock: Clock;
  peerId: Buffer;
  /** Our listen port (0 when not listening). */
  listenPort(): number;
}

interface Pending {
  winner: Peer<unknown>;
  timer: TimerHandle;
}

export class DuplicateResolver {
  /** Losers waiting out the grace, with the connection kept in their place. */
  private readonly pending = new Map<Peer<unknown>, Pending>();

  constructor(
    private readonly host: DuplicateHost,
    private readonly graceMs = DUPLICATE_GRACE_MS,
  ) {}

  /** Connections whose close is scheduled. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * `a` and `b` (one incoming, one outgoing) reach the same peer: one of them will go. `kept`
   * hears of the survivor once the other closed (its address is still connected).
   */
  resolve(a: Peer<unknown>, b: Peer<unknown>, kept?: (p: Peer<unknown>) => void): void {
    if (a.incoming === b.incoming || a.closed || b.closed) return;
    if (this.involved(a) || this.involved(b)) return;
    const out = a.incoming ? b : a;
    const inc = a.incoming ? a : b;
    const theirId = out.peerId ?? inc.peerId ?? Buffer.alloc(20);
    const keepOut = keepsOurOutgoing(this.host.listenPort(), out.port, this.host.peerId, theirId);
    const winner = keepOut ? out : inc;
    const loser = keepOut ? inc : out;
    // Whichever survives, its listen endpoint is the one we dialled.
    if (inc.listenPort === undefined) inc.listenPort = out.port;
    const timer = this.host.clock.setTimeout(() => {
      this.pending.delete(loser);
      loser.close(DisconnectReason.PREEXISTING, {
        ...(loser.peerId ? { peerId: loser.peerId.toString('hex') } : {}),
        message: 'simultaneous connections: the one opened by the lower listen port is kept',
      });
    }, this.graceMs);
    this.pending.set(loser, { winner, timer });
    // The remote closed the one we meant to keep: keep the other (it is the remote's choice).
    const settle = (other: Peer<unknown>): void => {
      this.cancel(loser, winner);
      if (!other.closed) kept?.(other);
    };
    winner.once('close', () => settle(loser));
    loser.once('close', () => settle(winner));
  }

  private involved(p: Peer<unknown>): boolean {
    if (this.pending.has(p)) return true;
    for (const v of this.pending.values()) if (v.winner === p) return true;
    return false;
  }

  private cancel(loser: Peer<unknown>, winner: Peer<unknown>): void {
    const entry = this.pending.get(loser);
    if (!entry || entry.winner !== winner) return;
    entry.timer.cancel();
    this.pending.delete(loser);
  }
}

/**
 * After `peer` joined `torrent`: if it is a twin of another connection, one of the two goes.
 * The closing twin releases the shared address in the torrent's candidates; the survivor still
 * holds it, so it is marked connected again.
 */
export function resolveTwin(
  resolver: DuplicateResolver,
  torrent: Torrent,
  peer: Peer<unknown>,
  byHost: boolean,
): void {
  const twin = findTwin(torrent.peers, peer, byHost);
  if (!twin) return;
  resolver.resolve(twin, peer, (p) => torrent.markPeerConnected(p));
}
