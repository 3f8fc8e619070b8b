/**
 * Who we upload to (sans-I/O). Slots go to peers that want data: an unchoked peer that sends no
 * request for `idleMs` (`probeMs` if it never sent one) is choked and its slot reused at once,
 * and it waits `idleBackoffMs`
 * before it is considered again (unless it requests meanwhile). This keeps peers that say
 * "interested" and never request from holding every slot (a denial of service otherwise).
 *
 * Full rounds (the engine runs one every 10 s) rank the candidates: while downloading by what
 * they give us (tit-for-tat, so free riders get only the optimistic slot); then peers that
 * asked us for data before above untried ones (who get free and released slots); then, as libtorrent's
 * round-robin seeding choker does, a peer that got its quota since its unchoke (`quotaBytes`,
 * for at least a minute) yields to others; then by our upload rate to peers already unchoked;
 * then the one waiting longest since its last unchoke, newest connection first. One optimistic
 * slot rotates every 30 s, newcomers weighted 3x. Quick rounds (`fill`) only release slots of
 * peers that stopped wanting data and fill free slots, without churning the others.
 *
 * Slot count: fixed (`slots`), or `'auto'` (libtorrent's rate-based choker): walking peers from
 * the fastest, each one uploaded to at least a rising threshold (1 KiB/s, +2 KiB/s per slot)
 * earns a slot, plus one; so slots grow while each extra peer still gets a useful share.
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
  /** Clock ms of its last request to us (-Infinity: never). */
  lastRequestAt: number;
  /** Clock ms when we last unchoked it (-Infinity: never). */
  unchokedAt: number;
  /** Payload bytes we sent it since we last unchoked it. */
  uploadedSinceUnchoke: number;
  /** Requests of its are queued or being served. */
  busy: boolean;
  /** Clock ms of its last `interested` message (absent or -Infinity: none seen). */
  interestedAt?: number;
}

export type SlotSetting = number | 'auto';

/** The choker's timings (settings optimistic_unchoke_interval, idle_choke_timeout, …). */
export interface ChokerTimings {
  /** Rotate the optimistic unchoke this often (default 30 s). */
  optimisticIntervalMs?: number;
  /** Peers connected more recently than this are weighted 3x for the optimistic slot (default 60 s). */
  newPeerMs?: number;
  /** An unchoked peer without a request for this long gives up its slot (default 1.5 s). */
  idleMs?: number;
  /**
   * A peer that never sent us a request gives up its slot sooner (default 700 ms): a real peer
   * asks within a round trip of our unchoke, and a waiting newcomer should not wait long.
   */
  probeMs?: number;
  /** A never-asking slot holder this old gives way to a waiting newcomer (default 250 ms). */
  preemptMs?: number;
  /** A peer that gave up its slot idle is passed over this long unless it requests (default 60 s). */
  idleBackoffMs?: number;
  /** A quota-complete peer must also have been unchoked this long before it yields (default 60 s, libtorrent's). */
  quotaMinUnchokedMs?: number;
}

export interface ChokerOptions extends ChokerTimings {
  /** Regular unchoke slots, or 'auto' for rate-based (default 4). */
  slots?: SlotSetting;
  /** Upper bound for 'auto' slots (default 50). */
  maxAutoSlots?: number;
  /** Round-robin quota: after this many bytes and a minute unchoked, a peer yields (default 4 MiB). */
  quotaBytes?: number;
  random?: () => number;
}

export interface ChokeDecision {
  /** Peers to have unchoked after this round (everyone else is choked). */
  unchoke: Set<PeerKey>;
  /** The optimistic unchoke, also in `unchoke`. */
  optimistic: PeerKey | undefined;
  /** A newcomer waits for a probe's slot: run `fill` again at this clock time. */
  recheckAt?: number;
}

const RATE_THRESHOLD_START = 1024;
const RATE_THRESHOLD_STEP = 2048;

export class Choker {
  /** The slot setting; `slots` is the regular slot count in effect (computed for 'auto'). */
  setting: SlotSetting;
  private current: number;
  private readonly maxAuto: number;
  private optimisticMs = 30_000;
  private newPeerMs = 60_000;
  private idleMs = 1500;
  private probeMs = 700;
  private preemptMs = 250;
  private backoffMs = 60_000;
  private quotaMinUnchokedMs = 60_000;
  private readonly quota: number;
  private readonly random: () => number;
  private optimistic: PeerKey | undefined;
  private optimisticSince = -Infinity;
  /** The mode of the last round (quick rounds keep it). */
  private seeding = true;
  /** Peers choked for idleness, with the time. */
  // Made on the first idle interested peer (an empty Map is ~0.2 KB per torrent).
  private idleChoked: Map<PeerKey, number> | undefined;

  constructor(o: ChokerOptions = {}) {
    this.setting = normalizeSlots(o.slots ?? 4);
    this.maxAuto = Math.max(1, o.maxAutoSlots ?? 50);
    this.current = this.setting === 'auto' ? 1 : this.setting;
    this.setTimings(o);
    this.quota = o.quotaBytes ?? 4 * 1024 * 1024;
    this.random = o.random ?? Math.random;
  }

  /** Changes the timings given (the others stay); in effect from the next round. */
  setTimings(t: ChokerTimings): void {
    this.optimisticMs = t.optimisticIntervalMs ?? this.optimisticMs;
    this.newPeerMs = t.newPeerMs ?? this.newPeerMs;
    this.idleMs = t.idleMs ?? this.idleMs;
    this.probeMs = t.probeMs ?? this.probeMs;
    this.preemptMs = t.preemptMs ?? this.preemptMs;
    this.backoffMs = t.idleBackoffMs ?? this.backoffMs;
    this.quotaMinUnchokedMs = t.quotaMinUnchokedMs ?? this.quotaMinUnchokedMs;
  }

  /** Regular slots in effect (fixed, or as computed by the last full round for 'auto'). */
  get slots(): number {
    return this.current;
  }

  setSlots(n: SlotSetting): void {
    this.setting = normalizeSlots(n);
    if (this.setting !== 'auto') this.current = this.setting;
  }

  /** The current optimistic unchoke. */
  get optimisticPeer(): PeerKey | undefined {
    return this.optimistic;
  }

  /** A full round: rank every candidate, give the regular slots, rotate the optimistic one. */
  run(peers: readonly ChokerPeer[], now: number, seeding: boolean): ChokeDecision {
    this.seeding = seeding;
    this.noteIdle(peers, now);
    if (this.setting === 'auto') this.current = this.rateBasedSlots(peers);
    const regular = this.candidates(peers, now)
      .sort((a, b) => this.compare(a, b, now, seeding))
      .slice(0, this.current);
    const unchoke = new Set<PeerKey>(regular.map((p) => p.key));

    const opt = peers.find((p) => p.key === this.optimistic);
    const keep =
      opt !== undefined &&
      this.eligible(opt, now) &&
      !unchoke.has(opt.key) &&
      now - this.optimisticSince < this.optimisticMs;
    if (!keep) {
      this.optimistic = this.chooseOptimistic(peers, unchoke, now);
      this.optimisticSince = now;
    }
    if (this.optimistic !== undefined) unchoke.add(this.optimistic);
    return { unchoke, optimistic: this.optimistic };
  }

  /**
   * A quick round (someone became interested, stopped being interested, requested while choked,
   * or a second passed): peers that no longer want data lose their slot; free slots (regular +
   * optimistic) go to the best waiting candidates; everyone else keeps their state.
   */
  fill(peers: readonly ChokerPeer[], now: number, seeding = this.seeding): ChokeDecision {
    this.seeding = seeding;
    this.noteIdle(peers, now);
    const unchoke = new Set<PeerKey>();
    for (const p of peers) if (!p.amChoking && this.eligible(p, now)) unchoke.add(p.key);
    if (this.optimistic !== undefined && !unchoke.has(this.optimistic)) this.optimistic = undefined;
    const budget = this.current + 1;
    const waiting = this.candidates(peers, now)
      .filter((p) => !unchoke.has(p.key))
      // While downloading, those who send us data come first (tit-for-tat), then the waiting order.
      .sort((a, b) => (seeding ? 0 : b.downloadRate - a.downloadRate) || this.waitingOrder(a, b, now));
    let next = 0;
    while (unchoke.size < budget && next < waiting.length) unchoke.add(waiting[next++]!.key);
    // A newcomer (or a peer that just asked) need not wait while a slot is held by a peer that
    // never asked for anything: after `preemptMs` such a probe gives way.
    const probes = peers
      .filter((p) => unchoke.has(p.key) && !p.amChoking && !p.busy && p.lastRequestAt === -Infinity)
      .sort((a, b) => a.unchokedAt - b.unchokedAt);
    let recheckAt: number | undefined;
    for (const w of waiting.slice(next)) {
      const fresh = w.unchokedAt === -Infinity || now - w.lastRequestAt < this.idleMs;
      const probe = probes.shift();
      if (!fresh || !probe) break;
      if (now - probe.unchokedAt < this.preemptMs) {
        recheckAt = probe.unchokedAt + this.preemptMs;
        break;
      }
      unchoke.delete(probe.key);
      if (this.optimistic === probe.key) this.optimistic = undefined;
      unchoke.add(w.key);
    }
    return { unchoke, optimistic: this.optimistic, ...(recheckAt !== undefined ? { recheckAt } : {}) };
  }

  /** Forget a peer that left (its optimistic slot is given away on the next run). */
  peerGone(key: PeerKey): void {
    if (this.optimistic === key) this.optimistic = undefined;
    this.idleChoked?.delete(key);
  }

  /**
   * Unchoked for `idleMs` with no request since and nothing queued (`probeMs` if it never sent
   * a request at all): the slot is wasted.
   */
  private idle(p: ChokerPeer, now: number): boolean {
    if (p.amChoking || p.busy) return false;
    // While downloading, a peer that sends us data keeps its slot through a lull (reciprocity).
    if (!this.seeding && p.downloadRate > 0) return false;
    if (p.lastRequestAt === -Infinity) return now - p.unchokedAt >= this.probeMs;
    return now - Math.max(p.unchokedAt, p.lastRequestAt) >= this.idleMs;
  }

  /** Records idle slot holders (they are choked by this round) and ends finished backoffs. */
  private noteIdle(peers: readonly ChokerPeer[], now: number): void {
    for (const p of peers) {
      if (this.idle(p, now) && p.interested) (this.idleChoked ??= new Map()).set(p.key, now);
      const since = this.idleChoked?.get(p.key);
      // A peer that lost interest ends its backoff: interest again (e.g. it wants files it had
      // skipped) is a new need, and a choked peer cannot show it by requesting.
      // So is a fresh `interested` after the idle choke: a quick lose-and-regain between two
      // rounds is never seen as "not interested" (it left a re-wanting leecher choked 60 s).
      if (
        since !== undefined &&
        (now - since >= this.backoffMs ||
          p.lastRequestAt > since ||
          !p.interested ||
          (p.interestedAt ?? -Infinity) > since)
      )
        this.idleChoked?.delete(p.key);
    }
  }

  /** May hold a slot now: interested, not wasting an unchoke, not backing off after one. */
  private eligible(p: ChokerPeer, now: number): boolean {
    return p.interested && !this.idle(p, now) && !this.idleChoked?.has(p.key);
  }

  private candidates(peers: readonly ChokerPeer[], now: number): ChokerPeer[] {
    return peers.filter((p) => !p.snubbed && this.eligible(p, now));
  }

  private quotaDone(p: ChokerPeer, now: number): boolean {
    return (
      !p.amChoking && p.uploadedSinceUnchoke >= this.quota && now - p.unchokedAt >= this.quotaMinUnchokedMs
    );
  }

  /** Negative when `a` deserves a regular slot more than `b`. */
  private compare(a: ChokerPeer, b: ChokerPeer, now: number, seeding: boolean): number {
    if (!seeding && a.downloadRate !== b.downloadRate) return b.downloadRate - a.downloadRate;
    // Peers that asked us for data before rank above untried ones: a regular slot is not handed
    // to an unknown (which may never ask) while a proven one waits; unknowns get free slots,
    // released ones and the optimistic slot.
    const ta = a.lastRequestAt > -Infinity;
    const tb = b.lastRequestAt > -Infinity;
    if (ta !== tb) return ta ? -1 : 1;
    const qa = this.quotaDone(a, now);
    const qb = this.quotaDone(b, now);
    if (qa !== qb) return qa ? 1 : -1;
    // Choked peers count as 0: a residual transfer after a choke must not rank them first.
    const ua = a.amChoking ? 0 : a.uploadRate;
    const ub = b.amChoking ? 0 : b.uploadRate;
    if (ua !== ub) return ub - ua;
    return this.waitingOrder(a, b, now);
  }

  /**
   * Who gets a free slot first: a peer that just asked for data (a request while choked), then
   * the one waiting longest since its last unchoke (never unchoked first), newest connection
   * first among those (a newcomer is served before peers that had their chance).
   */
  private waitingOrder(a: ChokerPeer, b: ChokerPeer, now: number): number {
    const ra = a.amChoking && now - a.lastRequestAt < this.idleMs;
    const rb = b.amChoking && now - b.lastRequestAt < this.idleMs;
    if (ra !== rb) return ra ? -1 : 1;
    if (a.unchokedAt !== b.unchokedAt) return a.unchokedAt < b.unchokedAt ? -1 : 1;
    return b.connectedAt - a.connectedAt;
  }

  /** libtorrent's rate-based slot count over our current upload rates (at least 1). */
  private rateBasedSlots(peers: readonly ChokerPeer[]): number {
    const rates = peers
      .filter((p) => !p.amChoking)
      .map((p) => p.uploadRate)
      .sort((a, b) => b - a);
    let slots = 0;
    let threshold = RATE_THRESHOLD_START;
    for (const r of rates) {
      if (r < threshold) break;
      slots++;
      threshold += RATE_THRESHOLD_STEP;
    }
    return Math.min(this.maxAuto, slots + 1);
  }

  private chooseOptimistic(
    peers: readonly ChokerPeer[],
    taken: Set<PeerKey>,
    now: number,
  ): PeerKey | undefined {
    const candidates = peers.filter((p) => this.eligible(p, now) && !taken.has(p.key));
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

function normalizeSlots(n: SlotSetting): SlotSetting {
  return n === 'auto' ? 'auto' : Math.max(0, Math.floor(n));
}
