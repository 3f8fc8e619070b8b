/**
 * Cancel bookkeeping of the download side: requests withdrawn from a peer (snub, pause, timeout,
 * a seek's preemption) are cancelled on the wire and remembered, so the copies already on their
 * way are not taken for blocks never requested.
 */
import type { BlockRef, PiecePicker } from './picker.js';
import type { PeerSession } from './session.js';

/**
 * Cancelled requests remembered per peer, so a block already on its way when we cancelled is not
 * taken for one never requested. Forgetting them all at once (as this once did past 8,192) made
 * a streaming reader's cancels of a 2,000-request pipeline look like a flood of unrequested
 * blocks: the seed was disconnected (UNREQUESTED_PIECE) three times in a 384 MiB stream.
 */
const MAX_CANCELLED = 16_384;

export function addCancelled(m: Map<number, number>, id: number): void {
  m.set(id, (m.get(id) ?? 0) + 1);
}

/** A copy of a cancelled block arrived: true (and one copy fewer expected) if one was due. */
export function takeCancelled(m: Map<number, number>, id: number): boolean {
  const n = m.get(id);
  if (!n) return false;
  if (n === 1) m.delete(id);
  else m.set(id, n - 1);
  return true;
}

/** Drops the oldest remembered cancels once there are too many (a Map keeps insertion order). */
export function trimCancelled(m: Map<number, number>): void {
  if (m.size <= MAX_CANCELLED) return;
  let drop = m.size - MAX_CANCELLED / 2;
  for (const id of m.keys()) {
    m.delete(id);
    if (--drop <= 0) break;
  }
}

/** Takes back one request: cancelled on the wire and remembered, its block free again. */
function withdraw(s: PeerSession, picker: PiecePicker, id: number, ref: BlockRef): void {
  s.inflight.delete(id);
  addCancelled(s.cancelled, id);
  picker.cancelled(s.peer, ref);
  s.peer.cancel(ref.piece, ref.offset, ref.length);
}

/** Withdraws every request to the peer (cancel on the wire when `sendCancel`). */
export function withdrawAll(s: PeerSession, picker: PiecePicker, sendCancel: boolean): void {
  if (!s.hasRequests) return; // (touching the maps would make them for every peer of a seed)
  for (const [id, req] of s.inflight) {
    picker.cancelled(s.peer, req.ref);
    addCancelled(s.cancelled, id);
    if (sendCancel && !s.peer.closed) s.peer.cancel(req.ref.piece, req.ref.offset, req.ref.length);
  }
  s.inflight.clear();
  trimCancelled(s.cancelled);
}

/**
 * A seek needs a piece nobody requested, but the peer's queue holds up to a pipeline of
 * ordinary requests (seconds at high rates) that it would serve first: cancel them so the
 * critical requests go to the front; the ordinary ones are requested again behind them.
 */
export function withdrawOrdinary(s: PeerSession, picker: PiecePicker): void {
  const crit = picker.critical;
  if (!crit || s.peer.closed) return;
  for (const [id, req] of s.inflight) {
    if (crit.has(req.ref.piece)) continue;
    withdraw(s, picker, id, req.ref);
  }
  trimCancelled(s.cancelled);
}

/**
 * Cancels the requests older than `requestTimeoutMs` (and than 8 round trips) while later ones
 * are answered; returns how many. Requests are kept in send order, so the expired ones are at
 * the front.
 */
export function expireRequests(
  s: PeerSession,
  picker: PiecePicker,
  now: number,
  requestTimeoutMs: number,
): number {
  const limit = Math.max(requestTimeoutMs, s.rttMs * 8);
  // A peer silent altogether is a snub case, handled as a whole.
  if (now - s.lastBlockAt > limit || !s.hasRequests) return 0;
  let expired = 0;
  for (const [id, req] of s.inflight) {
    if (now - req.sentAt <= limit) break;
    withdraw(s, picker, id, req.ref);
    expired++;
  }
  trimCancelled(s.cancelled);
  return expired;
}
