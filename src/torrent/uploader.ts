/**
 * The upload side: validates the remote's requests (range, a piece we have, unchoked or
 * allowed-fast, queue limit), serves them in order from the read cache while the socket is not
 * congested, honours cancels, and rejects (Fast extension) or drops what it will not serve.
 */
import type { Metainfo } from '../metainfo/types.js';
import type { Bitfield } from '../util/bitfield.js';
import type { Message } from '../wire/index.js';
import type { ReadCache } from './read-cache.js';
import { NO_BLOCKS, type PeerSession } from './session.js';
import type { BlockRef } from './picker.js';

export interface UploaderHost {
  readonly metainfo: Metainfo;
  readonly have: Bitfield;
  readonly cache: ReadCache;
  /** Blocks may be served (not paused, stopped or in error). */
  canUpload(): boolean;
  /** Besides having it: this peer may be served the piece (super-seeding hides the rest). */
  mayServe?(s: PeerSession, piece: number): boolean;
  readFailed(piece: number, e: unknown): void;
}

/** Largest block we serve (BEP 3 says 16 KiB; some clients ask for up to 128 KiB). */
export const MAX_SERVED_BLOCK = 128 * 1024;

/**
 * Distinct pieces ahead in a peer's queue that may be read in advance. A 17-byte request costs a
 * whole-piece read; without a bound, a peer queueing 500 requests for 500 different pieces made
 * us read them all at once (500 × piece length in memory).
 */
export const MAX_PREFETCH_PIECES = 4;

export class Uploader {
  /** Payload bytes sent this session. */
  sent = 0;

  constructor(
    private readonly host: UploaderHost,
    /** Most queued requests per peer (matches the reqq we advertise). */
    private readonly maxQueue = 500,
  ) {}

  onMessage(s: PeerSession, m: Message): void {
    if (m.type === 'request') this.onRequest(s, { piece: m.index, offset: m.begin, length: m.length });
    else if (m.type === 'cancel') this.onCancel(s, m.index, m.begin, m.length);
  }

  private onRequest(s: PeerSession, ref: BlockRef): void {
    const m = this.host.metainfo;
    const valid =
      Number.isInteger(ref.piece) &&
      ref.piece >= 0 &&
      ref.piece < m.pieceCount &&
      ref.length > 0 &&
      ref.length <= MAX_SERVED_BLOCK &&
      ref.offset >= 0 &&
      ref.offset + ref.length <= m.pieceSize(ref.piece);
    const allowed = !s.peer.amChoking || s.allowedFastOut.has(ref.piece);
    if (
      !valid ||
      !this.host.have.has(ref.piece) ||
      this.host.mayServe?.(s, ref.piece) === false ||
      !allowed ||
      !this.host.canUpload() ||
      s.uploadQueue.length >= this.maxQueue
    ) {
      this.refuse(s, ref);
      return;
    }
    // The same block asked for again while still queued: ignored (as libtorrent does), so a
    // peer repeating one request 500 times gets one block, not 500 of our upload capacity.
    if (
      s.uploadQueue.some((r) => r.piece === ref.piece && r.offset === ref.offset && r.length === ref.length)
    )
      return;
    if (s.uploadQueue === NO_BLOCKS) s.uploadQueue = [ref];
    else s.uploadQueue.push(ref);
    // Start reading the piece now so it is in memory by the time its turn comes (only a few
    // pieces ahead: the rest are read when they reach the head of the queue).
    if (s.uploadQueue.length > 1 && prefetchable(s.uploadQueue))
      this.host.cache.get(ref.piece).catch(() => undefined);
    this.pump(s);
  }

  private onCancel(s: PeerSession, piece: number, offset: number, length: number): void {
    const i = s.uploadQueue.findIndex((r) => r.piece === piece && r.offset === offset && r.length === length);
    if (i < 0) return;
    const [ref] = s.uploadQueue.splice(i, 1);
    // BEP 6: a cancelled request is answered with a reject.
    if (s.peer.fastExtension) s.peer.reject(ref!.piece, ref!.offset, ref!.length);
  }

  /** We choked the peer: its queued requests (except allowed-fast ones) are dropped or rejected. */
  choked(s: PeerSession): void {
    if (s.uploadQueue.length === 0) return;
    const keep: BlockRef[] = [];
    for (const r of s.uploadQueue) {
      if (s.allowedFastOut.has(r.piece)) keep.push(r);
      else this.refuse(s, r);
    }
    s.uploadQueue = keep.length > 0 ? keep : NO_BLOCKS;
  }

  /** Drops every queued request (pause / stop). */
  clear(s: PeerSession): void {
    for (const r of s.uploadQueue) this.refuse(s, r);
    s.uploadQueue = NO_BLOCKS;
  }

  private refuse(s: PeerSession, ref: BlockRef): void {
    if (s.peer.fastExtension && !s.peer.closed) s.peer.reject(ref.piece, ref.offset, ref.length);
  }

  /** Serves queued requests until the queue is empty or the socket is congested. */
  pump(s: PeerSession): void {
    if (s.serving) return;
    s.serving = true;
    void this.serve(s).finally(() => {
      s.serving = false;
    });
  }

  private async serve(s: PeerSession): Promise<void> {
    const peer = s.peer;
    while (s.uploadQueue.length > 0 && !peer.closed && !peer.congested && this.host.canUpload()) {
      const ref = s.uploadQueue[0]!;
      let data: Buffer;
      try {
        data = await this.host.cache.get(ref.piece);
      } catch (e) {
        s.uploadQueue.shift();
        this.refuse(s, ref);
        this.host.readFailed(ref.piece, e);
        return;
      }
      // A cancel or choke may have removed it while we were reading.
      if (s.uploadQueue[0] !== ref) continue;
      s.uploadQueue.shift();
      if (peer.closed) return;
      peer.piece(ref.piece, ref.offset, data.subarray(ref.offset, ref.offset + ref.length));
      this.host.cache.lend(data, peer);
      this.sent += ref.length;
    }
  }
}

/** True when the last queued request starts a new piece that is among the first few distinct ones. */
function prefetchable(queue: readonly BlockRef[]): boolean {
  const last = queue[queue.length - 1]!;
  if (queue[queue.length - 2]!.piece === last.piece) return false; // already being read
  let runs = 1;
  for (let i = 1; i < queue.length; i++)
    if (queue[i]!.piece !== queue[i - 1]!.piece && ++runs > MAX_PREFETCH_PIECES) return false;
  return true;
}
