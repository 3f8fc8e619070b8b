/**
 * Serves our info dict to peers over ut_metadata: data for pieces in range, reject for the
 * rest, and reject once a peer has asked for more than a few copies of the whole (flood guard).
 */
import { NbtError } from '../util/errors.js';
import {
  encodeMetadataMessage,
  pieceCount,
  METADATA_PIECE_SIZE,
  type MetadataMessage,
} from './ut-metadata.js';

export interface MetadataServerOptions {
  /** Pieces served per peer before rejecting, as a multiple of the piece count (default 3). */
  floodFactor?: number;
}

export class MetadataServer {
  readonly size: number;
  readonly pieceCount: number;
  private readonly served = new Map<string, number>();
  private readonly maxPerPeer: number;

  /** `info` is the bencoded info dictionary exactly as hashed into the info-hash. */
  constructor(
    private readonly info: Buffer,
    options: MetadataServerOptions = {},
  ) {
    if (info.length === 0) throw new NbtError('METADATA_EMPTY', 'no metadata to serve');
    this.size = info.length;
    this.pieceCount = pieceCount(info.length);
    this.maxPerPeer = this.pieceCount * (options.floodFactor ?? 3);
  }

  /** The reply payload to a peer's message, or undefined when none is due (data, reject, unknown). */
  respond(peer: string, msg: MetadataMessage): Buffer | undefined {
    if (msg.type !== 'request') return undefined;
    const count = this.served.get(peer) ?? 0;
    if (msg.piece >= this.pieceCount || count >= this.maxPerPeer)
      return encodeMetadataMessage({ type: 'reject', piece: msg.piece });
    this.served.set(peer, count + 1);
    const start = msg.piece * METADATA_PIECE_SIZE;
    const data = this.info.subarray(start, Math.min(start + METADATA_PIECE_SIZE, this.size));
    return encodeMetadataMessage({ type: 'data', piece: msg.piece, totalSize: this.size, data });
  }

  /** Forget a disconnected peer's flood counter. */
  forget(peer: string): void {
    this.served.delete(peer);
  }
}
