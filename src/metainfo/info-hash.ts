/**
 * A torrent's identity: the SHA-1 of its info dictionary (v1), the SHA-256 (v2, BEP 52), or both
 * for a hybrid. Handshakes, trackers and the DHT use 20 bytes: v1, or v2 truncated.
 */
import { NbtError } from '../util/errors.js';
import { digest } from '../util/sha1.js';

export interface InfoHashes {
  /** SHA-1 of the info dictionary (v1 and hybrid torrents). */
  readonly v1?: Buffer;
  /** SHA-256 of the info dictionary (v2 and hybrid torrents). */
  readonly v2?: Buffer;
}

/** The hashes of a raw info dictionary: v1 always, v2 when it declares `meta version` 2. */
export function infoHashesOf(info: Uint8Array, v2: boolean): InfoHashes {
  const v1 = digest('sha1', info);
  return v2 ? { v1, v2: digest('sha256', info) } : { v1 };
}

/** The 20 bytes that stand for the torrent on the wire, at trackers and in the DHT. */
export function wireInfoHash(h: InfoHashes): Buffer {
  if (h.v1) return h.v1;
  if (h.v2) return h.v2.subarray(0, 20);
  throw new NbtError('INFO_HASH_MISSING', 'an info-hash needs a v1 or a v2 hash');
}

/** Every 20-byte form the torrent may be known by (a hybrid: v1 and truncated v2). */
export function wireInfoHashes(h: InfoHashes): Buffer[] {
  const out: Buffer[] = [];
  if (h.v1) out.push(h.v1);
  if (h.v2) out.push(h.v2.subarray(0, 20));
  return out;
}

/** Two identities are the same torrent when a hash they both have agrees and none disagrees. */
export function sameTorrent(a: InfoHashes, b: InfoHashes): boolean {
  let agree = false;
  for (const k of ['v1', 'v2'] as const) {
    const x = a[k];
    const y = b[k];
    if (!x || !y) continue;
    if (!x.equals(y)) return false;
    agree = true;
  }
  return agree;
}

/** Hex forms, for JSON, logs and alerts. */
export function infoHashesHex(h: InfoHashes): { v1?: string; v2?: string } {
  const out: { v1?: string; v2?: string } = {};
  if (h.v1) out.v1 = h.v1.toString('hex');
  if (h.v2) out.v2 = h.v2.toString('hex');
  return out;
}
