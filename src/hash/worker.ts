/**
 * Hash worker: hashes consecutive piece-length slices of the bytes it is sent (SHA-1) or the
 * BEP 52 pieces it is told of (Merkle roots, and for hybrids SHA-1 too) and answers with the
 * concatenated digests (transferred back, no copy).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { MerkleHasher } from './merkle.js';

/** A byte range of a file; a file job hashes the concatenation of its segments. */
export interface FileSegment {
  path: string;
  offset: number;
  length: number;
}

/** A file segment read to byte `at` of a Merkle file job's buffer. */
export interface PlacedSegment extends FileSegment {
  at: number;
}

/** Read these file segments here (no data crosses threads) and hash them in pieces. */
export interface FileHashJob {
  id: number;
  kind: 'files';
  segments: FileSegment[];
  pieceLength: number;
}

/** One job: hash `data[offset, offset + length)` in slices of `pieceLength`. */
export interface HashJob {
  id: number;
  data: Uint8Array;
  offset: number;
  length: number;
  pieceLength: number;
  /** Send `data` back with the digests (it was transferred here and the caller wants it again). */
  returnData?: boolean;
}

/** One BEP 52 piece inside a Merkle job's data. */
export interface MerklePiece {
  /** Where the piece starts in the data, and its bytes (file data, then pad zeros). */
  at: number;
  size: number;
  /** Bytes of file data the tree covers (the rest is pad, not hashed) and the tree's width. */
  dataLength: number;
  width: number;
}

/**
 * Hash BEP 52 pieces: per piece its Merkle root (32 bytes), preceded with `sha1` by the SHA-1
 * of its whole `size` bytes (20), as a hybrid's two halves check it.
 */
export interface MerkleHashJob {
  id: number;
  kind: 'merkle';
  data: Uint8Array;
  pieces: MerklePiece[];
  sha1: boolean;
  returnData?: boolean;
}

/**
 * Read these segments here into a `span`-byte buffer (bytes no segment covers are zeros: pad
 * after a file's last piece) and hash its BEP 52 pieces as a MerkleHashJob does.
 */
export interface FileMerkleJob {
  id: number;
  kind: 'file-merkle';
  segments: PlacedSegment[];
  span: number;
  pieces: MerklePiece[];
  sha1: boolean;
}

export type HashReply =
  { id: number; digests: Uint8Array; data?: Uint8Array } | { id: number; error: string; code: string };

/** Reused between file jobs so reading allocates nothing in steady state. */
let scratch = Buffer.alloc(0);

class ReadError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function hashFileJob(job: FileHashJob): Uint8Array {
  let at = 0;
  const placed = job.segments.map((g) => ({ ...g, at: (at += g.length) - g.length }));
  const data = readSegments(placed, at);
  return hashRange({ id: job.id, data, offset: 0, length: at, pieceLength: job.pieceLength });
}

export function hashFileMerkleJob(job: FileMerkleJob): Uint8Array {
  return hashMerkleJob({ data: readSegments(job.segments, job.span), pieces: job.pieces, sha1: job.sha1 });
}

/** The segments read into the reused scratch buffer at their places, zeros elsewhere. */
function readSegments(segments: readonly PlacedSegment[], span: number): Buffer {
  if (scratch.length < span) scratch = Buffer.allocUnsafeSlow(span);
  const data = scratch.subarray(0, span);
  let zeroFrom = 0;
  for (const seg of segments) {
    if (seg.at > zeroFrom) data.fill(0, zeroFrom, seg.at);
    readSegment(seg, data);
    zeroFrom = Math.max(zeroFrom, seg.at + seg.length);
  }
  if (span > zeroFrom) data.fill(0, zeroFrom, span);
  return data;
}

function readSegment(seg: PlacedSegment, into: Buffer): void {
  let fd: number;
  try {
    fd = openSync(seg.path, 'r');
  } catch (e) {
    throw new ReadError('HASH_READ_FAILED', `cannot open ${seg.path}: ${(e as Error).message}`);
  }
  try {
    for (let done = 0; done < seg.length;) {
      const n = readSync(fd, into, seg.at + done, seg.length - done, seg.offset + done);
      if (n === 0)
        throw new ReadError(
          'HASH_FILE_CHANGED',
          `${seg.path} is shorter than expected (changed while hashing?)`,
        );
      done += n;
    }
  } catch (e) {
    if (e instanceof ReadError) throw e;
    throw new ReadError('HASH_READ_FAILED', `cannot read ${seg.path}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** Bytes each piece's digest takes in a Merkle job's answer. */
export function merkleDigestBytes(sha1: boolean): number {
  return (sha1 ? 20 : 0) + 32;
}

export function hashMerkleJob(job: Pick<MerkleHashJob, 'data' | 'pieces' | 'sha1'>): Uint8Array {
  const each = merkleDigestBytes(job.sha1);
  const out = new Uint8Array(job.pieces.length * each);
  job.pieces.forEach((p, i) => {
    const bytes = job.data.subarray(p.at, p.at + p.size);
    if (job.sha1) out.set(createHash('sha1').update(bytes).digest(), i * each);
    out.set(new MerkleHasher(p.dataLength, p.width).update(bytes).digest(), i * each + each - 32);
  });
  return out;
}

export function hashRange(job: HashJob): Uint8Array {
  const { data, offset, length, pieceLength } = job;
  const count = length === 0 ? 0 : Math.ceil(length / pieceLength);
  const out = new Uint8Array(count * 20);
  for (let i = 0; i < count; i++) {
    const start = offset + i * pieceLength;
    const end = Math.min(start + pieceLength, offset + length);
    out.set(createHash('sha1').update(data.subarray(start, end)).digest(), i * 20);
  }
  return out;
}

const port = parentPort;
if (port) {
  port.on('message', (job: HashJob | FileHashJob | FileMerkleJob | MerkleHashJob) => {
    let reply: HashReply;
    try {
      if ('kind' in job && (job.kind === 'files' || job.kind === 'file-merkle')) {
        const digests = job.kind === 'files' ? hashFileJob(job) : hashFileMerkleJob(job);
        port.postMessage({ id: job.id, digests } satisfies HashReply, [digests.buffer as ArrayBuffer]);
        return;
      }
      const digests = 'kind' in job ? hashMerkleJob(job) : hashRange(job);
      const transfer = [digests.buffer as ArrayBuffer];
      if (job.returnData) transfer.push(job.data.buffer as ArrayBuffer);
      reply = job.returnData ? { id: job.id, digests, data: job.data } : { id: job.id, digests };
      port.postMessage(reply, transfer);
    } catch (e) {
      const code = e instanceof ReadError ? e.code : 'HASH_WORKER_FAILED';
      reply = { id: job.id, error: e instanceof Error ? e.message : String(e), code };
      port.postMessage(reply);
    }
  });
}
