/**
 * What the download and upload machinery needs of one source of pieces: its choke and interest
 * state, what it has, its rates, and the few requests it understands. A wire `Peer` implements
 * it; a web seed (HTTP range requests: has every piece, never chokes, never asks for data) will
 * too. Downloader, Uploader, the choking round and the picker see only this, never a socket.
 */
import type { DisconnectInfo, DisconnectReason } from '../peer/disconnect.js';
import type { Bitfield } from '../util/bitfield.js';

export interface PeerLink {
  /** The remote host (smart ban and per-host accounting key). */
  readonly host: string;
  readonly closed: boolean;
  /** Pieces the source has (a web seed: all of them). */
  readonly bitfield: Bitfield;

  // Choke and interest, as in BEP 3: a web seed never chokes and is never interested.
  readonly amChoking: boolean;
  readonly amInterested: boolean;
  readonly peerChoking: boolean;
  readonly peerInterested: boolean;
  /** BEP 6 semantics: a choke does not drop requests; rejects are explicit. */
  readonly fastExtension: boolean;
  /** Pieces we may request while choked (BEP 6 allowed-fast). */
  readonly allowedFastSet: ReadonlySet<number>;
  /** Most requests the source accepts at once (its BEP 10 `reqq`), if it said. */
  readonly maxRequests: number | undefined;

  /** Payload bytes sent to it over this link (the choker's round-robin quota). */
  readonly uploaded: number;
  /** Payload bytes per second from / to the source. */
  readonly downloadRate: number;
  readonly uploadRate: number;
  /** Our send buffer toward it is full: serve later. */
  readonly congested: boolean;
  /** Send-path stream positions, for reusing the buffers blocks were sent from (ReadCache). */
  readonly queuedEnd?: number;
  readonly releasedEnd?: number | undefined;
  /** Clock time when the link came up (choker: newcomers). */
  readonly connectedAt: number | undefined;

  interested(): void;
  notInterested(): void;
  request(index: number, begin: number, length: number): void;
  cancel(index: number, begin: number, length: number): void;
  choke(): void;
  unchoke(): void;
  /** Tell it we have a piece (HAVE; a web seed ignores it). */
  have(index: number): void;
  /** Serve a block it asked for. */
  piece(index: number, begin: number, block: Buffer): void;
  /** Refuse a request (BEP 6). */
  reject(index: number, begin: number, length: number): void;
  close(reason?: DisconnectReason, detail?: string | Partial<DisconnectInfo>): void;
}
