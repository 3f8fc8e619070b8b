/**
 * BEP 52 Merkle trees, pure: SHA-256 over 16 KiB blocks of one file, leaves beyond the file's
 * end are 32 zero bytes, the leaf count is padded to a power of two. A v2 piece is the subtree
 * over `blocksPerPiece` leaves; the "piece layer" is that row of the tree. The helpers here
 * serve creation, parsing (piece layer → root), piece verification and, for the wire's hash
 * request / hashes messages, layers and uncle-hash proofs of single blocks.
 */
import * as crypto from 'node:crypto';
import { createHash, type Hash } from 'node:crypto';
import { NbtError } from '../util/errors.js';

/**
 * One-shot SHA-256 (`crypto.hash`, Node ≥ 20.12): a v2 gigabyte is 65,536 leaves and as many
 * inner nodes, and a Hash object per 64-byte node cost more than the hashing. Older Node 20
 * releases fall back to createHash.
 */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;
export function sha256(data: Uint8Array): Buffer {
  return oneShot ? oneShot('sha256', data, 'buffer') : createHash('sha256').update(data).digest();
}
/** Scratch for hashPair: two nodes side by side (hashing copies its input). */
const pair = Buffer.alloc(64);

/** Leaf size: every v2 leaf hashes 16 KiB of a file (the last one may be shorter). */
export const MERKLE_BLOCK = 16 * 1024;
export const HASH_BYTES = 32;

const ZERO = Buffer.alloc(HASH_BYTES);
/** padHashes[h]: the root of an all-zero subtree 2^h leaves wide. */
const padHashes: Buffer[] = [ZERO];

function fail(message: string): never {
  throw new NbtError('MERKLE_BAD_INPUT', `merkle: ${message}`);
}

function hashPair(a: Uint8Array, b: Uint8Array): Buffer {
  if (a.length !== 32 || b.length !== 32) return createHash('sha256').update(a).update(b).digest();
  pair.set(a, 0);
  pair.set(b, 32);
  return sha256(pair);
}

/** The smallest power of two >= n (1 for n <= 1). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function log2(n: number): number {
  return Math.round(Math.log2(n));
}

function isPow2(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** The root of a subtree of 2^height zero leaves (height 0: 32 zero bytes). */
export function padHash(height: number): Buffer {
  if (!Number.isInteger(height) || height < 0 || height > 64) fail(`pad height ${height} is not in 0..64`);
  while (padHashes.length <= height) {
    const below = padHashes[padHashes.length - 1]!;
    padHashes.push(hashPair(below, below));
  }
  return padHashes[height]!;
}

/** SHA-256 of each 16 KiB block of `data` (the last block may be short; none for empty data). */
export function blockHashes(data: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += MERKLE_BLOCK)
    out.push(sha256(data.subarray(at, at + MERKLE_BLOCK)));
  return out;
}

/**
 * Every layer of a tree over `nodes` (the bottom row, given), padded to `width` nodes whose
 * missing entries are `padHash(padHeight)`; layers[0] is the padded bottom, the last is [root].
 */
export function merkleLayers(nodes: readonly Buffer[], width: number, padHeight = 0): Buffer[][] {
  if (!isPow2(width)) fail(`tree width ${width} is not a power of two`);
  if (nodes.length > width) fail(`${nodes.length} nodes do not fit a tree ${width} wide`);
  let row = [...nodes];
  let height = padHeight;
  while (row.length < width) row.push(padHash(height));
  const layers = [row];
  while (row.length > 1) {
    const up: Buffer[] = new Array<Buffer>(row.length / 2);
    for (let i = 0; i < up.length; i++) up[i] = hashPair(row[2 * i]!, row[2 * i + 1]!);
    height++;
    row = up;
    layers.push(row);
  }
  return layers;
}

/**
 * The root over `nodes` padded to `width` with pad subtrees of `padHeight`. Only the real
 * nodes are hashed: a pad-only subtree's hash comes from padHash(), so a 1-node row in a
 * 2^20-wide tree costs 20 hashes, not a million.
 */
export function merkleRoot(nodes: readonly Buffer[], width: number, padHeight = 0): Buffer {
  if (!isPow2(width)) fail(`tree width ${width} is not a power of two`);
  if (nodes.length > width) fail(`${nodes.length} nodes do not fit a tree ${width} wide`);
  if (nodes.length === 0) return padHash(padHeight + log2(width));
  let row: Buffer[] = [...nodes];
  let height = padHeight;
  for (let w = width; w > 1; w /= 2) {
    const up: Buffer[] = [];
    for (let i = 0; i < row.length; i += 2) up.push(hashPair(row[i]!, row[i + 1] ?? padHash(height)));
    row = up;
    height++;
  }
  return row[0]!;
}

/** Piece-layer hashes of a file from its block hashes: one subtree root per piece. */
export function pieceLayerOf(leaves: readonly Buffer[], blocksPerPiece: number): Buffer[] {
  if (!isPow2(blocksPerPiece)) fail(`blocks per piece ${blocksPerPiece} is not a power of two`);
  const out: Buffer[] = [];
  for (let at = 0; at < leaves.length; at += blocksPerPiece)
    out.push(merkleRoot(leaves.slice(at, at + blocksPerPiece), blocksPerPiece));
  return out;
}

/**
 * A file's `pieces root` from its block hashes: a file of at most one piece is a tree over its
 * leaves alone (padded to a power of two); a longer one, a tree over its piece layer.
 */
export function fileRootOfLeaves(leaves: readonly Buffer[], blocksPerPiece: number): Buffer {
  if (leaves.length <= blocksPerPiece) return merkleRoot(leaves, nextPow2(leaves.length));
  return rootOfPieceLayer(pieceLayerOf(leaves, blocksPerPiece), blocksPerPiece);
}

/** A file's root from its piece layer (pieces padded with all-zero piece subtrees). */
export function rootOfPieceLayer(layer: readonly Buffer[], blocksPerPiece: number): Buffer {
  return merkleRoot(layer, nextPow2(layer.length), log2(blocksPerPiece));
}

/** A concatenated piece layer (as in the .torrent's `piece layers`) cut into 32-byte hashes. */
export function splitHashes(concat: Buffer): Buffer[] {
  if (concat.length % HASH_BYTES !== 0) fail(`${concat.length} bytes are not whole 32-byte hashes`);
  const out: Buffer[] = [];
  for (let at = 0; at < concat.length; at += HASH_BYTES) out.push(concat.subarray(at, at + HASH_BYTES));
  return out;
}

/**
 * The uncle hashes proving `layers[0][index]`, bottom up (what a BEP 52 `hashes` message
 * carries after the requested base layer).
 */
export function proofOf(layers: readonly (readonly Buffer[])[], index: number): Buffer[] {
  const bottom = layers[0];
  if (!bottom || !Number.isInteger(index) || index < 0 || index >= bottom.length)
    fail(`node ${index} is not in the tree`);
  const out: Buffer[] = [];
  let i = index;
  for (let l = 0; l < layers.length - 1; l++) {
    out.push(layers[l]![i ^ 1]!);
    i >>= 1;
  }
  return out;
}

/** The root that `node` at `index` and its uncle hashes (bottom up) imply. */
export function rootFromProof(node: Buffer, index: number, uncles: readonly Buffer[]): Buffer {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** uncles.length)
    fail(`node ${index} does not fit a tree of height ${uncles.length}`);
  let h = node;
  let i = index;
  for (const u of uncles) {
    if (u.length !== HASH_BYTES) fail('an uncle hash is not 32 bytes');
    h = i % 2 === 0 ? hashPair(h, u) : hashPair(u, h);
    i = Math.floor(i / 2);
  }
  return h;
}

/** True when `block` (≤ 16 KiB of file data) is leaf `index` of the tree whose root is `root`. */
export function verifyBlock(
  block: Uint8Array,
  index: number,
  uncles: readonly Buffer[],
  root: Buffer,
): boolean {
  if (block.length > MERKLE_BLOCK) return false;
  const leaf = sha256(block);
  return rootFromProof(leaf, index, uncles).equals(root);
}

/**
 * Streams bytes of one v2 piece (or of a whole file no larger than a piece) and yields its
 * subtree root: the first `dataLength` bytes are hashed in 16 KiB leaves, bytes after them
 * (pad-file zeros in the torrent's byte stream) are ignored, and the leaves are padded to
 * `width` with zero hashes.
 */
export class MerkleHasher {
  private readonly leaves: Buffer[] = [];
  /** The leaf being hashed piecemeal (only when a block arrives split over updates). */
  private block: Hash | undefined;
  private inBlock = 0;
  private seen = 0;

  constructor(
    private readonly dataLength: number,
    private readonly width: number,
  ) {
    if (!isPow2(width)) fail(`tree width ${width} is not a power of two`);
    if (dataLength < 0 || Math.ceil(dataLength / MERKLE_BLOCK) > width)
      fail(`${dataLength} bytes do not fit ${width} leaves`);
  }

  update(data: Uint8Array): this {
    let at = 0;
    while (at < data.length && this.seen < this.dataLength) {
      const take = Math.min(data.length - at, MERKLE_BLOCK - this.inBlock, this.dataLength - this.seen);
      // A whole leaf in one piece of input (the usual case: pieces arrive whole): one-shot.
      if (this.inBlock === 0 && take === MERKLE_BLOCK) {
        this.leaves.push(sha256(data.subarray(at, at + take)));
        at += take;
        this.seen += take;
        continue;
      }
      (this.block ??= createHash('sha256')).update(data.subarray(at, at + take));
      at += take;
      this.seen += take;
      this.inBlock += take;
      if (this.inBlock === MERKLE_BLOCK) this.closeBlock();
    }
    return this;
  }

  digest(): Buffer {
    if (this.inBlock > 0) this.closeBlock();
    return merkleRoot(this.leaves, this.width);
  }

  private closeBlock(): void {
    this.leaves.push(this.block ? this.block.digest() : sha256(new Uint8Array(0)));
    this.block = undefined;
    this.inBlock = 0;
  }
}
