/**
 * BEP 52 creation, laid out as libtorrent's create_torrent does so the info-hashes agree: files
 * sorted by their path components (bytes), each file a Merkle tree over 16 KiB blocks; a
 * hybrid adds the v1 `files` list with a pad file after every non-empty file (when there is
 * more than one file) and SHA-1 pieces over that padded stream.
 */
import { open } from 'node:fs/promises';
import type { BEncodable } from '../bencode/index.js';
import { createHash } from 'node:crypto';
import { MERKLE_BLOCK, blockHashes, fileRootOfLeaves, pieceLayerOf } from '../hash/merkle.js';
import { NbtError } from '../util/errors.js';

export interface V2Source {
  abs: string;
  /** Path components below the torrent directory (for a single file: [name]). */
  rel: string[];
  length: number;
}

export interface V2Result {
  /** The info dictionary's v2 keys (and, for a hybrid, its v1 ones). */
  info: Record<string, BEncodable>;
  /** The top-level `piece layers` dictionary. */
  pieceLayers: Map<string, Buffer>;
}

const READ_CHUNK = 4 * 1024 * 1024;

/** libtorrent's order: component by component, each compared as UTF-8 bytes. */
export function sortByComponents<T extends { rel: string[] }>(files: T[]): T[] {
  const keys = new Map(files.map((f) => [f, f.rel.map((c) => Buffer.from(c, 'utf8'))]));
  return files.sort((a, b) => {
    const x = keys.get(a)!;
    const y = keys.get(b)!;
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = Buffer.compare(x[i]!, y[i]!);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  });
}

/** A bencode dictionary key for text (keys are binary strings). */
function key(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

interface FileHashes {
  root?: Buffer;
  layer?: Buffer;
  /** SHA-1 of each piece of the file, zero-padded to a whole piece when `padTail`. */
  sha1: Buffer[];
}

/**
 * Hashes one file: SHA-256 leaves (and, for a hybrid, SHA-1 pieces) in one read pass, with a
 * reused buffer of whole pieces.
 */
async function hashFile(
  f: V2Source,
  pieceLength: number,
  v1: boolean,
  padTail: boolean,
  onBytes: (n: number) => void,
): Promise<FileHashes> {
  const out: FileHashes = { sha1: [] };
  if (f.length === 0) return out;
  const chunk = Buffer.allocUnsafe(Math.max(pieceLength, Math.floor(READ_CHUNK / pieceLength) * pieceLength));
  const leaves: Buffer[] = [];
  const fh = await open(f.abs, 'r');
  try {
    for (let pos = 0; pos < f.length;) {
      const want = Math.min(chunk.length, f.length - pos);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(chunk, got, want - got, pos + got);
        if (bytesRead === 0)
          throw new NbtError('CREATE_FILE_CHANGED', `create: ${f.abs} shrank while it was hashed`);
        got += bytesRead;
      }
      const data = chunk.subarray(0, want);
      for (const h of blockHashes(data)) leaves.push(h);
      if (v1)
        for (let at = 0; at < want; at += pieceLength) {
          const piece = data.subarray(at, at + pieceLength);
          const sha = createHash('sha1').update(piece);
          if (padTail && piece.length < pieceLength) sha.update(Buffer.alloc(pieceLength - piece.length));
          out.sha1.push(sha.digest());
        }
      pos += want;
      onBytes(want);
    }
  } finally {
    await fh.close();
  }
  const blocksPerPiece = pieceLength / MERKLE_BLOCK;
  out.root = fileRootOfLeaves(leaves, blocksPerPiece);
  if (f.length > pieceLength) out.layer = Buffer.concat(pieceLayerOf(leaves, blocksPerPiece));
  return out;
}

type Tree = Map<string, Tree | Map<string, Map<string, BEncodable>>>;

function addToTree(tree: Tree, path: string[], leaf: Map<string, BEncodable>): void {
  let dir = tree;
  for (const c of path.slice(0, -1)) {
    const k = key(c);
    let sub = dir.get(k) as Tree | undefined;
    if (!sub) dir.set(k, (sub = new Map()));
    dir = sub;
  }
  dir.set(key(path[path.length - 1]!), new Map([['', leaf]]));
}

/**
 * The v2 (or hybrid) info keys for `files` (already in libtorrent's order). `multiFile`: the
 * source was a directory (paths go below the name, v1 uses `files`).
 */
export async function hashV2(
  files: V2Source[],
  multiFile: boolean,
  pieceLength: number,
  hybrid: boolean,
  onBytes: (n: number) => void,
): Promise<V2Result> {
  const tree: Tree = new Map();
  const pieceLayers = new Map<string, Buffer>();
  const v1Files: BEncodable[] = [];
  const sha1: Buffer[] = [];
  // libtorrent pads after every file only when there is more than one: a single file stays
  // unpadded so a single-file hybrid is possible.
  const padTail = files.length > 1;
  for (const f of files) {
    const h = await hashFile(f, pieceLength, hybrid, padTail, onBytes);
    const leaf = new Map<string, BEncodable>([['length', f.length]]);
    if (h.root) leaf.set('pieces root', h.root);
    addToTree(tree, f.rel, leaf);
    if (h.root && h.layer) pieceLayers.set(h.root.toString('latin1'), h.layer);
    sha1.push(...h.sha1);
    v1Files.push({ length: f.length, path: f.rel });
    const rest = f.length % pieceLength;
    if (padTail && rest !== 0) {
      const size = pieceLength - rest;
      v1Files.push({ attr: 'p', length: size, path: ['.pad', String(size)] });
    }
  }
  const info: Record<string, BEncodable> = { 'file tree': tree, 'meta version': 2 };
  if (hybrid) {
    info.pieces = Buffer.concat(sha1);
    if (multiFile) info.files = v1Files;
    else info.length = files[0]!.length;
  }
  return { info, pieceLayers };
}
