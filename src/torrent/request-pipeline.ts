/**
 * How many requests a peer's pipeline holds: the peer's own limit (reqq) within ours, slow start
 * (one more per block received), then rate × queueSeconds worth of blocks (the bandwidth-delay
 * product), shrinking by one a second when the rate falls.
 */
import type { PeerSession } from './session.js';

/** Time-critical requests may exceed the pipeline target by this many pieces' blocks. */
export const CRITICAL_EXTRA_PIECES = 2;
/** Peers below this share of the fastest peer's rate are too slow for deadlines (libtorrent-like). */
export const CRITICAL_RATE_SHARE = 0.2;

/** The most requests the peer accepts at once (its reqq), within our own cap. */
export function pipelineCap(s: PeerSession, maxPipeline: number): number {
  const reqq = s.peer.maxRequests;
  return Math.max(1, Math.min(maxPipeline, reqq && reqq > 0 ? reqq : 250));
}

/** Once a second: ends slow start when the rate stops growing, then sizes the pipeline to the BDP. */
export function resizePipeline(
  s: PeerSession,
  now: number,
  cap: number,
  queueSeconds: number,
  blockSize: number,
): void {
  const rate = s.peer.downloadRate;
  if (s.slowStart && now - s.lastRateAt >= 1000) {
    // Slow start ends when a second of growth no longer raises the rate by 10 %.
    if (s.lastRate > 0 && rate < s.lastRate * 1.1) s.slowStart = false;
    s.lastRate = rate;
    s.lastRateAt = now;
  }
  if (!s.slowStart) {
    const bdp = Math.ceil((rate * queueSeconds) / blockSize);
    s.target = Math.max(2, Math.min(cap, Math.max(bdp, s.target > bdp ? s.target - 1 : bdp)));
  }
}
