/**
 * A Node Readable over a byte range of one torrent file that may start before its data exists
 * (anacrolix/torrent's Reader, libtorrent's streaming with piece deadlines). It reads what is on
 * disk; for a missing piece it sets a window of time-critical pieces ahead of its position (the
 * closest first) in the torrent's PieceDeadlines and waits for `piece-hash-pass` (had = verified
 * and written, so reading right after is safe). Destroying the stream releases its window; a seek
 * is a new stream.
 */
import { Readable } from 'node:stream';
import { NbtError } from '../util/errors.js';
import type { Torrent } from '../torrent/torrent.js';
import type { PieceDeadline } from '../torrent/deadlines.js';

export interface FileReadOptions {
  /** First byte of the file to read (default 0). */
  start?: number;
  /** Last byte to read, inclusive like fs.createReadStream (default: the file's last byte). */
  end?: number;
  /** Bytes ahead of the position made time-critical (default: 8 MiB, at least 2 pieces). */
  readahead?: number;
  /** Deadline spacing between consecutive pieces of the window (ms, default 500). */
  pieceIntervalMs?: number;
}

/** Largest chunk pushed at once. */
const CHUNK = 256 * 1024;

export class FileReadStream extends Readable {
  /** Next file-relative byte to push. */
  private pos: number;
  /** File-relative end, exclusive. */
  private readonly stop: number;
  private readonly first: number;
  private readonly last: number;
  private readonly windowPieces: number;
  private readonly interval: number;
  private waitingFor = -1;
  private windowAt = -1;
  private reading = false;
  private readonly onPiece = (piece: number): void => {
    if (piece === this.waitingFor) {
      this.waitingFor = -1;
      this.pump();
    }
  };
  private readonly onError = (e: Error): void => {
    this.destroy(e);
  };

  constructor(
    private readonly torrent: Torrent,
    /** Torrent-relative offset of the file's first byte. */
    private readonly fileOffset: number,
    fileLength: number,
    opts: FileReadOptions = {},
  ) {
    super({ highWaterMark: CHUNK });
    const start = opts.start ?? 0;
    const end = opts.end ?? fileLength - 1;
    if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(end) || end < start - 1)
      throw new NbtError('STREAM_BAD_RANGE', `bad range ${start}-${end}`);
    this.pos = start;
    this.stop = Math.min(fileLength, end + 1);
    const m = torrent.metainfo;
    this.first = this.pieceAt(this.pos);
    this.last = this.stop > this.pos ? this.pieceAt(this.stop - 1) : this.first;
    const readahead = opts.readahead ?? 8 * 1024 * 1024;
    this.windowPieces = Math.max(2, Math.ceil(readahead / m.pieceLength));
    this.interval = opts.pieceIntervalMs ?? 500;
    torrent.on('piece-hash-pass', this.onPiece);
    torrent.on('error', this.onError);
  }

  /** File-relative position of the next byte this stream will push. */
  get position(): number {
    return this.pos;
  }

  override _read(): void {
    this.pump();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.release();
    cb(err);
  }

  private release(): void {
    this.torrent.off('piece-hash-pass', this.onPiece);
    this.torrent.off('error', this.onError);
    this.torrent.deadlines.release(this);
    this.waitingFor = -1;
  }

  private pieceAt(fileByte: number): number {
    return Math.floor((this.fileOffset + fileByte) / this.torrent.metainfo.pieceLength);
  }

  private pump(): void {
    if (this.reading || this.destroyed || this.waitingFor >= 0) return;
    if (this.pos >= this.stop) {
      this.release();
      this.push(null);
      return;
    }
    const piece = this.pieceAt(this.pos);
    this.moveWindow(piece);
    if (!this.torrent.have.has(piece)) {
      this.waitingFor = piece;
      return;
    }
    // Up to the end of the piece (what is known to be on disk), the range, and one chunk.
    const m = this.torrent.metainfo;
    const pieceEnd = Math.min(m.length, (piece + 1) * m.pieceLength) - this.fileOffset;
    const n = Math.min(CHUNK, this.stop - this.pos, pieceEnd - this.pos);
    const buf = Buffer.allocUnsafe(n);
    this.reading = true;
    this.torrent
      .storage()
      .readInto(this.fileOffset + this.pos, buf)
      .then(
        () => {
          this.reading = false;
          if (this.destroyed) return;
          this.pos += n;
          if (this.push(buf)) this.pump();
        },
        (e: unknown) => {
          this.reading = false;
          this.destroy(e instanceof Error ? e : new NbtError('STORAGE_IO', String(e)));
        },
      );
  }

  /** The pieces from `piece` on that are missing, each with a deadline, the closest first. */
  private moveWindow(piece: number): void {
    if (piece === this.windowAt) return;
    this.windowAt = piece;
    const now = this.torrent.deadlines.now();
    const have = this.torrent.have;
    const window: PieceDeadline[] = [];
    const end = Math.min(this.last, piece + this.windowPieces - 1);
    for (let p = piece, i = 0; p <= end; p++, i++)
      if (!have.has(p)) window.push({ piece: p, deadline: now + i * this.interval });
    this.torrent.deadlines.set(this, window);
  }

  /** First piece of the range (for tests and stats). */
  get firstPiece(): number {
    return this.first;
  }
}
