/**
 * A torrent's own rate limits and bandwidth priority (Transmission's per-torrent speed limits,
 * libtorrent's per-torrent limits and priority). A peer's bytes pass the torrent's gate and, unless
 * the torrent ignores session limits, the session's gate too, where the priority weighs its turns.
 */
import { BandwidthLimiter } from '../util/bandwidth.js';
import type { Clock } from '../util/clock.js';
import { NbtError } from '../util/errors.js';

export type BandwidthPriority = 'low' | 'normal' | 'high';

export interface TorrentRateLimits {
  /** Bytes per second; 0 = unlimited. */
  download: number;
  upload: number;
  /** Share of the session's limited bandwidth while torrents compete: low ½, normal 1, high 2. */
  priority: BandwidthPriority;
  /** false: this torrent's peers bypass the session's limits (Transmission's honorsSessionLimits). */
  honorsSessionLimits: boolean;
}

const WEIGHT: Record<BandwidthPriority, number> = { low: 0.5, normal: 1, high: 2 };

export class TorrentBandwidth {
  // Made when a limit is first set: a torrent without limits of its own (most of a large
  // session's) holds no limiter, ~0.25 KB each.
  private dl: BandwidthLimiter | undefined;
  private ul: BandwidthLimiter | undefined;
  private priorityValue: BandwidthPriority = 'normal';
  private honors = true;

  constructor(private readonly clock: Clock) {}

  get download(): BandwidthLimiter {
    return (this.dl ??= new BandwidthLimiter(this.clock, 0));
  }

  get upload(): BandwidthLimiter {
    return (this.ul ??= new BandwidthLimiter(this.clock, 0));
  }

  /** The torrent's own gate for `bytes` in direction `dir` (undefined: no wait). */
  gate(dir: 'download' | 'upload', bytes: number): Promise<void> | undefined {
    const l = dir === 'download' ? this.dl : this.ul;
    return l ? l.gate(bytes) : undefined;
  }

  get limits(): TorrentRateLimits {
    return {
      download: this.dl?.rate ?? 0,
      upload: this.ul?.rate ?? 0,
      priority: this.priorityValue,
      honorsSessionLimits: this.honors,
    };
  }

  /** The turn weight in the session's limiter. */
  get weight(): number {
    return WEIGHT[this.priorityValue];
  }

  get honorsSessionLimits(): boolean {
    return this.honors;
  }

  set(limits: Partial<TorrentRateLimits>): void {
    for (const k of ['download', 'upload'] as const) {
      const v = limits[k];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0))
        throw new NbtError(
          'TORRENT_BAD_LIMIT',
          `rate limit ${k}: ${String(v)} is not a byte rate (0 = unlimited)`,
        );
    }
    if (limits.priority !== undefined && !(limits.priority in WEIGHT))
      throw new NbtError(
        'TORRENT_BAD_LIMIT',
        `bandwidth priority: ${String(limits.priority)} (low, normal or high)`,
      );
    // Unlimited needs no limiter: one is made for the first real limit.
    if (limits.download !== undefined && (limits.download > 0 || this.dl))
      this.download.setRate(limits.download);
    if (limits.upload !== undefined && (limits.upload > 0 || this.ul)) this.upload.setRate(limits.upload);
    if (limits.priority !== undefined) this.priorityValue = limits.priority;
    if (limits.honorsSessionLimits !== undefined) this.honors = limits.honorsSessionLimits;
  }

  close(): void {
    this.dl?.close();
    this.ul?.close();
  }
}
