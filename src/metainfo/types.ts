import type { PeerAddress } from '../util/compact.js';
import type { InfoHashes } from './info-hash.js';

/** One file of a torrent, in torrent order. */
export interface TorrentFile {
  /** Sanitised path components, safe to join under a save directory. */
  path: string[];
  /** The components joined with '/'. For a single-file torrent this is the torrent's name. */
  name: string;
  length: number;
  /** Byte offset of the file's first byte in the torrent's concatenated data. */
  offset: number;
  /** BEP 47 padding file (attr contains 'p'): zeros that are never written to disk. */
  pad: boolean;
  /** BEP 47 attribute letters as given ('x' executable, 'h' hidden, 'p' pad, 'l' symlink), or ''. */
  attr: string;
  /** BEP 52: the root of the file's Merkle tree (v2 and hybrid torrents, non-empty files). */
  piecesRoot?: Buffer;
}

/** A part of one file that a byte range of the torrent covers. */
export interface FileSlice {
  /** Index into `files`. */
  file: number;
  /** Offset inside that file. */
  offset: number;
  length: number;
}

/** A parsed and validated torrent: BEP 3 (v1), BEP 52 (v2) or both (hybrid). */
export interface Metainfo {
  /** 1: SHA-1 pieces only; 2: BEP 52 file tree only; 'hybrid': both, describing the same files. */
  version: 1 | 2 | 'hybrid';
  /** The torrent's identity: v1 (SHA-1) and, for a hybrid, v2 (SHA-256) of the info dictionary. */
  infoHashes: InfoHashes;
  /** The 20 bytes used on the wire: the v1 info-hash, or for v2-only torrents the v2 one truncated. */
  infoHash: Buffer;
  infoHashHex: string;
  /** The raw bencoded info dictionary, exactly as it appeared in the input. */
  info: Buffer;
  /** Sanitised torrent name (the file name, or the top directory of a multi-file torrent). */
  name: string;
  pieceLength: number;
  pieceCount: number;
  lastPieceLength: number;
  /** Total bytes, including pad files. */
  length: number;
  /** Concatenated 20-byte SHA-1 piece hashes; empty for a v2-only torrent. */
  pieces: Buffer;
  /**
   * BEP 52 piece layers by the hex of a file's `pieces root`: one 32-byte hash per piece, for
   * files longer than a piece (shorter files are verified against their root). Checked against
   * the roots when parsed; empty for v1, for a bare info dictionary, or when the .torrent omits
   * them (then they come from peers).
   */
  pieceLayers: Map<string, Buffer>;
  files: TorrentFile[];
  multiFile: boolean;
  /** Tracker tiers (BEP 12 announce-list, else [[announce]]); empty when there are none. */
  announce: string[][];
  /** BEP 19 web seeds. */
  urlList: string[];
  /** BEP 17 HTTP seeds (`httpseeds`: scripts answering `?info_hash=…&piece=…&ranges=…`). */
  httpSeeds: string[];
  /** DHT bootstrap nodes (BEP 5 `nodes`). */
  nodes: PeerAddress[];
  /** BEP 27 private flag. */
  private: boolean;
  comment?: string;
  createdBy?: string;
  /** Seconds since the epoch. */
  creationDate?: number;
  encoding?: string;
  /** The 20-byte SHA-1 expected for piece `i` (throws METAINFO_NO_V1_PIECES for v2-only). */
  pieceHash(i: number): Buffer;
  /** Size of piece `i` (all pieces are pieceLength except the last), pad bytes included. */
  pieceSize(i: number): number;
  /** Byte range [start, end) of piece `i` in the torrent's data. */
  pieceRange(i: number): { start: number; end: number };
  /** The file parts that the byte range [start, end) of the torrent covers, in order (pad files included). */
  slices(start: number, end: number): FileSlice[];
}
