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
}

/** A part of one file that a byte range of the torrent covers. */
export interface FileSlice {
  /** Index into `files`. */
  file: number;
  /** Offset inside that file. */
  offset: number;
  length: number;
}

/** A parsed and validated torrent (BEP 3 single/multi-file, v1 or the v1 part of a hybrid). */
export interface Metainfo {
  /** The torrent's identity: v1 (SHA-1) and, for a hybrid, v2 (SHA-256) of the info dictionary. */
  infoHashes: InfoHashes;
  /** The 20 bytes used on the wire: SHA-1 of the info dictionary's original bytes. */
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
  /** Concatenated 20-byte piece hashes. */
  pieces: Buffer;
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
  /** The 20-byte SHA-1 expected for piece `i`. */
  pieceHash(i: number): Buffer;
  /** Size of piece `i` (all pieces are pieceLength except the last). */
  pieceSize(i: number): number;
  /** Byte range [start, end) of piece `i` in the torrent's data. */
  pieceRange(i: number): { start: number; end: number };
  /** The file parts that the byte range [start, end) of the torrent covers, in order (pad files included). */
  slices(start: number, end: number): FileSlice[];
}
