/**
 * Fetches a magnet torrent's metadata (the info dict) over ut_metadata, sans-I/O. Inputs:
 * peers joining with the `metadata_size` of their extension handshake, their data/reject
 * messages, and `tick()` for timeouts (time from the injected clock). Outputs: actions —
 * requests to send, peers to drop (with a reason), and completion with the verified info dict.
 *
 * Strategy: the first attempt downloads pieces from every peer that announced the most common
 * size, in parallel. If the SHA-1 does not match the info-hash, later attempts fetch the whole
 * dict from one peer at a time, so a failure names its culprit exactly; once the metadata
 * verifies, every peer whose earlier pieces differ from it is reported as a bad-data peer, and
 * every peer that announced another size as a bad-size peer.
 */
import type { Clock } from '../util/clock.js';
import { createHash } from 'node:crypto';
import { sha1 } from '../util/sha1.js';
import { NbtError } from '../util/errors.js';
import {
  DEFAULT_MAX_METADATA_SIZE,
  pieceCount,
  pieceLength,
  METADATA_PIECE_SIZE,
  type MetadataMessage,
} from './ut-metadata.js';

export type DropReason = 'bad-data' | 'bad-size' | 'unresponsive' | 'no-metadata';

export type FetcherAction =
  | { type: 'request'; peer: string; piece: number }
  | { type: 'drop'; peer: string; reason: DropReason }
  | { type: 'complete'; info: Buffer };

export interface MetadataFetcherOptions {
  /** The 20-byte wire info-hash: v1 (SHA-1 of the info dict), or a v2 hash truncated. */
  infoHash: Buffer;
  /**
   * BEP 52: the 32-byte SHA-256 of the info dict. When given the metadata must hash to it; if
   * `infoHash` is not its truncation (a hybrid's v1 hash) the SHA-1 must match as well.
   */
  infoHashV2?: Buffer;
  clock: Pick<Clock, 'now'>;
  /** Largest metadata accepted (default 8 MiB); peers announcing more are dropped. */
  maxSize?: number;
  /** A request unanswered for this long counts as a timeout (default 20 s). */
  requestTimeoutMs?: number;
  /** Timeouts after which a peer is dropped as unresponsive (default 3). */
  maxTimeouts?: number;
  /** Requests in flight per peer (default 4). */
  maxOutstandingPerPeer?: number;
  /** How long a rejected piece is not asked of the same peer again (default 30 s). */
  rejectBackoffMs?: number;
}

interface PeerState {
  size: number;
  outstanding: Map<number, number>;
  rejected: Map<number, number>;
  timeouts: number;
}

interface Attempt {
  size: number;
  pieces: (Buffer | undefined)[];
  senders: (string | undefined)[];
  /** In single-peer mode, the one peer asked for everything. */
  single: string | undefined;
}

export class MetadataFetcher {
  readonly infoHash: Buffer;
  private readonly infoHashV2: Buffer | undefined;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly maxSize: number;
  private timeoutMs: number;
  private readonly maxTimeouts: number;
  private readonly maxOutstanding: number;
  private readonly rejectBackoffMs: number;
  private readonly peers = new Map<string, PeerState>();
  private attempt: Attempt | undefined;
  /** Pieces of failed attempts, to name liars once the true metadata is known. */
  private readonly suspects: { peer: string; piece: number; size: number; digest: Buffer }[] = [];
  /** Peers already given a single-peer attempt. */
  private readonly triedAlone = new Set<string>();
  private readonly dropped = new Set<string>();
  private result: Buffer | undefined;

  constructor(options: MetadataFetcherOptions) {
    if (options.infoHash.length !== 20)
      throw new NbtError('METADATA_BAD_INFOHASH', 'info-hash must be 20 bytes');
    this.infoHash = Buffer.from(options.infoHash);
    if (options.infoHashV2 !== undefined && options.infoHashV2.length !== 32)
      throw new NbtError('METADATA_BAD_INFOHASH', 'a v2 info-hash must be 32 bytes');
    this.infoHashV2 = options.infoHashV2 && Buffer.from(options.infoHashV2);
    this.clock = options.clock;
    this.maxSize = options.maxSize ?? DEFAULT_MAX_METADATA_SIZE;
    this.timeoutMs = options.requestTimeoutMs ?? 20_000;
    this.maxTimeouts = options.maxTimeouts ?? 3;
    this.maxOutstanding = options.maxOutstandingPerPeer ?? 4;
    this.rejectBackoffMs = options.rejectBackoffMs ?? 30_000;
  }

  /** A new request timeout, for the requests in flight too (setting metadata_request_timeout). */
  setRequestTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  get complete(): boolean {
    return this.result !== undefined;
  }

  /** The verified info dict, once complete. */
  get info(): Buffer | undefined {
    return this.result;
  }

  /** Bytes received in the current attempt, and its expected total (0 before any peer). */
  get progress(): { received: number; total: number } {
    const a = this.attempt;
    if (!a) return { received: 0, total: 0 };
    return { received: a.pieces.reduce((n, p) => n + (p?.length ?? 0), 0), total: a.size };
  }

  get peerCount(): number {
    return this.peers.size;
  }

  /** A peer whose extension handshake announced ut_metadata with `metadataSize`. */
  addPeer(peer: string, metadataSize: number): FetcherAction[] {
    if (this.result || this.peers.has(peer) || this.dropped.has(peer)) return [];
    if (!Number.isInteger(metadataSize) || metadataSize <= 0 || metadataSize > this.maxSize) {
      this.dropped.add(peer);
      return [{ type: 'drop', peer, reason: 'bad-size' }];
    }
    this.peers.set(peer, { size: metadataSize, outstanding: new Map(), rejected: new Map(), timeouts: 0 });
    return this.schedule();
  }

  /** The peer disconnected; its requests go to others. */
  removePeer(peer: string): FetcherAction[] {
    if (!this.peers.delete(peer)) return [];
    return this.schedule();
  }

  /** A ut_metadata message from a peer (requests are for a MetadataServer, not handled here). */
  onMessage(peer: string, msg: MetadataMessage): FetcherAction[] {
    const p = this.peers.get(peer);
    if (!p || this.result) return [];
    if (msg.type === 'reject') {
      if (!p.outstanding.delete(msg.piece)) return [];
      p.rejected.set(msg.piece, this.clock.now());
      if (p.rejected.size >= pieceCount(p.size))
        return [...this.drop(peer, 'no-metadata'), ...this.schedule()];
      return this.schedule();
    }
    if (msg.type !== 'data') return [];
    // Unrequested data is ignored, not stored: it could be stale or forged.
    if (!p.outstanding.delete(msg.piece)) return [];
    const a = this.attempt;
    if (msg.totalSize !== p.size) return [...this.drop(peer, 'bad-size'), ...this.schedule()];
    if (!a || a.size !== p.size || msg.piece >= a.pieces.length) return this.schedule();
    if (msg.data.length !== pieceLength(a.size, msg.piece))
      return [...this.drop(peer, 'bad-data'), ...this.schedule()];
    a.pieces[msg.piece] = Buffer.from(msg.data);
    a.senders[msg.piece] = peer;
    if (a.pieces.every((x) => x !== undefined)) return this.verify(a);
    return this.schedule();
  }

  /** Expires requests older than the timeout; call every few seconds. */
  tick(): FetcherAction[] {
    if (this.result) return [];
    const now = this.clock.now();
    const out: FetcherAction[] = [];
    for (const [peer, p] of this.peers) {
      for (const [piece, at] of p.outstanding) {
        if (now - at < this.timeoutMs) continue;
        p.outstanding.delete(piece);
        p.timeouts++;
      }
      if (p.timeouts >= this.maxTimeouts) out.push(...this.drop(peer, 'unresponsive'));
    }
    return [...out, ...this.schedule()];
  }

  private verify(a: Attempt): FetcherAction[] {
    const data = Buffer.concat(a.pieces as Buffer[]);
    if (this.matches(data)) return this.finish(data);
    const out: FetcherAction[] = [];
    const contributors = new Set(a.senders as string[]);
    a.pieces.forEach((piece, i) =>
      this.suspects.push({ peer: a.senders[i]!, piece: i, size: a.size, digest: sha1(piece!) }),
    );
    if (contributors.size === 1) {
      const [culprit] = contributors;
      out.push(...this.drop(culprit!, 'bad-data'));
    }
    this.attempt = undefined;
    // If every peer of this size has had its own attempt, those that contributed are all suspect.
    const candidates = [...this.peers].filter(([peer, p]) => p.size === a.size && !this.triedAlone.has(peer));
    if (candidates.length === 0) for (const peer of contributors) out.push(...this.drop(peer, 'bad-data'));
    this.startAttempt(a.size, true);
    return [...out, ...this.schedule()];
  }

  private matches(data: Buffer): boolean {
    const v2 = this.infoHashV2;
    if (!v2) return sha1(data).equals(this.infoHash);
    if (!createHash('sha256').update(data).digest().equals(v2)) return false;
    return v2.subarray(0, 20).equals(this.infoHash) || sha1(data).equals(this.infoHash);
  }

  private finish(data: Buffer): FetcherAction[] {
    this.result = data;
    const out: FetcherAction[] = [];
    const bad = new Set<string>();
    for (const s of this.suspects) {
      const start = s.piece * METADATA_PIECE_SIZE;
      const truth =
        s.size === data.length ? data.subarray(start, start + pieceLength(data.length, s.piece)) : undefined;
      if (!truth || !sha1(truth).equals(s.digest)) bad.add(s.peer);
    }
    for (const peer of bad) out.push(...this.drop(peer, 'bad-data'));
    for (const [peer, p] of this.peers) if (p.size !== data.length) out.push(...this.drop(peer, 'bad-size'));
    this.peers.clear();
    out.push({ type: 'complete', info: data });
    return out;
  }

  private drop(peer: string, reason: DropReason): FetcherAction[] {
    if (this.dropped.has(peer)) return [];
    this.dropped.add(peer);
    this.peers.delete(peer);
    if (this.attempt?.single === peer) this.attempt.single = undefined;
    return [{ type: 'drop', peer, reason }];
  }

  /** Picks the size most peers agree on. */
  private chooseSize(): number | undefined {
    const votes = new Map<number, number>();
    for (const p of this.peers.values()) votes.set(p.size, (votes.get(p.size) ?? 0) + 1);
    let best: number | undefined;
    for (const [size, n] of votes) if (best === undefined || n > votes.get(best)!) best = size;
    return best;
  }

  private startAttempt(size: number, single: boolean): void {
    const n = pieceCount(size);
    this.attempt = {
      size,
      pieces: new Array<Buffer | undefined>(n).fill(undefined),
      senders: new Array<string | undefined>(n).fill(undefined),
      single: undefined,
    };
    for (const p of this.peers.values()) p.outstanding.clear();
    if (single) this.pickSingle();
  }

  private pickSingle(): void {
    const a = this.attempt!;
    const next = [...this.peers].find(([peer, p]) => p.size === a.size && !this.triedAlone.has(peer));
    if (next) {
      a.single = next[0];
      this.triedAlone.add(next[0]);
    }
  }

  private schedule(): FetcherAction[] {
    if (this.result) return [];
    let a = this.attempt;
    const sizeHasPeers = (size: number): boolean => [...this.peers.values()].some((p) => p.size === size);
    if (a && !sizeHasPeers(a.size)) a = this.attempt = undefined;
    if (!a) {
      const size = this.chooseSize();
      if (size === undefined) return [];
      // Once any attempt has failed, stay in single-peer mode so blame stays exact.
      this.startAttempt(size, this.suspects.length > 0);
      a = this.attempt!;
    }
    if (this.suspects.length > 0 && a.single === undefined) {
      // The single peer left or was dropped: the partial pieces are its, so start over with the next.
      this.startAttempt(a.size, true);
      a = this.attempt!;
      if (a.single === undefined) {
        // Every peer of this size had its turn; drop them and let another size (if any) be tried.
        const out: FetcherAction[] = [];
        for (const [peer, p] of [...this.peers])
          if (p.size === a.size) out.push(...this.drop(peer, 'bad-data'));
        this.attempt = undefined;
        return this.peers.size > 0 ? [...out, ...this.schedule()] : out;
      }
    }
    const now = this.clock.now();
    const inFlight = new Set<number>();
    for (const p of this.peers.values()) for (const piece of p.outstanding.keys()) inFlight.add(piece);
    const eligible = [...this.peers].filter(
      ([peer, p]) => p.size === a.size && (a.single === undefined || a.single === peer),
    );
    const out: FetcherAction[] = [];
    for (let piece = 0; piece < a.pieces.length; piece++) {
      if (a.pieces[piece] || inFlight.has(piece)) continue;
      let best: [string, PeerState] | undefined;
      for (const e of eligible) {
        const [, p] = e;
        if (p.outstanding.size >= this.maxOutstanding) continue;
        const rejectedAt = p.rejected.get(piece);
        if (rejectedAt !== undefined && now - rejectedAt < this.rejectBackoffMs) continue;
        if (!best || p.outstanding.size < best[1].outstanding.size) best = e;
      }
      if (!best) continue;
      best[1].outstanding.set(piece, now);
      out.push({ type: 'request', peer: best[0], piece });
    }
    return out;
  }
}
