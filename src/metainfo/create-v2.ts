/**
 * BEP 52 creation, laid out as libtorrent's create_torrent does so the info-hashes agree: files
 * sorted by their path components (bytes), each file a Merkle tree over 16 KiB blocks; a
 * hybrid adds the v1 `files` list with a pad file after every non-empty file (when there is
 * more than one file) and SHA-1 pieces over that padded stream.
 */
import type { BEncodable } from '../bencode/index.js';
import { MERKLE_BLOCK, nextPow2, rootOfPieceLayer, splitHashes } from '../hash/merkle.js';
import type { HashPool, MerklePiece, PlacedSegment } from '../hash/pool.js';

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

/**
 * Bytes per pool job: big enough that a job's hand-off is noise, small enough that the
 * workers' buffers (one job each) stay a few MiB.
 */
const JOB_BYTES = 4 * 1024 * 1024;
/** Many tiny files share a job; this bounds the job message. */
const JOB_MAX_SEGMENTS = 1024;

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

/** Where a hashed piece's digests go. */
interface PieceDest {
  file: number;
  /** The piece's index within its file and in the torrent (its v1 SHA-1's place). */
  inFile: number;
  global: number;
}

/** One pool job being filled: file segments placed in its buffer and the pieces over them. */
class JobBatch {
  segments: PlacedSegment[] = [];
  pieces: MerklePiece[] = [];
  dests: PieceDest[] = [];
  span = 0;
  bytes = 0;

  /** Adds `dataLength` bytes of `abs` from `offset` as one piece `size` bytes long (pad zeros after). */
  add(abs: string, offset: number, dataLength: number, size: number, width: number, dest: PieceDest): void {
    const last = this.segments[this.segments.length - 1];
    // Consecutive pieces of one file with no pad between them are read in one go.
    if (
      last &&
      last.path === abs &&
      last.offset + last.length === offset &&
      last.at + last.length === this.span
    )
      last.length += dataLength;
    else this.segments.push({ path: abs, offset, length: dataLength, at: this.span });
    this.pieces.push({ at: this.span, size, dataLength, width });
    this.dests.push(dest);
    this.span += size;
    this.bytes += dataLength;
  }
}

/** The per-file results being collected: roots of files of at most a piece, layers of longer ones. */
interface Collected {
  roots: (Buffer | undefined)[];
  layers: (Buffer | undefined)[];
  sha1: Buffer | undefined;
}

/**
 * Hashes every file in the pool: jobs of whole pieces (a few MiB, many small files to a job)
 * that a worker reads from disk and hashes itself, at most two per worker in flight, so reading
 * overlaps hashing and memory stays at a job buffer per worker. A hybrid's SHA-1 of a piece
 * (with the pad zeros after a file's last piece when `padTail`) comes from the same read.
 */
async function hashInPool(
  files: V2Source[],
  pieceLength: number,
  hybrid: boolean,
  padTail: boolean,
  pool: HashPool,
  onBytes: (n: number) => void,
): Promise<Collected> {
  const blocksPerPiece = pieceLength / MERKLE_BLOCK;
  const totalPieces = files.reduce((n, f) => n + Math.ceil(f.length / pieceLength), 0);
  const out: Collected = {
    roots: files.map(() => undefined),
    layers: files.map((f) =>
      f.length > pieceLength ? Buffer.alloc(Math.ceil(f.length / pieceLength) * 32) : undefined,
    ),
    sha1: hybrid ? Buffer.alloc(totalPieces * 20) : undefined,
  };
  const each = hybrid ? 52 : 32;
  const jobBytes = Math.max(pieceLength, Math.floor(JOB_BYTES / pieceLength) * pieceLength);
  const maxInFlight = pool.threads * 2;
  const inFlight: Promise<void>[] = [];
  const submit = async (b: JobBatch): Promise<void> => {
    const job = pool.hashFilesMerkle(b.segments, b.span, b.pieces, hybrid).then((d) => {
      b.dests.forEach((p, i) => {
        const root = d.subarray(i * each + each - 32, (i + 1) * each);
        const layer = out.layers[p.file];
        if (layer) root.copy(layer, p.inFile * 32);
        else out.roots[p.file] = root;
        if (out.sha1) d.copy(out.sha1, p.global * 20, i * each, i * each + 20);
      });
      onBytes(b.bytes);
    });
    job.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    inFlight.push(job);
    if (inFlight.length >= maxInFlight) await inFlight.shift();
  };
  let batch = new JobBatch();
  let global = 0;
  for (const [file, f] of files.entries()) {
    // A file of at most one piece is a tree as wide as its own leaves; a longer one's pieces
    // are full-width subtrees (the piece layer).
    const width = f.length > pieceLength ? blocksPerPiece : nextPow2(Math.ceil(f.length / MERKLE_BLOCK));
    for (let inFile = 0, at = 0; at < f.length; inFile++, at += pieceLength) {
      const dataLength = Math.min(pieceLength, f.length - at);
      const size = hybrid && padTail ? pieceLength : dataLength;
      if (
        batch.pieces.length > 0 &&
        (batch.span + size > jobBytes || batch.segments.length >= JOB_MAX_SEGMENTS)
      ) {
        await submit(batch);
        batch = new JobBatch();
      }
      batch.add(f.abs, at, dataLength, size, width, { file, inFile, global: global++ });
    }
  }
  if (batch.pieces.length > 0) await submit(batch);
  await Promise.all(inFlight);
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
 * The v2 (or hybrid) info keys for `files` (already in libtorrent's order), hashed in `pool`.
 * `multiFile`: the source was a directory (paths go below the name, v1 uses `files`).
 */
export async function hashV2(
  files: V2Source[],
  multiFile: boolean,
  pieceLength: number,
  hybrid: boolean,
  pool: HashPool,
  onBytes: (n: number) => void,
): Promise<V2Result> {
  const tree: Tree = new Map();
  const pieceLayers = new Map<string, Buffer>();
  const v1Files: BEncodable[] = [];
  // libtorrent pads after every file only when there is more than one: a single file stays
  // unpadded so a single-file hybrid is possible.
  const padTail = files.length > 1;
  const hashed = await hashInPool(files, pieceLength, hybrid, padTail, pool, onBytes);
  const blocksPerPiece = pieceLength / MERKLE_BLOCK;
  for (const [i, f] of files.entries()) {
    const leaf = new Map<string, BEncodable>([['length', f.length]]);
    const layer = hashed.layers[i];
    const root = layer ? rootOfPieceLayer(splitHashes(layer), blocksPerPiece) : hashed.roots[i];
    if (root) leaf.set('pieces root', root);
    addToTree(tree, f.rel, leaf);
    if (root && layer) pieceLayers.set(root.toString('latin1'), layer);
    v1Files.push({ length: f.length, path: f.rel });
    const rest = f.length % pieceLength;
    if (padTail && rest !== 0) {
      const size = pieceLength - rest;
      v1Files.push({ attr: 'p', length: size, path: ['.pad', String(size)] });
    }
  }
  const info: Record<string, BEncodable> = { 'file tree': tree, 'meta version': 2 };
  if (hybrid) {
    info.pieces = hashed.sha1!;
    if (multiFile) info.files = v1Files;
    else info.length = files[0]!.length;
  }
  return { info, pieceLayers };
}
