/**
 * .torrent parsing and validation (BEP 3, 12, 19, 27, 47). Sans-I/O: bytes in, Metainfo out,
 * NbtError METAINFO_* (or BENCODE_*) for anything malformed.
 */
import {
  decode,
  decodePrefix,
  dictGet,
  forEachListItem,
  isBytes,
  isDict,
  isInt,
  spanOf,
  type BDict,
  type BValue,
} from '../bencode/index.js';
import type { PeerAddress } from '../util/compact.js';
import { NbtError } from '../util/errors.js';
import { MERKLE_BLOCK } from '../hash/merkle.js';
import { infoHashesOf, wireInfoHash, type InfoHashes } from './info-hash.js';
import { resolveDuplicates, sanitizeComponent, utf8OrReplace } from './paths.js';
import type { FileSlice, Metainfo, TorrentFile } from './types.js';
import { mergeHybrid, parseFileTree, parsePieceLayers, v2Layout } from './v2.js';

export interface ParseOptions {
  /** Largest accepted .torrent in bytes (default 32 MiB). */
  maxSize?: number;
  /** Most pieces (default 2^22, i.e. 80 MiB of hashes... capped by maxSize anyway). */
  maxPieces?: number;
  /** Most files (default 500,000). */
  maxFiles?: number;
  /** Largest piece length (default 256 MiB). */
  maxPieceLength?: number;
}

// What real torrents need (libtorrent's defaults: 10 MB, 3,000,000 tokens): a 400,000-file
// torrent passes but costs little per file; 1,000,000 files or 64 MiB let one file cost gigabytes.
export const MAX_TORRENT_BYTES = 32 << 20;
const DEFAULTS = {
  maxSize: MAX_TORRENT_BYTES,
  maxPieces: 1 << 22,
  maxFiles: 500_000,
  maxPieceLength: 256 << 20,
};
/** The piece layers of a torrent without any (never stored: see MetainfoImpl). */
const NO_LAYERS: Map<string, Buffer> = new Map();
// Depth 100 as libtorrent's bdecode: a v2 file tree nests one dictionary per directory.
const DECODE = { allowUnsorted: true, spans: 'top' as const, maxDepth: 100, maxTokens: 3_000_000 };
// The v1 `files` list stays raw bytes and is decoded an entry at a time (see v1Files): the
// tree of 400,000 entries was most of a parse's peak memory. Depth 2 in a .torrent, 1 in a bare info.
const DECODE_TORRENT = { ...DECODE, raw: (key: string, depth: number) => depth === 2 && key === 'files' };
const DECODE_INFO = { ...DECODE, raw: (key: string, depth: number) => depth === 1 && key === 'files' };
const DECODE_FILE = { allowUnsorted: true, maxDepth: 98, maxTokens: 3_000_000 };
const MAX_PATH_COMPONENTS = 255;
const MAX_TRACKERS = 1000;
/** The path given to a pad file that has none (never written, so any name does). */
const PAD_PATH: BValue[] = [Buffer.from('.pad')];

function fail(code: string, message: string): never {
  throw new NbtError(code, `metainfo: ${message}`);
}

/** Parses a whole .torrent file. */
export function parseTorrent(buf: Uint8Array, opts: ParseOptions = {}): Metainfo {
  const o = { ...DEFAULTS, ...opts };
  if (buf.length > o.maxSize)
    fail('METAINFO_TOO_LARGE', `torrent is ${buf.length} bytes, more than ${o.maxSize}`);
  const input = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  // Bytes after the top-level dictionary are ignored, as libtorrent does (the info-hash comes
  // from the info dictionary's own bytes, so they cannot change what the torrent is).
  const root = decodePrefix(input, DECODE_TORRENT).value;
  if (!isDict(root)) fail('METAINFO_NOT_A_DICT', 'torrent is not a dictionary');
  const info = dictGet(root, 'info');
  if (!isDict(info)) fail('METAINFO_NO_INFO', 'torrent has no info dictionary');
  const span = spanOf(info)!;
  const m = buildInfo(info, input.subarray(span.start, span.end), o);
  if (m.version !== 1)
    m.pieceLayers = parsePieceLayers(dictGet(root, 'piece layers'), m.files, m.pieceLength);
  m.announce = trackerTiers(root);
  m.urlList = stringList(dictGet(root, 'url-list')).slice(0, MAX_TRACKERS);
  m.httpSeeds = stringList(dictGet(root, 'httpseeds')).slice(0, MAX_TRACKERS);
  m.nodes = nodeList(dictGet(root, 'nodes'));
  m.comment = optionalText(root, 'comment');
  m.createdBy = optionalText(root, 'created by');
  const date = dictGet(root, 'creation date');
  if (typeof date === 'number') m.creationDate = date;
  m.encoding = optionalText(root, 'encoding');
  return m;
}

/** Parses a bare info dictionary (from ut_metadata); tracker fields are empty. */
export function parseInfoDict(info: Uint8Array, opts: ParseOptions = {}): Metainfo {
  const o = { ...DEFAULTS, ...opts };
  if (info.length > o.maxSize)
    fail('METAINFO_TOO_LARGE', `info dictionary is ${info.length} bytes, more than ${o.maxSize}`);
  const input = Buffer.isBuffer(info) ? info : Buffer.from(info.buffer, info.byteOffset, info.byteLength);
  const dict = decode(input, DECODE_INFO);
  if (!isDict(dict)) fail('METAINFO_NOT_A_DICT', 'info is not a dictionary');
  return buildInfo(dict, input, o);
}

function buildInfo(info: BDict, raw: Buffer, o: typeof DEFAULTS): MetainfoImpl {
  // libtorrent reads `meta version` as an integer, anything else meaning "absent".
  const mv = dictGet(info, 'meta version');
  const version = typeof mv === 'number' ? mv : -1;
  if (version > 2) fail('METAINFO_UNKNOWN_VERSION', `meta version ${version} is not 1 or 2`);
  const fileTree = dictGet(info, 'file tree');
  if (version < 2 && isDict(fileTree))
    fail('METAINFO_NO_META_VERSION', 'info has a v2 file tree but no meta version 2');
  if (version > 0) strictEncoding(raw);
  const v2 = version === 2;
  const hashes = infoHashesOf(raw, v2);

  const pieceLength = dictGet(info, 'piece length');
  if (pieceLength === undefined) fail('METAINFO_NO_PIECE_LENGTH', 'info has no piece length');
  if (!isInt(pieceLength) || pieceLength <= 0 || pieceLength > o.maxPieceLength)
    fail(
      'METAINFO_BAD_PIECE_LENGTH',
      `piece length ${describeValue(pieceLength)} is not in 1..${o.maxPieceLength}`,
    );
  const pl = Number(pieceLength);
  if (v2 && (pl < MERKLE_BLOCK || (pl & (pl - 1)) !== 0))
    fail('METAINFO_BAD_PIECE_LENGTH', `v2 piece length ${pl} is not a power of two of at least 16 KiB`);

  const rawPieces = dictGet(info, 'pieces');
  if (rawPieces === undefined && !v2) {
    if (fileTree !== undefined)
      fail('METAINFO_NO_META_VERSION', 'info has a v2 file tree but no meta version 2');
    fail('METAINFO_NO_PIECES', 'info has no pieces');
  }
  if (rawPieces !== undefined && (!isBytes(rawPieces) || rawPieces.length % 20 !== 0))
    fail('METAINFO_BAD_PIECES', `pieces is not a multiple of 20 bytes`);
  const pieces = rawPieces ?? Buffer.alloc(0);
  if (pieces.length / 20 > o.maxPieces) fail('METAINFO_TOO_MANY_PIECES', `more than ${o.maxPieces} pieces`);

  const nameValue = preferUtf8(info, 'name');
  if (nameValue === undefined) fail('METAINFO_NO_NAME', 'info has no name');
  if (!isBytes(nameValue)) fail('METAINFO_BAD_NAME', 'name is not a string');
  // A v2 torrent without `files` or `length` is v2-only: its v1 hash means nothing.
  const hasV1Files = dictGet(info, 'files') !== undefined || dictGet(info, 'length') !== undefined;
  const infoHashes: InfoHashes = v2 && !hasV1Files ? { v2: hashes.v2! } : hashes;
  // libtorrent: a name that sanitises to nothing becomes the info-hash in hex.
  let name = sanitizeComponent(utf8OrReplace(nameValue)) ?? (infoHashes.v1 ?? infoHashes.v2!).toString('hex');

  let files: TorrentFile[];
  let multiFile: boolean;
  if (v2) {
    const tree = parseFileTree(fileTree, dictGet(info, 'files') !== undefined, o.maxFiles);
    const layout = v2Layout(tree.files, tree.single, name, pl);
    if (hasV1Files) {
      const v1 = v1Files(info, name, o);
      files = mergeHybrid(v1.files, layout);
      multiFile = v1.multiFile;
    } else {
      files = layout;
      multiFile = !tree.single;
      if (tree.single) name = files[0]!.name;
    }
    if (!files.some((f) => !f.pad)) fail('METAINFO_NO_FILES', 'file tree has no files');
  } else {
    ({ files, multiFile } = v1Files(info, name, o));
  }

  const total = files.reduce((s, f) => s + f.length, 0);
  if (total === 0) fail('METAINFO_EMPTY', 'torrent has no data (total length 0)');
  const pieceCount = Math.ceil(total / pl);
  if (pieceCount > o.maxPieces) fail('METAINFO_TOO_MANY_PIECES', `more than ${o.maxPieces} pieces`);
  if (rawPieces !== undefined && pieces.length / 20 !== pieceCount)
    fail(
      'METAINFO_PIECE_COUNT',
      `${pieces.length / 20} piece hashes for ${total} bytes in pieces of ${pl} (expected ${pieceCount})`,
    );

  const priv = dictGet(info, 'private');
  return new MetainfoImpl({
    version: !v2 ? 1 : infoHashes.v1 ? 'hybrid' : 2,
    infoHashes,
    infoHash: wireInfoHash(infoHashes),
    info: raw,
    name,
    pieceLength: pl,
    pieceCount,
    lastPieceLength: total - (pieceCount - 1) * pl,
    length: total,
    // SHA-1 pieces beside a v2-only file tree are checked (as libtorrent) but mean nothing.
    pieces: infoHashes.v1 ? pieces : Buffer.alloc(0),
    pieceLayers: NO_LAYERS,
    files,
    multiFile,
    private: priv === 1,
  });
}

/** libtorrent refuses a versioned info dict with unsorted or duplicate keys anywhere. */
function strictEncoding(raw: Buffer): void {
  try {
    decode(raw, { ...DECODE, allowUnsorted: false, spans: undefined });
  } catch (e) {
    if (e instanceof NbtError)
      fail('METAINFO_BAD_ENCODING', `a versioned info dictionary must be canonical bencode (${e.message})`);
    throw e;
  }
}

/** The v1 file list: `files` (multi-file, paths under the name) or `length` (a single file). */
function v1Files(
  info: BDict,
  name: string,
  o: typeof DEFAULTS,
): { files: TorrentFile[]; multiFile: boolean } {
  const files: TorrentFile[] = [];
  const list = dictGet(info, 'files');
  const single = dictGet(info, 'length');
  if (list === undefined) {
    if (single === undefined) fail('METAINFO_NO_LENGTH', 'info has neither length nor files');
    const length = fileLength(single, 'the file');
    files.push({ path: [name], name, length, offset: 0, pad: false, attr: attrOf(info) });
    return { files, multiFile: false };
  }
  // The decoder kept the list as its raw bytes (DECODE_TORRENT, DECODE_INFO).
  if (!isBytes(list) || list[0] !== 0x6c) fail('METAINFO_BAD_FILES', 'files is not a list');
  if (list.length === 2) fail('METAINFO_NO_FILES', 'files list is empty');
  const paths: string[][] = [];
  const pads: boolean[] = [];
  let offset = 0;
  // Directory names repeat from file to file: one string each, not one per file.
  const dirs = new Map<string, string>();
  forEachListItem(list, DECODE_FILE, (entry, i) => {
    if (i >= o.maxFiles) fail('METAINFO_TOO_MANY_FILES', `more than ${o.maxFiles} files`);
    if (!isDict(entry)) fail('METAINFO_BAD_FILES', `file ${i} is not a dictionary`);
    const attr = attrOf(entry);
    const pad = attr.includes('p');
    // As libtorrent: a BEP 47 symlink ('l') may omit its length (0), a pad file its path.
    const rawLength = dictGet(entry, 'length');
    const length = rawLength === undefined && attr.includes('l') ? 0 : fileLength(rawLength, `file ${i}`);
    const rawPath = dictGet(entry, 'path.utf-8') ?? dictGet(entry, 'path');
    const p = pad && (!Array.isArray(rawPath) || rawPath.length === 0) ? PAD_PATH : rawPath;
    if (!Array.isArray(p) || p.length === 0) fail('METAINFO_BAD_PATH', `file ${i} has no path list`);
    if (p.length > MAX_PATH_COMPONENTS)
      fail('METAINFO_BAD_PATH', `file ${i} path has more than ${MAX_PATH_COMPONENTS} components`);
    // One pass, one exactly sized array per file (a grown array keeps room for 17 elements:
    // ~150 bytes a file, 60 MB at 400,000 files). Slot 0 is for the torrent's name.
    let clean: string[] = new Array<string>(p.length + 1);
    let n = 1;
    for (let k = 0; k < p.length; k++) {
      const c = p[k]!;
      if (!isBytes(c)) fail('METAINFO_BAD_PATH', `file ${i} has a path component that is not a string`);
      let s = sanitizeComponent(utf8OrReplace(c));
      if (s === undefined) continue;
      if (k < p.length - 1) {
        const known = dirs.get(s);
        if (known === undefined) dirs.set(s, s);
        else s = known;
      }
      clean[n++] = s;
    }
    if (n === 1) clean = ['', '_'];
    else if (n < clean.length) clean = clean.slice(0, n);
    paths.push(clean);
    pads.push(pad);
    files.push({ path: [], name: '', length, offset, pad, attr });
    offset += length;
    if (offset > Number.MAX_SAFE_INTEGER) fail('METAINFO_TOO_LARGE', 'total length exceeds 2^53 bytes');
  });
  resolveDuplicates(paths, pads, 1);
  files.forEach((f, i) => {
    const full = paths[i]!;
    full[0] = name;
    f.path = full;
    f.name = full.join('/');
  });
  return { files, multiFile: true };
}

function fileLength(v: BValue | undefined, what: string): number {
  if (v === undefined) fail('METAINFO_NO_LENGTH', `${what} has no length`);
  if (typeof v === 'bigint') {
    if (v < 0n) fail('METAINFO_BAD_LENGTH', `${what} has a negative length`);
    fail('METAINFO_TOO_LARGE', `${what} is ${v} bytes, beyond the 2^53 limit`);
  }
  if (typeof v !== 'number') fail('METAINFO_BAD_LENGTH', `${what} length is not an integer`);
  if (v < 0) fail('METAINFO_BAD_LENGTH', `${what} has a negative length ${v}`);
  return v;
}

function attrOf(d: BDict): string {
  const a = dictGet(d, 'attr');
  if (a === undefined) return '';
  return isBytes(a)
    ? a
        .toString('latin1')
        .replace(/[^a-z]/g, '')
        .slice(0, 16)
    : '';
}

/** `key.utf-8` when present (older clients wrote it beside a non-UTF-8 `key`), else `key`. */
function preferUtf8(d: BDict, key: string): BValue | undefined {
  return dictGet(d, `${key}.utf-8`) ?? dictGet(d, key);
}

function optionalText(d: BDict, key: string): string | undefined {
  const v = preferUtf8(d, key);
  return isBytes(v) ? utf8OrReplace(v) : undefined;
}

/** A string or list of strings; anything malformed is skipped, like libtorrent. */
function stringList(v: BValue | undefined): string[] {
  if (isBytes(v)) return v.length > 0 ? [utf8OrReplace(v)] : [];
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is Buffer => isBytes(x) && x.length > 0).map((x) => utf8OrReplace(x));
}

function trackerTiers(root: BDict): string[][] {
  const list = dictGet(root, 'announce-list');
  const tiers: string[][] = [];
  let count = 0;
  if (Array.isArray(list)) {
    for (const tier of list) {
      const urls = stringList(Array.isArray(tier) ? tier : undefined)
        .map((u) => u.trim())
        .filter((u) => u !== '');
      const room = MAX_TRACKERS - count;
      if (urls.length > 0 && room > 0) {
        tiers.push(urls.slice(0, room));
        count += Math.min(room, urls.length);
      }
    }
  }
  if (tiers.length > 0) return tiers;
  const single = optionalText(root, 'announce')?.trim();
  return single ? [[single]] : [];
}

function nodeList(v: BValue | undefined): PeerAddress[] {
  if (!Array.isArray(v)) return [];
  const out: PeerAddress[] = [];
  for (const n of v.slice(0, MAX_TRACKERS)) {
    if (!Array.isArray(n) || n.length !== 2) continue;
    const [host, port] = n;
    if (isBytes(host) && typeof port === 'number' && port > 0 && port < 65536)
      out.push({ host: host.toString('utf8'), port });
  }
  return out;
}

type Fields = Omit<
  Metainfo,
  | 'infoHashHex'
  | 'announce'
  | 'urlList'
  | 'httpSeeds'
  | 'nodes'
  | 'pieceHash'
  | 'pieceSize'
  | 'pieceRange'
  | 'slices'
>;

class MetainfoImpl implements Metainfo {
  version: 1 | 2 | 'hybrid';
  infoHashes: InfoHashes;
  infoHash: Buffer;
  infoHashHex: string;
  info: Buffer;
  name: string;
  pieceLength: number;
  pieceCount: number;
  lastPieceLength: number;
  length: number;
  pieces: Buffer;
  /** Made on first use: a v1 torrent never has piece layers (an empty Map is ~0.2 KB). */
  private layers: Map<string, Buffer> | undefined;
  files: TorrentFile[];
  multiFile: boolean;
  announce: string[][] = [];
  urlList: string[] = [];
  httpSeeds: string[] = [];
  nodes: PeerAddress[] = [];
  private: boolean;
  comment?: string;
  createdBy?: string;
  creationDate?: number;
  encoding?: string;

  get pieceLayers(): Map<string, Buffer> {
    return (this.layers ??= new Map());
  }
  set pieceLayers(layers: Map<string, Buffer>) {
    this.layers = layers;
  }

  constructor(f: Fields) {
    this.version = f.version;
    if (f.pieceLayers.size > 0) this.layers = f.pieceLayers;
    this.infoHashes = f.infoHashes;
    this.infoHash = f.infoHash;
    this.infoHashHex = f.infoHash.toString('hex');
    this.info = f.info;
    this.name = f.name;
    this.pieceLength = f.pieceLength;
    this.pieceCount = f.pieceCount;
    this.lastPieceLength = f.lastPieceLength;
    this.length = f.length;
    this.pieces = f.pieces;
    this.files = f.files;
    this.multiFile = f.multiFile;
    this.private = f.private;
  }

  private checkPiece(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.pieceCount)
      throw new NbtError(
        'METAINFO_BAD_PIECE_INDEX',
        `metainfo: piece ${i} is not in 0..${this.pieceCount - 1}`,
      );
  }

  pieceHash(i: number): Buffer {
    this.checkPiece(i);
    if (this.pieces.length === 0)
      throw new NbtError('METAINFO_NO_V1_PIECES', 'metainfo: a v2-only torrent has no SHA-1 piece hashes');
    return this.pieces.subarray(i * 20, i * 20 + 20);
  }

  pieceSize(i: number): number {
    this.checkPiece(i);
    return i === this.pieceCount - 1 ? this.lastPieceLength : this.pieceLength;
  }

  pieceRange(i: number): { start: number; end: number } {
    const start = i * this.pieceLength;
    return { start, end: start + this.pieceSize(i) };
  }

  slices(start: number, end: number): FileSlice[] {
    const out: FileSlice[] = [];
    const s = Math.max(0, start);
    const e = Math.min(this.length, end);
    if (s >= e) return out;
    // Binary search for the last file starting at or before s.
    let lo = 0;
    let hi = this.files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.files[mid]!.offset <= s) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i < this.files.length; i++) {
      const f = this.files[i]!;
      if (f.offset >= e) break;
      const from = Math.max(s, f.offset);
      const to = Math.min(e, f.offset + f.length);
      if (to > from) out.push({ file: i, offset: from - f.offset, length: to - from });
    }
    return out;
  }
}

/**
 * A bencoded value for an error message: numbers as they are, anything else by its kind (a
 * dictionary has no prototype to print, and a 30 MB string does not belong in a message).
 */
function describeValue(v: BValue): string {
  if (isInt(v)) return String(v);
  if (isBytes(v)) return `(a ${v.length}-byte string)`;
  return isDict(v) ? '(a dictionary)' : '(a list)';
}
