/**
 * `torrent.files`: one object per (non-padding) file of a torrent with its progress, priority and
 * streaming readers (Node Readable, async iterator, web ReadableStream).
 */
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { Torrent } from '../torrent/torrent.js';
import type { TorrentFile as MetaFile } from '../metainfo/types.js';
import { FileReadStream, type FileReadOptions } from './file-reader.js';

export class TorrentFileEntry {
  readonly length: number;
  /** Byte offset of the file's first byte in the torrent. */
  readonly offset: number;

  constructor(
    private readonly torrent: Torrent,
    /** Index into the torrent's metainfo files (pad files included). */
    readonly index: number,
    meta: MetaFile,
  ) {
    this.length = meta.length;
    this.offset = meta.offset;
  }

  /** The file's path components joined with '/' (for a single-file torrent: its name), after renames. */
  get path(): string {
    return this.torrent.filePath(this.index).join('/');
  }

  /** The last path component. */
  get name(): string {
    const p = this.torrent.filePath(this.index);
    return p[p.length - 1]!;
  }

  /** Bytes of this file in pieces that are verified and on disk. */
  get downloaded(): number {
    if (this.length === 0) return 0;
    const m = this.torrent.metainfo;
    const have = this.torrent.have;
    const end = this.offset + this.length;
    const first = Math.floor(this.offset / m.pieceLength);
    const last = Math.floor((end - 1) / m.pieceLength);
    let bytes = 0;
    for (let p = first; p <= last; p++) {
      if (!have.has(p)) continue;
      const s = Math.max(this.offset, p * m.pieceLength);
      const e = Math.min(end, (p + 1) * m.pieceLength);
      bytes += e - s;
    }
    return bytes;
  }

  /** 0..1 of the file on disk. */
  get progress(): number {
    return this.length === 0 ? 1 : this.downloaded / this.length;
  }

  /** 0 = skipped, 1 normal … 7 highest. */
  get priority(): number {
    return this.torrent.filePriorities[this.index] ?? 0;
  }

  set priority(p: number) {
    this.torrent.setFilePriority(this.index, p);
  }

  /** Download this file (priority 1 unless already higher). */
  select(priority = 1): void {
    if (this.priority < priority || priority === 0) this.priority = priority;
  }

  /** Skip this file (priority 0); open readers still fetch what they read. */
  deselect(): void {
    this.priority = 0;
  }

  /**
   * A Readable of bytes [start, end] (end inclusive, like fs) of the file. It may start before
   * the data exists: it waits for the pieces it needs and makes them time-critical.
   */
  createReadStream(opts: FileReadOptions = {}): FileReadStream {
    return new FileReadStream(this.torrent, this.offset, this.length, opts);
  }

  /** The same bytes as a web ReadableStream. */
  stream(opts: FileReadOptions = {}): ReadableStream<Uint8Array> {
    return Readable.toWeb(this.createReadStream(opts)) as ReadableStream<Uint8Array>;
  }

  /** Reads the whole range into one buffer (waits for the data). */
  async arrayBuffer(opts: FileReadOptions = {}): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.createReadStream(opts)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }
}

/** The non-padding files of a torrent, as entries. */
export function torrentFiles(torrent: Torrent): TorrentFileEntry[] {
  const out: TorrentFileEntry[] = [];
  torrent.metainfo.files.forEach((f, i) => {
    if (!f.pad) out.push(new TorrentFileEntry(torrent, i, f));
  });
  return out;
}
