/** What a torrent keeps per connected peer, beyond what the Peer itself tracks. */
import type { BlockRef } from './picker.js';
import type { PeerLink } from './peer-link.js';

export interface InflightRequest {
  ref: BlockRef;
  sentAt: number;
}

/** We send no allowed-fast set (yet): every session shares this empty one. */
const NO_PIECES: ReadonlySet<number> = new Set();

/** The empty upload queue every idle session shares (frozen: a stray push throws). */
export const NO_BLOCKS: BlockRef[] = [];
Object.freeze(NO_BLOCKS);

/** `L`: the torrent keeps wire peers; the download/upload machinery sees any PeerLink. */
export class PeerSession<L extends PeerLink = PeerLink> {
  /** Our outstanding requests by global block id (piece * blocksPerPiece + block). */
  get inflight(): Map<number, InflightRequest> {
    return (this.inflightMap ??= new Map());
  }
  /**
   * Blocks we cancelled recently, with how many copies may still come (a block cancelled, asked
   * for again and cancelled again can arrive more than once); a piece message for them is a
   * normal race, not an offence.
   */
  get cancelled(): Map<number, number> {
    return (this.cancelledMap ??= new Map());
  }
  /** Requests outstanding (without making the map). */
  get hasRequests(): boolean {
    return this.inflightMap !== undefined && this.inflightMap.size > 0;
  }
  // Made on first use: a peer we never download from (every peer of a seed) needs neither.
  private inflightMap: Map<number, InflightRequest> | undefined;
  private cancelledMap: Map<number, number> | undefined;
  /** The remote's requests waiting to be served, in order (NO_BLOCKS, shared, while none). */
  uploadQueue: BlockRef[] = NO_BLOCKS;
  /** A block read is in progress for this peer. */
  serving = false;
  /** The listen port its address is marked connected under in the candidates (none: unknown yet). */
  busyPort: number | undefined = undefined;
  /** Request pipeline depth we aim for. */
  target = 4;
  slowStart = true;
  /** Rate at the last slow-start check and when it was taken. */
  lastRate = 0;
  lastRateAt = 0;
  /** Clock time of the last block received (or of the first request sent since). */
  lastBlockAt = 0;
  /** No block for too long while requests were outstanding: only one request at a time. */
  snubbed = false;
  /** Smoothed time from request to block (ms). */
  rttMs = 0;
  /** Blocks the peer sent that we never asked for. */
  unrequested = 0;
  /** Pieces we told the remote it may request while choked (BEP 6 allowed-fast, ours). */
  readonly allowedFastOut: ReadonlySet<number> = NO_PIECES;
  /** Clock time when we last unchoked it (choker fairness; -Infinity: never). */
  unchokedAt = -Infinity;
  /** `peer.uploaded` when we last unchoked it (the choker's round-robin quota). */
  uploadedAtUnchoke = 0;
  /** Clock time of its last request to us (-Infinity: never): the choker serves those who ask. */
  lastRequestAt = -Infinity;
  /** Clock time of its last `interested` message (-Infinity: never). */
  interestedAt = -Infinity;
  /** The peer is a seed (has every piece). */
  seed = false;
  /** Ask the picker for contiguous runs of pieces (web seeds: one HTTP range per run). */
  contiguous = false;

  constructor(
    readonly peer: L,
    readonly address: string,
    now: number,
  ) {
    this.lastBlockAt = now;
    this.lastRateAt = now;
  }
}
