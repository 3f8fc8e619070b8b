/**
 * Where a torrent's bytes are on a web seed, as pure functions. BEP 19 (`url-list`): the URL of
 * each file and the HTTP byte ranges that cover a run of torrent bytes; a run that spans files
 * becomes one range per file; BEP 47 pad files are zeros we make up ourselves, never requested.
 * BEP 17 (`httpseeds`): a script URL asked for `?info_hash=…&piece=N&ranges=a-b`, one request
 * per piece a run touches.
 */
import type { StorageLayout } from '../storage/layout.js';
import { mapRange } from '../storage/layout.js';

/** What the planner needs of the torrent besides its layout. */
export interface WebSeedTorrent extends StorageLayout {
  readonly name: string;
  readonly multiFile: boolean;
  /** The v1 info-hash (BEP 17 requests name it). */
  readonly infoHash: Buffer;
}

/** One piece of a plan: bytes fetched from a file URL, or zeros of a pad file. */
export type RangeSegment =
  | {
      kind: 'http';
      /** URL of the file on the seed. */
      url: string;
      fileIndex: number;
      /** First byte inside the file, and the length (an HTTP `Range: bytes=start-(start+length-1)`). */
      fileOffset: number;
      length: number;
      /** Length of the whole file (what a Content-Range's total must say). */
      fileLength: number;
      /** Where the bytes go in the torrent's byte stream. */
      torrentOffset: number;
    }
  | { kind: 'pad'; length: number; torrentOffset: number }
  /** BEP 17: `url` asks the script for `length` bytes of one piece; a 200 body holds exactly them. */
  | { kind: 'piece'; url: string; piece: number; length: number; torrentOffset: number };

/** Percent-encodes one path component (slashes inside a component are data, not separators). */
function encodeComponent(c: string): string {
  return encodeURIComponent(c).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The URL of file `fileIndex` on the seed at `base`. BEP 19: a single-file torrent's URL names the
 * file unless it ends in '/', which asks for the torrent's name to be added; a multi-file torrent's
 * URL is a directory under which `name/path…` lies (a missing final '/' is added, as libtorrent).
 */
export function fileUrl(base: string, t: WebSeedTorrent, fileIndex: number): string {
  const f = t.files[fileIndex];
  if (!f) throw new RangeError(`no file ${fileIndex}`);
  if (!t.multiFile) return base.endsWith('/') ? base + encodeComponent(t.name) : base;
  const dir = base.endsWith('/') ? base : `${base}/`;
  // `path` starts with the torrent's name (its folder), as BEP 19 wants in the URL.
  return dir + f.path.map(encodeComponent).join('/');
}

/** The segments that cover torrent bytes [offset, offset + length), in order. */
export function planRange(base: string, t: WebSeedTorrent, offset: number, length: number): RangeSegment[] {
  const out: RangeSegment[] = [];
  for (const span of mapRange(t, offset, length)) {
    const f = t.files[span.fileIndex]!;
    if (f.pad) {
      out.push({ kind: 'pad', length: span.length, torrentOffset: span.torrentOffset });
      continue;
    }
    out.push({
      kind: 'http',
      url: fileUrl(base, t, span.fileIndex),
      fileIndex: span.fileIndex,
      fileOffset: span.fileOffset,
      length: span.length,
      fileLength: f.length,
      torrentOffset: span.torrentOffset,
    });
  }
  return out;
}

/** `%XX` for every byte: the info-hash in a BEP 17 query. */
function percentBytes(b: Buffer): string {
  let s = '';
  for (const x of b) s += `%${x.toString(16).padStart(2, '0').toUpperCase()}`;
  return s;
}

/**
 * BEP 17: the requests covering torrent bytes [offset, offset + length), one per piece, each
 * `<url>?info_hash=…&piece=N&ranges=first-last` (inclusive, inside the piece).
 */
export function planHttpSeed(
  base: string,
  t: WebSeedTorrent,
  offset: number,
  length: number,
): RangeSegment[] {
  if (offset < 0 || length <= 0 || offset + length > t.length)
    throw new RangeError(`range ${offset}+${length} outside the torrent (${t.length} bytes)`);
  const sep = base.includes('?') ? '&' : '?';
  const hash = percentBytes(t.infoHash);
  const out: RangeSegment[] = [];
  for (let pos = offset; pos < offset + length;) {
    const piece = Math.floor(pos / t.pieceLength);
    const start = piece * t.pieceLength;
    const end = Math.min(offset + length, start + t.pieceLength, t.length);
    const first = pos - start;
    const last = end - start - 1;
    out.push({
      kind: 'piece',
      url: `${base}${sep}info_hash=${hash}&piece=${piece}&ranges=${first}-${last}`,
      piece,
      length: end - pos,
      torrentOffset: pos,
    });
    pos = end;
  }
  return out;
}

/** A block of piece data, in the torrent's byte stream (piece × pieceLength + begin). */
export interface BlockSpan {
  readonly piece: number;
  readonly begin: number;
  readonly length: number;
}

/** One contiguous run of requested blocks: what one HTTP transfer (per file) fetches. */
export interface BlockRun<B extends BlockSpan = BlockSpan> {
  /** Torrent offset of the first byte. */
  offset: number;
  length: number;
  blocks: B[];
}

/**
 * Groups requested blocks (in request order) into runs of adjacent bytes, each at most
 * `maxBytes` long (a run always holds at least one block). Blocks out of order start a new run:
 * a web seed serves what it is asked in the order it was asked.
 */
export function groupRuns<B extends BlockSpan>(
  pieceLength: number,
  blocks: readonly B[],
  maxBytes: number,
): BlockRun<B>[] {
  const runs: BlockRun<B>[] = [];
  let cur: BlockRun<B> | undefined;
  for (const b of blocks) {
    const at = b.piece * pieceLength + b.begin;
    if (cur && cur.offset + cur.length === at && cur.length + b.length <= maxBytes) {
      cur.length += b.length;
      cur.blocks.push(b);
      continue;
    }
    cur = { offset: at, length: b.length, blocks: [b] };
    runs.push(cur);
  }
  return runs;
}
