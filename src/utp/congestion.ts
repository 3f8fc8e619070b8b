/**
 * uTP's congestion control and timers: LEDBAT (BEP 29, RFC 6817) as libtorrent runs it, and the
 * TCP-style RTT/RTO estimate. Pure arithmetic on byte counts, microsecond delays and ms times.
 */

/** LEDBAT's target queuing delay (libtorrent's utp_target_delay). */
export const TARGET_DELAY_US = 100_000;
/** At most this many bytes of window growth per RTT when the delay is zero (utp_gain_factor). */
export const GAIN_BYTES_PER_RTT = 3000;
/** The base delay is the minimum over this many one-minute buckets (clock drift ages it out). */
const BASE_DELAY_BUCKETS = 13;
const BUCKET_MS = 60_000;
export const MIN_RTO_MS = 500;
export const INITIAL_RTO_MS = 1000;
export const MAX_RTO_MS = 60_000;

/** True when a is before b, for 32-bit microsecond timestamps that wrap. */
function u32Less(a: number, b: number): boolean {
  return a !== b && (b - a) >>> 0 < 0x80000000;
}

/** The minimum one-way delay seen recently: what the path costs without our queue in it. */
export class BaseDelay {
  private readonly buckets: number[] = [];
  private bucketStart = 0;

  add(sampleUs: number, now: number): void {
    if (this.buckets.length === 0 || now - this.bucketStart >= BUCKET_MS) {
      this.buckets.push(sampleUs);
      if (this.buckets.length > BASE_DELAY_BUCKETS) this.buckets.shift();
      this.bucketStart = now;
      return;
    }
    const last = this.buckets.length - 1;
    if (u32Less(sampleUs, this.buckets[last]!)) this.buckets[last] = sampleUs;
  }

  /** The base delay, or undefined before any sample. */
  get value(): number | undefined {
    let min: number | undefined;
    for (const b of this.buckets) if (min === undefined || u32Less(b, min)) min = b;
    return min;
  }

  /** Queuing delay above the base, µs (0 when the sample is the base). */
  queuing(sampleUs: number): number {
    const base = this.value;
    return base === undefined ? 0 : (sampleUs - base) >>> 0;
  }
}

export interface LedbatOptions {
  packetSize: number;
  /** Floor of the window (bytes); libtorrent keeps at least one packet in flight. */
  minWindow?: number;
  /** Ceiling of the window (bytes). */
  maxWindow?: number;
}

/**
 * The congestion window. Grows with `acked` by gain × (target − queuing delay) / target, scaled
 * by the share of the window acked, so a queue at the bottleneck above 100 ms shrinks the window
 * and uTP yields to TCP. Starts in slow start (doubling per RTT) until the delay nears target,
 * a loss, or ssthresh.
 */
export class Ledbat {
  /** Bytes. */
  cwnd: number;
  slowStart = true;
  ssthresh = Infinity;
  readonly baseDelay = new BaseDelay();
  /** The last queuing delay measured, µs (for stats). */
  lastQueuingUs = 0;
  private readonly minWindow: number;
  private readonly maxWindow: number;

  constructor(private readonly o: LedbatOptions) {
    this.minWindow = o.minWindow ?? o.packetSize;
    this.maxWindow = o.maxWindow ?? 4 * 1024 * 1024;
    this.cwnd = 2 * o.packetSize;
  }

  /** Records a one-way delay sample (the peer's timestamp difference for our packets). */
  delaySample(sampleUs: number, now: number): void {
    this.baseDelay.add(sampleUs, now);
    this.lastQueuingUs = this.baseDelay.queuing(sampleUs);
  }

  /** `acked` bytes newly acknowledged, with `inFlight` bytes outstanding before the ack. */
  onAck(acked: number, inFlight: number): void {
    if (acked <= 0) return;
    const delay = Math.min(this.lastQueuingUs, 2 * TARGET_DELAY_US);
    const delayFactor = (TARGET_DELAY_US - delay) / TARGET_DELAY_US;
    const windowFactor = Math.min(acked, this.cwnd) / Math.max(this.cwnd, 1);
    const scaledGain = GAIN_BYTES_PER_RTT * delayFactor * windowFactor;
    // Only grow a window that is used: an application-limited sender must not inflate it.
    const limited = inFlight + acked < this.cwnd / 2 && scaledGain > 0;
    if (this.slowStart) {
      if (delay > TARGET_DELAY_US * 0.9) {
        this.slowStart = false;
        this.ssthresh = this.cwnd;
      } else if (!limited) {
        this.cwnd += Math.max(acked, scaledGain);
        if (this.cwnd >= this.ssthresh) this.slowStart = false;
      }
    } else if (!limited) {
      this.cwnd += scaledGain;
    }
    this.clamp();
  }

  /**
   * A packet was lost (fast retransmit), once per window (the caller checks). With a queue
   * building (delay at least half the target) it is congestion: halve. Without one the loss
   * is the path's (radio, a flaky link), not our queue's: LEDBAT already reacts to the delay
   * a real queue causes, so the window stays, and 1 % random loss does not starve the flow.
   * Timeouts still collapse the window (onTimeout).
   */
  onLoss(): void {
    if (this.lastQueuingUs < TARGET_DELAY_US / 2) return;
    this.cwnd = Math.max(this.cwnd / 2, this.minWindow);
    this.ssthresh = this.cwnd;
    this.slowStart = false;
    this.clamp();
  }

  /** A retransmission timeout: back to one packet, then slow start up to half the old window. */
  onTimeout(): void {
    this.ssthresh = Math.max(this.cwnd / 2, this.minWindow);
    this.cwnd = this.o.packetSize;
    this.slowStart = true;
  }

  private clamp(): void {
    this.cwnd = Math.min(Math.max(this.cwnd, this.minWindow), this.maxWindow);
  }
}

/** RFC 6298 smoothed RTT and RTO, from samples of packets sent once (Karn). */
export class RttEstimator {
  srtt: number | undefined;
  rttvar = 0;
  /** Consecutive timeouts: each doubles the RTO. */
  backoff = 0;

  sample(rttMs: number): void {
    if (this.srtt === undefined) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar += (Math.abs(this.srtt - rttMs) - this.rttvar) / 4;
      this.srtt += (rttMs - this.srtt) / 8;
    }
  }

  get rto(): number {
    const base = this.srtt === undefined ? INITIAL_RTO_MS : Math.max(MIN_RTO_MS, this.srtt + 4 * this.rttvar);
    return Math.min(MAX_RTO_MS, base * 2 ** this.backoff);
  }
}
