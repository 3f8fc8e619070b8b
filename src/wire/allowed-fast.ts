import { isIPv4, isIPv6 } from 'node:net';
import { NbtError } from '../util/errors.js';
import { ipv4Bytes, ipv6Bytes } from '../util/compact.js';
import { sha1 } from '../util/sha1.js';

/**
 * BEP 6 canonical allowed-fast set for the peer at `ip`: the same (ip/24, info-hash) always
 * gives the same pieces, and a larger k extends a smaller one. IPv4 uses the top 3 octets as the
 * BEP says; BEP 6 has no IPv6 rule, so (like libtorrent) an IPv6 address is masked to its /64.
 * `k` is capped at `pieceCount` so the loop always ends.
 */
export function allowedFastSet(
  ip: string | Uint8Array,
  infoHash: Uint8Array,
  pieceCount: number,
  k = 10,
): number[] {
  if (!Number.isInteger(pieceCount) || pieceCount <= 0) return [];
  let addr: Buffer | undefined;
  if (typeof ip === 'string')
    addr = isIPv4(ip) || ip.startsWith('::ffff:') ? ipv4Bytes(ip) : isIPv6(ip) ? ipv6Bytes(ip) : undefined;
  else if (ip.length === 4 || ip.length === 16) addr = Buffer.from(ip);
  if (!addr) throw new NbtError('WIRE_BAD_ARGUMENT', `not an IP address: ${String(ip)}`);
  if (addr.length === 4) addr[3] = 0;
  else addr.fill(0, 8);
  const want = Math.min(Math.max(0, Math.floor(k)), pieceCount);
  const set: number[] = [];
  const seen = new Set<number>();
  let x: Buffer = Buffer.concat([addr, infoHash]);
  while (set.length < want) {
    x = sha1(x);
    for (let i = 0; i < 5 && set.length < want; i++) {
      const index = x.readUInt32BE(i * 4) % pieceCount;
      if (!seen.has(index)) {
        seen.add(index);
        set.push(index);
      }
    }
  }
  return set;
}
