/**
 * Who we upload to (sans-I/O; the engine calls `run` every 10 s). Regular slots go by
 * tit-for-tat: while downloading, to the interested peers that give us the most; while
 * seeding, to those we upload to fastest. One optimistic slot rotates every 30 s to a random
 * interested, choked peer, with peers connected in the last minute weighted 3x so newcomers
 * get a chance to trade. Snubbed peers never get a regular slot.
 */
import type { PeerKey } from './picker.js';

export interface ChokerPeer {
  key: PeerKey;
  /** The peer is interested in us. */
  interested: boolean;
  /** Bytes/s we receive from the peer. */
  downloadRate: number;
  /** Bytes/s we send to the peer. */
  uploadRate: number;
  /** The peer has not sent us a block for a while despite our requests. */
  snubbed: boolean;
  /** Clock ms when the connection was made. */
  connectedAt: number;
  /** We are currently choking it. */
  amChoking: boolean;
}

export interface ChokerOptions {
  /** Regular unchoke slots (default 4). */
  slots?: number;
  /** Rotate the optimistic unchoke this often (default 30 s). */
  optimisticIntervalMs?: number;
  /** Peers connected more recently than this are weighted 3x for the optimistic slot (default 60 s). */
  newPeerMs?: number;
  random?: () => number;
}

export interface ChokeDecision {
  /** Peers to have unchoked after this round (everyone else is choked). */
  unchoke: Set<PeerKey>;
  /** The optimistic unchoke, also in `unchoke`. */
  optimistic: PeerKey | undefined;
}

export class Choker {
  slots: number;
  private readonly optimisticMs: number;
  private readonly newPeerMs: number;
  private readonly random: () => number;
  private optimistic: PeerKey | undefined;
  private optimisticSince = -Infinity;

  constructor(o: ChokerOptions = {}) {
    this.slots = Math.max(0, o.slots ?? 4);
    this.optimisticMs = o.optimisticIntervalMs ?? 30_000;
    this.newPeerMs = o.newPeerMs ?? 60_000;
    this.random = o.random ?? Math.random;
  }

  /** The current optimistic unchoke. */
  get optimisticPeer(): PeerKey | undefined {
    return this.optimistic;
  }

  run(peers: readonly ChokerPeer[], now: number, seeding: boolean): ChokeDecision {
    const rate = (p: ChokerPeer): number => (seeding ? p.uploadRate : p.downloadRate);
    // Ties go to peers already unchoked, so equal peers are not churned every round.
    const regular = peers
      .filter((p) => p.interested && !p.snubbed)
      .sort((a, b) => rate(b) - rate(a) || Number(a.amChoking) - Number(b.amChoking))
      .slice(0, this.slots);
    const unchoke = new Set<PeerKey>(regular.map((p) => p.key));

    const current = peers.find((p) => p.key === this.optimistic);
    const keep =
      current !== undefined &&
      current.interested &&
      !unchoke.has(current.key) &&
      now - this.optimisticSince < this.optimisticMs;
    if (!keep) {
      this.optimistic = this.chooseOptimistic(peers, unchoke, now);
      this.optimisticSince = now;
    }
    if (this.optimistic !== undefined) unchoke.add(this.optimistic);
    return { unchoke, optimistic: this.optimistic };
  }

  /** Forget a peer that left (its optimistic slot is given away on the next run). */
  peerGone(key: PeerKey): void {
    if (this.optimistic === key) this.optimistic = undefined;
  }

  private chooseOptimistic(
    peers: readonly ChokerPeer[],
    taken: Set<PeerKey>,
    now: number,
  ): PeerKey | undefined {
    const candidates = peers.filter((p) => p.interested && !taken.has(p.key));
    if (candidates.length === 0) return undefined;
    const weight = (p: ChokerPeer): number => (now - p.connectedAt < this.newPeerMs ? 3 : 1);
    let total = 0;
    for (const p of candidates) total += weight(p);
    let r = this.random() * total;
    for (const p of candidates) {
      r -= weight(p);
      if (r < 0) return p.key;
    }
    return candidates[candidates.length - 1]!.key;
  }
}
