/**
 * BEP 11 in the engine: one PexState per peer that speaks ut_pex. A clock timer sends each peer
 * the diff of the torrent's connected peers (at most once per interval, at most 50 added /
 * 50 dropped, with flags); received peers go to `torrent.addPeers` with source 'pex'. Private
 * torrents never send nor take PEX (BEP 27).
 */
import type { Peer } from '../peer/index.js';
import type { ExtendedHandshake } from '../wire/index.js';
import { PexFlags, PexState, PEX_INTERVAL_MS, type PexPeer } from '../extensions/index.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { ClientService, EngineExtension } from './engine-extension.js';
import type { Torrent } from './torrent.js';
import type { PeerHints } from './candidates.js';

export interface PexExchangeOptions {
  clock: Clock;
  /** Minimum time between two messages to one peer (default 60 s; tests use less). */
  intervalMs?: number;
}

export class PexExchange implements EngineExtension, ClientService {
  readonly name = 'ut_pex';
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly states = new Map<Peer<unknown>, { torrent: Torrent; state: PexState }>();
  private timer: TimerHandle | undefined;

  constructor(o: PexExchangeOptions) {
    this.clock = o.clock;
    this.intervalMs = o.intervalMs ?? PEX_INTERVAL_MS;
  }

  /** BEP 27: a private torrent's peers are not offered PEX at all. */
  offeredFor(torrent: Torrent): boolean {
    return !torrent.metainfo.private;
  }

  peerHandshake(torrent: Torrent, peer: Peer<unknown>, hs: ExtendedHandshake): void {
    if (torrent.metainfo.private || this.states.has(peer) || !hs.m.get('ut_pex')) return;
    const state = new PexState({
      clock: this.clock,
      remote: { host: peer.host, port: peer.listenPort ?? peer.port },
      intervalMs: this.intervalMs,
      // Lenient on jitter, as PexState's default (half the interval).
      minReceiveIntervalMs: Math.floor(this.intervalMs / 2),
    });
    this.states.set(peer, { torrent, state });
    this.timer ??= this.clock.setInterval(
      () => this.tick(),
      Math.max(100, Math.min(5000, this.intervalMs / 4)),
    );
    // The first message may go at once: the remote learns our current peers without waiting.
    this.send(torrent, peer, state);
  }

  message(torrent: Torrent, peer: Peer<unknown>, payload: Buffer): void {
    if (torrent.metainfo.private) return;
    const msg = this.states.get(peer)?.state.receive(payload);
    if (!msg || msg.added.length === 0) return;
    torrent.addPeers(
      msg.added.map(({ host, port, flags }) => ({ host, port, hints: pexHints(flags) })),
      { kind: 'pex' },
    );
  }

  peerDetached(_torrent: Torrent, peer: Peer<unknown>): void {
    this.states.delete(peer);
    if (this.states.size === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    }
  }

  close(): void {
    this.states.clear();
    this.timer?.cancel();
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.clock.now();
    for (const [peer, { torrent, state }] of this.states)
      if (state.nextSendAt <= now) this.send(torrent, peer, state);
  }

  private send(torrent: Torrent, peer: Peer<unknown>, state: PexState): void {
    if (torrent.metainfo.private || !torrent.acceptsPeers) return;
    const payload = state.update(connectedPeers(torrent));
    if (payload) peer.extended('ut_pex', payload);
  }
}

/** The torrent's connected peers as PEX contacts (only those whose listen port we know). */
export function connectedPeers(torrent: Torrent): PexPeer[] {
  const out: PexPeer[] = [];
  const seeding = torrent.metainfo.pieceCount > 0;
  for (const p of torrent.peers) {
    const port = p.incoming ? p.listenPort : p.port;
    if (!port || p.closed) continue;
    let flags = 0;
    if (p.encryption === 'rc4' || p.extensions?.extra['e'] === 1) flags |= PexFlags.ENCRYPTION;
    if (seeding && p.bitfield.size > 0 && p.bitfield.complete) flags |= PexFlags.SEED;
    if (!p.incoming) flags |= PexFlags.REACHABLE;
    if (p.transport === 'utp') flags |= PexFlags.UTP;
    const host = p.host.startsWith('::ffff:') ? p.host.slice(7) : p.host;
    out.push({ host, port, flags });
  }
  return out;
}

/** BEP 11 flags as the hints a candidate address carries to the dialer. */
export function pexHints(flags: number): PeerHints {
  const h: PeerHints = {};
  if (flags & PexFlags.UTP) h.utp = true;
  if (flags & PexFlags.ENCRYPTION) h.encryption = true;
  if (flags & PexFlags.SEED) h.seed = true;
  if (flags & PexFlags.REACHABLE) h.reachable = true;
  return h;
}
