/**
 * BEP 12 announce scheduling as a pure state machine: time and results in, decisions out.
 * Each tier is shuffled once; an announce walks the tiers in order and each tier's trackers in
 * order, skipping trackers still backing off; a tracker that answers moves to the front of its
 * tier. Events are queued so `started` and `completed` each reach one tracker exactly once.
 */
import type { AnnounceEvent, AnnounceResponse } from './types.js';

export interface SchedulerOptions {
  /** Randomness for the one-time tier shuffle (tests pass a seeded PRNG). */
  random?: () => number;
  /** Interval used until a tracker tells us one (default 30 min). */
  defaultIntervalMs?: number;
  /** Shortest interval honoured, whatever the tracker says (default 60 s). */
  minIntervalFloorMs?: number;
  /** Longest interval honoured (default 2 h). */
  maxIntervalMs?: number;
  /** First failure backoff; doubles per consecutive failure (default 15 s). */
  backoffBaseMs?: number;
  /** Backoff cap (default 30 min). */
  backoffMaxMs?: number;
}

export interface TrackerState {
  readonly url: string;
  readonly tier: number;
  failures: number;
  /** Not tried before this time after a failure. */
  retryAt: number;
  lastAnnounce: number | undefined;
  lastError: string | undefined;
  lastWarning: string | undefined;
  seeders: number | undefined;
  leechers: number | undefined;
  intervalMs: number | undefined;
  minIntervalMs: number | undefined;
  trackerId: string | undefined;
  /** Answered since start, so it must hear `stopped`. */
  joined: boolean;
}

export type Decision =
  | { kind: 'announce'; url: string; event: AnnounceEvent; trackerId: string | undefined }
  | { kind: 'wait'; at: number }
  /** An announce is in flight; report its result first. */
  | { kind: 'busy' }
  /** Not started, stopped, or no trackers. */
  | { kind: 'idle' };

export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}

export class AnnounceScheduler {
  readonly tiers: TrackerState[][];
  private readonly defaultIntervalMs: number;
  private readonly minIntervalFloorMs: number;
  private readonly maxIntervalMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private running = false;
  private queue: AnnounceEvent[] = [];
  private completedQueued = false;
  private dueAt = Infinity;
  private tried = new Set<TrackerState>();
  private inFlight: { tracker: TrackerState; event: AnnounceEvent } | undefined;
  private working: TrackerState | undefined;

  constructor(tiers: readonly (readonly string[])[], o: SchedulerOptions = {}) {
    const random = o.random ?? Math.random;
    this.defaultIntervalMs = o.defaultIntervalMs ?? 30 * 60_000;
    this.minIntervalFloorMs = o.minIntervalFloorMs ?? 60_000;
    this.maxIntervalMs = o.maxIntervalMs ?? 2 * 3600_000;
    this.backoffBaseMs = o.backoffBaseMs ?? 15_000;
    this.backoffMaxMs = o.backoffMaxMs ?? 30 * 60_000;
    const seen = new Set<string>();
    this.tiers = [];
    for (const tier of tiers) {
      const urls = tier.filter((u) => !seen.has(u) && (seen.add(u), true));
      if (urls.length === 0) continue;
      // BEP 12: shuffle each tier once, when the torrent is loaded.
      for (let i = urls.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [urls[i], urls[j]] = [urls[j]!, urls[i]!];
      }
      const index = this.tiers.length;
      this.tiers.push(urls.map((url) => newState(url, index)));
    }
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** When the next regular announce is due (Infinity when not scheduled). */
  get nextAnnounceAt(): number {
    return this.dueAt;
  }

  /** The tracker that answered last, if any. */
  get current(): TrackerState | undefined {
    return this.working;
  }

  all(): TrackerState[] {
    return this.tiers.flat();
  }

  start(now: number): void {
    if (this.running) return;
    this.running = true;
    this.queue = ['started'];
    this.tried.clear();
    this.dueAt = now;
  }

  /** The download finished: `completed` is announced once per scheduler, however often this is called. */
  completed(now: number): void {
    if (this.completedQueued) return;
    this.completedQueued = true;
    if (!this.running) return;
    this.queue.push('completed');
    this.dueAt = Math.min(this.dueAt, now);
  }

  /** Announce soon, but not before the tracker's min interval since the last announce. */
  announceNow(now: number): void {
    if (!this.running) return;
    const w = this.working;
    const earliest =
      w?.lastAnnounce !== undefined ? w.lastAnnounce + (w.minIntervalMs ?? this.minIntervalFloorMs) : now;
    this.dueAt = Math.max(now, Math.min(this.dueAt, earliest));
  }

  /** Stops scheduling; returns the trackers that must hear `stopped` (those that answered since start). */
  stop(): TrackerState[] {
    this.running = false;
    this.queue = [];
    this.dueAt = Infinity;
    this.inFlight = undefined;
    this.tried.clear();
    const joined = this.all().filter((t) => t.joined);
    for (const t of joined) t.joined = false;
    return joined;
  }

  next(now: number): Decision {
    if (!this.running || this.tiers.length === 0) return { kind: 'idle' };
    if (this.inFlight) return { kind: 'busy' };
    if (now < this.dueAt) return { kind: 'wait', at: this.dueAt };
    for (const tier of this.tiers)
      for (const t of tier) {
        if (this.tried.has(t) || t.retryAt > now) continue;
        const event = this.queue[0] ?? 'periodic';
        this.inFlight = { tracker: t, event };
        this.tried.add(t);
        return { kind: 'announce', url: t.url, event, trackerId: t.trackerId };
      }
    // Every tracker failed this round or is backing off: wait for the first one to be retryable.
    this.tried.clear();
    let at = Infinity;
    for (const t of this.all()) at = Math.min(at, t.retryAt);
    this.dueAt = Math.max(now + 1, at);
    return { kind: 'wait', at: this.dueAt };
  }

  /** Records an answer to the in-flight announce; returns the event it carried. */
  onSuccess(url: string, now: number, r: AnnounceResponse): AnnounceEvent | undefined {
    const f = this.take(url);
    if (!f) return undefined;
    const t = f.tracker;
    t.failures = 0;
    t.retryAt = 0;
    t.lastAnnounce = now;
    t.lastError = undefined;
    t.lastWarning = r.warning;
    t.joined = true;
    if (r.seeders !== undefined) t.seeders = r.seeders;
    if (r.leechers !== undefined) t.leechers = r.leechers;
    if (r.trackerId !== undefined) t.trackerId = r.trackerId;
    t.minIntervalMs = r.minInterval !== undefined ? this.clamp(r.minInterval * 1000) : undefined;
    const interval = r.interval > 0 ? r.interval * 1000 : this.defaultIntervalMs;
    t.intervalMs = Math.max(this.clamp(interval), t.minIntervalMs ?? 0);
    const tier = this.tiers[t.tier]!;
    tier.splice(tier.indexOf(t), 1);
    tier.unshift(t);
    this.working = t;
    if (this.queue[0] === f.event) this.queue.shift();
    this.tried.clear();
    this.dueAt = this.queue.length ? now : now + t.intervalMs;
    return f.event;
  }

  /** Records a failure of the in-flight announce; the next decision tries the next tracker. */
  onFailure(url: string, now: number, reason: string, retryAfterMs?: number): void {
    const f = this.take(url);
    if (!f) return;
    const t = f.tracker;
    t.failures++;
    t.lastError = reason;
    t.retryAt =
      now + Math.max(retryAfterMs ?? 0, backoffDelay(t.failures, this.backoffBaseMs, this.backoffMaxMs));
    if (this.working === t) this.working = undefined;
  }

  private take(url: string): { tracker: TrackerState; event: AnnounceEvent } | undefined {
    const f = this.inFlight;
    if (!f || f.tracker.url !== url) return undefined;
    this.inFlight = undefined;
    return f;
  }

  private clamp(ms: number): number {
    return Math.min(this.maxIntervalMs, Math.max(this.minIntervalFloorMs, ms));
  }
}

function newState(url: string, tier: number): TrackerState {
  return {
    url,
    tier,
    failures: 0,
    retryAt: 0,
    lastAnnounce: undefined,
    lastError: undefined,
    lastWarning: undefined,
    seeders: undefined,
    leechers: undefined,
    intervalMs: undefined,
    minIntervalMs: undefined,
    trackerId: undefined,
    joined: false,
  };
}
