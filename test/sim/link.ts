/**
 * One direction of a link: a drop-tail queue in front of a serialiser (bandwidth), then
 * propagation delay, with random loss, reordering and duplication. The queue is not a list:
 * a FIFO serialiser's backlog is exactly (busyUntil - now) × rate, so each packet costs one
 * event (its arrival), however long the queue.
 */
import type { Simulation } from './scheduler.js';
import type { Prng } from './prng.js';

export interface LinkParams {
  /** One-way propagation delay in ms. */
  latencyMs: number;
  /** Line rate in bits/s; 0 = unlimited (no serialisation delay). */
  bitsPerSecond: number;
  /**
   * Drop-tail limit: bytes waiting for (or in) serialisation. 0 (the default) sizes it to
   * 100 ms at the line rate, at least 64 KiB — a router's buffer, not a bloated modem's.
   */
  queueBytes: number;
  /** Probability that a packet is lost after the queue (0..1). */
  loss: number;
  /** Probability that a packet is held back by up to `reorderDelayMs` (later ones overtake it). */
  reorder: number;
  reorderDelayMs: number;
  /** Probability that a packet arrives twice. */
  duplicate: number;
}

export const defaultLinkParams: LinkParams = {
  latencyMs: 10,
  bitsPerSecond: 0,
  queueBytes: 0,
  loss: 0,
  reorder: 0,
  reorderDelayMs: 5,
  duplicate: 0,
};

export const mbit = (n: number): number => n * 1_000_000;

export interface LinkStats {
  packets: number;
  bytes: number;
  /** Refused by the full queue. */
  queueDrops: number;
  /** Lost on the wire (the `loss` probability). */
  lost: number;
  reordered: number;
  duplicated: number;
  /** Largest backlog seen, in bytes. */
  maxBacklog: number;
}

export class Link {
  readonly stats: LinkStats = {
    packets: 0,
    bytes: 0,
    queueDrops: 0,
    lost: 0,
    reordered: 0,
    duplicated: 0,
    maxBacklog: 0,
  };
  private busyUntil = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly rng: Prng,
    public params: LinkParams,
  ) {}

  /** Bytes queued or being serialised right now. */
  get backlog(): number {
    const rate = this.params.bitsPerSecond;
    if (rate <= 0) return 0;
    return (Math.max(0, this.busyUntil - this.sim.now()) * rate) / 8000;
  }

  /**
   * Puts `bytes` on the link; `arrive` runs at the far end when (and as often as) it gets
   * there. Returns false when the queue dropped it.
   */
  send(bytes: number, arrive: () => void): boolean {
    const p = this.params;
    const now = this.sim.now();
    let departs = now;
    if (p.bitsPerSecond > 0) {
      const backlog = this.backlog;
      const limit = p.queueBytes > 0 ? p.queueBytes : Math.max(64 << 10, p.bitsPerSecond / 80);
      if (backlog + bytes > limit && backlog > 0) {
        this.stats.queueDrops++;
        return false;
      }
      this.busyUntil = Math.max(now, this.busyUntil) + (bytes * 8000) / p.bitsPerSecond;
      departs = this.busyUntil;
      this.stats.maxBacklog = Math.max(this.stats.maxBacklog, backlog + bytes);
    }
    this.stats.packets++;
    this.stats.bytes += bytes;
    if (this.rng.chance(p.loss)) {
      this.stats.lost++;
      return true;
    }
    let at = departs + p.latencyMs;
    if (this.rng.chance(p.reorder)) {
      this.stats.reordered++;
      at += this.rng.next() * p.reorderDelayMs;
    }
    this.sim.at(at, arrive);
    if (this.rng.chance(p.duplicate)) {
      this.stats.duplicated++;
      this.sim.at(at + 0.001, arrive);
    }
    return true;
  }
}
