/**
 * SHA-1 worker: hashes consecutive piece-length slices of the bytes it is sent and answers
 * with their concatenated 20-byte digests (transferred back, no copy).
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** One job: hash `data[offset, offset + length)` in slices of `pieceLength`. */
export interface HashJob {
  id: number;
  data: Uint8Array;
  offset: number;
  length: number;
  pieceLength: number;
}

export type HashReply = { id: number; digests: Uint8Array } | { id: number; error: string };

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
  port.on('message', (job: HashJob) => {
    let reply: HashReply;
    try {
      const digests = hashRange(job);
      reply = { id: job.id, digests };
      port.postMessage(reply, [digests.buffer as ArrayBuffer]);
    } catch (e) {
      reply = { id: job.id, error: e instanceof Error ? e.message : String(e) };
      port.postMessage(reply);
    }
  });
}
