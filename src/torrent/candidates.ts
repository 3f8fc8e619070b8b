/**
 * Addresses we may connect to, from every source (trackers, DHT, PEX, the user, resume data,
 * incoming peers' listen ports). Failed attempts back off exponentially and are dropped after a
 * few tries; banned hosts are never added.
 *
 * A tracker or a PEX peer can hand us thousands of dead addresses, so candidates are ranked,
 * not queued: the user's own peers first, then peers we had a working connection with (this
 * session or, through resume data, the last), then untried addresses, then failed ones. A full
 * list evicts its worst candidate for a better newcomer instead of dropping the newcomer, and
 * only the user's and proven peers are worth persisting. Within the untried and failed tiers,
 * once our own address is known, the BEP 40 canonical priority picks who is dialled first (the
 * same order every peer of the swarm would choose), not the order a source happened to list.
 */
import type { PeerAddress } from '../util/compact.js';
import { peerPriority } from '../peer/priority.js';
import type { PeerSource } from '../peer/types.js';
import { formatAddress } from '../util/compact.js';

/**
 * What a source told us about an address beyond host and port (PEX flags, BEP 11): the dialer
 * uses them to pick a transport (uTP first when it speaks uTP) and encryption.
 */
export interface PeerHints {
  /** Speaks uTP (BEP 29). */
  utp?: boolean;
  /** Prefers encryption (MSE). */
  encryption?: boolean;
  /** Is a seed or upload-only. */
  seed?: boolean;
  /** Someone connected out to it: it accepts incoming connections. */
  reachable?: boolean;
}

/** An address with whatever its source knew of it. */
export interface HintedAddress extends PeerAddress {
  hints?: PeerHints;
}

export interface Candidate extends PeerAddress {
  source: PeerSource;
  hints?: PeerHints;
  failures: number;
  /** Clock ms before which we do not try again. */
  retryAt: number;
  /** We had a working connection to this address (it is worth coming back to). */
  good?: boolean;
  /** BEP 40 priority against our own address (higher first), computed when first needed. */
  rank?: number;
  /** Which of our addresses `rank` was computed against (CandidateList's generation). */
  rankGen?: number;
}

/** Dial order, best first; a full list evicts from the worst tier. */
const Tier = { User: 0, Proven: 1, Untried: 2, Failed: 3 } as const;
type Tier = (typeof Tier)[keyof typeof Tier];
const TIERS = 4;

/** The longest back-off for the user's own peers, which are never given up. */
const MAX_USER_RETRY_MS = 5 * 60_000;

function tierOf(c: Candidate): Tier {
  if (c.source.kind === 'user') return Tier.User;
  if (c.good) return Tier.Proven;
  if (c.failures > 0) return Tier.Failed;
  // Resume data holds only peers that were proven last session (see addresses()).
  return c.source.kind === 'resume' ? Tier.Proven : Tier.Untried;
}

interface CandidateMaps {
  /** One insertion-ordered map per tier (oldest first within a tier). */
  readonly tiers: Map<string, Candidate>[];
  /** Which tier holds each address. */
  readonly where: Map<string, Map<string, Candidate>>;
  /** Connected or connecting addresses (not handed out again), with their hints for later. */
  readonly busy: Map<string, PeerHints | undefined>;
  /** Addresses that had a working connection, so a later close or failure keeps them proven. */
  readonly proven: Set<string>;
}

export class CandidateList {
  /**
   * Made on the first address or connection: a seed nobody dials holds none of it (six empty
   * Maps and a Set, ~1.3 KB each torrent).
   */
  private maps: CandidateMaps | undefined;
  private get m(): CandidateMaps {
    return (this.maps ??= {
      tiers: Array.from({ length: TIERS }, () => new Map()),
      where: new Map(),
      busy: new Map(),
      proven: new Set(),
    });
  }
  /** Our address as peers see it (BEP 40 ranks against it); undefined until known. */
  private self: PeerAddress | undefined;
  /** Bumped when `self` changes: ranks of older generations are stale. */
  private selfGen = 0;

  constructor(
    private readonly maxCandidates = 2000,
    private readonly maxFailures = 4,
    private readonly retryBaseMs = 15_000,
  ) {}

  get size(): number {
    return this.maps?.where.size ?? 0;
  }

  /** Addresses marked connected (for tests and stats). */
  get busyCount(): number {
    return this.maps?.busy.size ?? 0;
  }

  /** Adds addresses; returns those that were new. */
  add(addrs: readonly HintedAddress[], source: PeerSource, banned: (host: string) => boolean): PeerAddress[] {
    const added: PeerAddress[] = [];
    for (const a of addrs) {
      if (!(a.port > 0 && a.port < 65536) || banned(a.host)) continue;
      const key = formatAddress(a);
      if (this.m.busy.has(key)) {
        if (a.hints) this.m.busy.set(key, { ...this.m.busy.get(key), ...a.hints });
        continue;
      }
      const known = this.m.where.get(key)?.get(key);
      // Another source may know more (PEX flags for an address a tracker gave).
      if (known && a.hints) known.hints = { ...known.hints, ...a.hints };
      if (known) {
        // The user naming an address we already know: it moves to the front.
        if (source.kind === 'user' && known.source.kind !== 'user') {
          this.take(key);
          this.put(key, { ...known, source, retryAt: 0 });
        }
        continue;
      }
      const c: Candidate = { host: a.host, port: a.port, source, failures: 0, retryAt: 0 };
      if (a.hints) c.hints = { ...a.hints };
      if (!this.makeRoom(c)) continue;
      this.put(key, c);
      added.push({ host: a.host, port: a.port });
    }
    return added;
  }

  /**
   * Our own address as peers see it (`yourip` votes, and our listen port): candidates are
   * ranked by BEP 40 priority against it from now on.
   */
  setSelf(self: PeerAddress): void {
    if (this.self?.host === self.host && this.self.port === self.port) return;
    this.self = { host: self.host, port: self.port };
    // Ranks are recomputed lazily (a big session may hold many thousands of candidates).
    this.selfGen++;
  }

  /**
   * The best address due for a try (marked busy), or undefined: the user's first, then proven
   * ones (both in the order they came), then the untried and failed by BEP 40 priority.
   */
  next(now: number, usable: (c: Candidate) => boolean): Candidate | undefined {
    // The dialer asks every torrent on each round: 1,000 seeds without candidates would
    // otherwise allocate four Map iterators each, per round, for nothing.
    if (!this.maps || this.maps.where.size === 0) return undefined;
    for (let t = 0; t < TIERS; t++) {
      const ranked = this.self !== undefined && (t === Tier.Untried || t === Tier.Failed);
      let best: Candidate | undefined;
      let bestRank = -1;
      for (const c of this.m.tiers[t]!.values()) {
        if (c.retryAt > now) continue;
        const rank = ranked ? this.rankOf(c) : 0;
        if ((best && rank <= bestRank) || !usable(c)) continue;
        best = c;
        bestRank = rank;
        if (!ranked) break;
      }
      if (!best) continue;
      const key = formatAddress(best);
      this.take(key);
      this.m.busy.set(key, best.hints);
      return best;
    }
    return undefined;
  }

  /** Any candidate is due now. */
  hasDue(now: number): boolean {
    if (!this.maps) return false;
    for (const tier of this.m.tiers) for (const c of tier.values()) if (c.retryAt <= now) return true;
    return false;
  }

  /** The attempt failed before the handshake: retry later, or give up. */
  failed(c: Candidate, now: number): void {
    const key = formatAddress(c);
    this.m.busy.delete(key);
    c.failures++;
    const user = c.source.kind === 'user';
    if (c.failures >= this.maxFailures && !user) return;
    const delay = this.retryBaseMs * 2 ** Math.min(c.failures - 1, 16);
    c.retryAt = now + (user ? Math.min(delay, MAX_USER_RETRY_MS) : delay);
    if (this.m.where.has(key) || !this.makeRoom(c)) return;
    this.put(key, c);
  }

  /** A connection (ours or theirs) to this address exists. */
  markBusy(a: PeerAddress): void {
    const key = formatAddress(a);
    const hints = this.m.where.get(key)?.get(key)?.hints ?? this.m.busy.get(key);
    this.take(key);
    this.m.busy.set(key, hints);
    this.m.proven.add(key);
    // Bounded like everything else: the oldest proven addresses are forgotten first.
    if (this.m.proven.size > 4 * this.maxCandidates)
      this.m.proven.delete(this.m.proven.values().next().value!);
  }

  /** A connection ended: the address may be tried again later. */
  release(a: PeerAddress, source: PeerSource, now: number, retry: boolean): void {
    const key = formatAddress(a);
    const hints = this.m.busy.get(key);
    this.m.busy.delete(key);
    if (!retry || this.m.where.has(key)) return;
    const c: Candidate = {
      host: a.host,
      port: a.port,
      source,
      failures: 1,
      retryAt: now + this.retryBaseMs,
      good: this.m.proven.has(key),
    };
    if (hints) c.hints = hints;
    if (this.makeRoom(c)) this.put(key, c);
  }

  /**
   * Every known address may be tried at once: the torrent turned from seed to downloader (its
   * resume data was wrong), so the seeds it dropped as 'both seeds' are worth dialling now.
   */
  retryAllNow(now: number): void {
    if (!this.maps) return;
    for (const tier of this.m.tiers) for (const c of tier.values()) c.retryAt = Math.min(c.retryAt, now);
  }

  removeHost(host: string): void {
    if (!this.maps) return;
    for (const tier of this.m.tiers) for (const [key, c] of tier) if (c.host === host) this.take(key);
  }

  /**
   * Addresses worth persisting (resume data): the user's and those we had a working connection
   * with. Untried and failed ones are not: a tracker's junk must not outlive the session.
   */
  addresses(): PeerAddress[] {
    if (!this.maps) return [];
    const out: PeerAddress[] = [];
    for (const c of [...this.m.tiers[Tier.User]!.values(), ...this.m.tiers[Tier.Proven]!.values()])
      if (c.good || c.failures === 0 || c.source.kind === 'user') out.push({ host: c.host, port: c.port });
    return out;
  }

  /**
   * Room for one more candidate `c`: true if there is, or after evicting from a worse tier (the
   * oldest failed one; among untried ones the lowest BEP 40 priority once our address is known,
   * else the oldest). An untried newcomer may also replace an untried candidate it outranks.
   */
  private makeRoom(c: Candidate): boolean {
    if (this.m.where.size < this.maxCandidates) return true;
    const tier = tierOf(c);
    for (let worst: number = TIERS - 1; worst > tier; worst--) {
      const victim = this.victim(worst);
      if (victim) {
        this.take(victim[0]);
        return true;
      }
    }
    if (tier !== Tier.Untried || !this.self) return false;
    const victim = this.victim(Tier.Untried);
    if (!victim || this.rankOf(victim[1]) >= this.rankOf(c)) return false;
    this.take(victim[0]);
    return true;
  }

  /** The candidate of `tier` to evict first. */
  private victim(tier: number): [string, Candidate] | undefined {
    const list = this.m.tiers[tier]!;
    if (tier !== Tier.Untried || !this.self) return list.entries().next().value;
    let low: [string, Candidate] | undefined;
    for (const entry of list) if (!low || this.rankOf(entry[1]) < this.rankOf(low[1])) low = entry;
    return low;
  }

  /** The candidate's BEP 40 priority against our address (0 while that is unknown). */
  private rankOf(c: Candidate): number {
    if (!this.self) return 0;
    if (c.rankGen !== this.selfGen) {
      c.rank = peerPriority(this.self, c);
      c.rankGen = this.selfGen;
    }
    return c.rank!;
  }

  private put(key: string, c: Candidate): void {
    const tier = this.m.tiers[tierOf(c)]!;
    tier.set(key, c);
    this.m.where.set(key, tier);
  }

  private take(key: string): void {
    this.m.where.get(key)?.delete(key);
    this.m.where.delete(key);
  }
}
