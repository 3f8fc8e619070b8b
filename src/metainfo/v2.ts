/**
 * The BEP 52 parts of a torrent, following libtorrent's rules (torrent_info.cpp, load_torrent.cpp):
 * the `file tree` (nested dictionaries, a file is a dictionary whose only key is '' holding
 * `length` and `pieces root`), its piece-aligned layout (a pad file after every file that does
 * not end on a piece boundary, the last one included), the hybrid check (the v1 `files` must
 * describe the same files at the same offsets) and the `piece layers`.
 */
import { dictGet, isBytes, isDict, type BDict, type BValue } from '../bencode/index.js';
import { HASH_BYTES, MERKLE_BLOCK, rootOfPieceLayer, splitHashes } from '../hash/merkle.js';
import { NbtError } from '../util/errors.js';
import { resolveDuplicates, sanitizeComponent, utf8OrReplace } from './paths.js';
import type { TorrentFile } from './types.js';

/** libtorrent's load_torrent_limits.max_directory_depth. */
export const MAX_TREE_DEPTH = 100;

function fail(code: string, message: string): never {
  throw new NbtError(code, `metainfo: ${message}`);
}

/** One file of a v2 file tree, in tree order. */
interface TreeFile {
  /** Sanitised components below the torrent's directory (or the file's name for a single file). */
  path: string[];
  length: number;
  attr: string;
  piecesRoot?: Buffer;
}

/** BEP 47 attribute letters (lower-case only), as parse.ts reads them. */
function attrOf(d: BDict): string {
  const a = dictGet(d, 'attr');
  return isBytes(a)
    ? a
        .toString('latin1')
        .replace(/[^a-z]/g, '')
        .slice(0, 16)
    : '';
}

/** Keys in byte order (a BDict is an object: integer-like keys would come first otherwise). */
function keysInOrder(d: BDict): string[] {
  return Object.keys(d).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const ZERO_ROOT = Buffer.alloc(HASH_BYTES);

/** One file's entry; the path is only joined for an error message (this runs per file). */
function treeFile(entry: BValue, path: string[], maxFileLength: number): TreeFile {
  const where = (): string => `"${path.join('/').slice(0, 200)}"`;
  if (!isDict(entry)) fail('METAINFO_BAD_FILE_TREE', `file tree entry ${where()} is not a dictionary`);
  const attr = attrOf(entry);
  if (attr.includes('p')) fail('METAINFO_BAD_FILE_TREE', `file tree entry ${where()} is a pad file`);
  const symlink = attr.includes('l');
  const raw = symlink ? 0 : dictGet(entry, 'length');
  if (typeof raw !== 'number' || raw < 0 || raw > maxFileLength)
    fail('METAINFO_BAD_LENGTH', `file tree entry ${where()} has no valid length`);
  const file: TreeFile = { path: path.length > 0 ? path : ['_'], length: raw, attr };
  if (symlink || raw === 0) return file;
  const root = dictGet(entry, 'pieces root');
  if (!isBytes(root) || root.length !== HASH_BYTES || root.equals(ZERO_ROOT))
    fail('METAINFO_BAD_PIECES_ROOT', `file ${where()} has no 32-byte pieces root`);
  file.piecesRoot = root;
  return file;
}

/** A file node: a dictionary whose only key is ''. */
function isLeaf(node: BDict): boolean {
  let n = 0;
  for (const k in node) if (++n > 1 || k !== '') return false;
  return n === 1;
}

/**
 * The files of a `file tree`, depth first in key order. `multi` is false when the info has no
 * v1 `files` list: a tree of exactly one file at the top then describes a single-file torrent
 * (its key is the file's name, path [key]).
 */
export function parseFileTree(
  tree: BValue | undefined,
  multi: boolean,
  maxFiles: number,
): { files: TreeFile[]; single: boolean } {
  if (!isDict(tree)) fail('METAINFO_NO_FILE_TREE', 'meta version 2 needs a file tree dictionary');
  // Files are bounded by 2^53 bytes in all, and by libtorrent's 2^30 - 1 blocks each.
  const maxFileLength = Math.min(Number.MAX_SAFE_INTEGER, ((1 << 30) - 1) * MERKLE_BLOCK);
  const files: TreeFile[] = [];
  const topKeys = keysInOrder(tree);
  let single = false;
  // An explicit stack: a tree may be as deep as the decoder allows without recursion here.
  const stack: { dir: BDict; keys: string[]; at: number; path: string[] }[] = [
    { dir: tree, keys: topKeys, at: 0, path: [] },
  ];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.at >= frame.keys.length) {
      stack.pop();
      continue;
    }
    const key = frame.keys[frame.at++]!;
    const node = frame.dir[key]!;
    const name = utf8OrReplace(Buffer.from(key, 'latin1'));
    if (key === '' || !isDict(node))
      fail('METAINFO_BAD_FILE_TREE', `file tree node "${name.slice(0, 100)}" is not a named dictionary`);
    const clean = sanitizeComponent(name);
    const path = clean === undefined ? frame.path : [...frame.path, clean];
    if (isLeaf(node)) {
      if (files.length >= maxFiles) fail('METAINFO_TOO_MANY_FILES', `more than ${maxFiles} files`);
      single ||= !multi && stack.length === 1 && topKeys.length === 1;
      files.push(treeFile(node[''], path, maxFileLength));
    } else {
      if (stack.length > MAX_TREE_DEPTH)
        fail('METAINFO_TREE_TOO_DEEP', `file tree is deeper than ${MAX_TREE_DEPTH} directories`);
      const keys = keysInOrder(node);
      if (keys.length > 0) stack.push({ dir: node, keys, at: 0, path });
    }
  }
  const paths = files.map((f) => f.path);
  resolveDuplicates(paths, new Array<boolean>(files.length).fill(false));
  files.forEach((f, i) => (f.path = paths[i]!));
  return { files, single };
}

/**
 * The byte layout of a v2 torrent: the tree's files in order, each non-empty one followed by a
 * pad file up to the next piece boundary (libtorrent's file_storage does the same, tail
 * included). Paths get the torrent name in front unless the torrent is a single file.
 */
export function v2Layout(
  tree: TreeFile[],
  single: boolean,
  name: string,
  pieceLength: number,
): TorrentFile[] {
  const out: TorrentFile[] = [];
  let offset = 0;
  for (const f of tree) {
    // The tree's path arrays are ours: extended in place, not copied (this runs per file).
    const path = single ? f.path.slice(-1) : f.path;
    if (!single) path.unshift(name);
    const file: TorrentFile = {
      path,
      name: path.join('/'),
      length: f.length,
      offset,
      pad: false,
      attr: f.attr,
    };
    if (f.piecesRoot) file.piecesRoot = f.piecesRoot;
    out.push(file);
    offset += f.length;
    if (offset > Number.MAX_SAFE_INTEGER) fail('METAINFO_TOO_LARGE', 'total length exceeds 2^53 bytes');
    const rest = offset % pieceLength;
    if (rest !== 0) {
      const size = pieceLength - rest;
      const padPath = single ? ['.pad', String(size)] : [name, '.pad', String(size)];
      out.push({ path: padPath, name: padPath.join('/'), length: size, offset, pad: true, attr: 'p' });
      offset += size;
    }
  }
  return out;
}

/** Counted like libtorrent's files_compatible: only non-empty, non-pad files must match. */
function relevant(f: TorrentFile): boolean {
  return !f.pad && f.length > 0;
}

/**
 * A hybrid's v1 files must be the v2 layout (libtorrent: torrent_inconsistent_files): same
 * count, total, and the same path, length and offset for every non-empty real file at the same
 * index. A v1 list without the tail pad (older libtorrent) is accepted. Returns the v1 files
 * with each one's `pieces root`.
 */
export function mergeHybrid(v1: TorrentFile[], v2: TorrentFile[]): TorrentFile[] {
  let layout = v2;
  if (v2.length === v1.length + 1 && v2[v2.length - 1]!.pad) layout = v2.slice(0, -1);
  const total = (fs: TorrentFile[]): number => fs.reduce((s, f) => s + f.length, 0);
  const why =
    layout.length !== v1.length
      ? `${v1.length} v1 files, ${layout.length} in the v2 layout`
      : total(layout) !== total(v1)
        ? `v1 has ${total(v1)} bytes, v2 ${total(layout)}`
        : undefined;
  if (why) fail('METAINFO_HYBRID_MISMATCH', `the v1 and v2 halves describe different files (${why})`);
  return v1.map((a, i) => {
    const b = layout[i]!;
    if (
      relevant(a) !== relevant(b) ||
      (relevant(a) && (a.name !== b.name || a.length !== b.length || a.offset !== b.offset))
    )
      fail(
        'METAINFO_HYBRID_MISMATCH',
        `the v1 and v2 halves describe different files (file ${i}: "${a.name.slice(0, 100)}" ${a.length} B at ${a.offset} vs "${b.name.slice(0, 100)}" ${b.length} B at ${b.offset})`,
      );
    return b.piecesRoot ? { ...a, piecesRoot: b.piecesRoot } : a;
  });
}

/**
 * The `piece layers` of a .torrent, keyed by the hex of a file's `pieces root`: used only for
 * files longer than a piece, each exactly one 32-byte hash per piece of the file. A torrent
 * may omit them (like a magnet link). As libtorrent 2.0: a key that is not 32 bytes, a value
 * that is not whole hashes, or a layer of the wrong size for its file is refused; layers for
 * no such file are ignored. A layer that does not hash to its root (libtorrent 2.0 loads it and
 * fails later; newer versions refuse the torrent) is dropped, so its pieces wait for hashes
 * from peers instead of never verifying.
 */
export function parsePieceLayers(
  v: BValue | undefined,
  files: readonly TorrentFile[],
  pieceLength: number,
): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  // libtorrent looks for a dictionary only: anything else is as good as absent.
  if (!isDict(v)) return out;
  const pieces = new Map<string, number>();
  for (const f of files)
    if (f.piecesRoot && f.length > pieceLength)
      pieces.set(f.piecesRoot.toString('hex'), Math.ceil(f.length / pieceLength));
  const blocksPerPiece = pieceLength / MERKLE_BLOCK;
  for (const key of Object.keys(v)) {
    const layer = v[key]!;
    const hex = Buffer.from(key, 'latin1').toString('hex');
    if (key.length !== HASH_BYTES || !isBytes(layer) || layer.length % HASH_BYTES !== 0)
      fail(
        'METAINFO_BAD_PIECE_LAYERS',
        `piece layer ${hex.slice(0, 64)} is not a 32-byte root with whole hashes`,
      );
    const count = pieces.get(hex);
    if (count === undefined) continue;
    if (layer.length !== count * HASH_BYTES)
      fail(
        'METAINFO_BAD_PIECE_LAYERS',
        `piece layer ${hex} has ${layer.length / HASH_BYTES} hashes, not ${count}`,
      );
    if (rootOfPieceLayer(splitHashes(layer), blocksPerPiece).equals(Buffer.from(key, 'latin1')))
      out.set(hex, layer);
  }
  return out;
}
