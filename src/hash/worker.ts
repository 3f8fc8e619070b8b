/**
 * SHA-1 worker: hashes consecutive piece-length slices of the bytes it is sent and answers
 * with their concatenated 20-byte digests (transferred back, no copy).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

/** A byte range of a file; a file job hashes the concatenation of its segments. */
export interface FileSegment {
  path: string;
  offset: number;
  length: number;
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
  const total = job.segments.reduce((s, g) => s + g.length, 0);
  if (scratch.length < total) scratch = Buffer.allocUnsafeSlow(total);
  let filled = 0;
  for (const seg of job.segments) {
    let fd: number;
    try {
      fd = openSync(seg.path, 'r');
    } catch (e) {
      throw new ReadError('HASH_READ_FAILED', `cannot open ${seg.path}: ${(e as Error).message}`);
    }
    try {
      for (let done = 0; done < seg.length;) {
        const n = readSync(fd, scratch, filled, seg.length - done, seg.offset + done);
        if (n === 0)
          throw new ReadError(
            'HASH_FILE_CHANGED',
            `${seg.path} is shorter than expected (changed while hashing?)`,
          );
        done += n;
        filled += n;
      }
    } catch (e) {
      if (e instanceof ReadError) throw e;
      throw new ReadError('HASH_READ_FAILED', `cannot read ${seg.path}: ${(e as Error).message}`);
    } finally {
      closeSync(fd);
    }
  }
  return hashRange({ id: job.id, data: scratch, offset: 0, length: total, pieceLength: job.pieceLength });
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
  port.on('message', (job: HashJob | FileHashJob) => {
    let reply: HashReply;
    try {
      if ('kind' in job) {
        const digests = hashFileJob(job);
        port.postMessage({ id: job.id, digests } satisfies HashReply, [digests.buffer as ArrayBuffer]);
        return;
      }
      const digests = hashRange(job);
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
