import { randomBytes } from 'node:crypto';
import { ipv4Bytes, ipv6Bytes } from '../util/compact.js';
import { NbtError } from '../util/errors.js';

/** Node ids and info-hashes: 20 bytes, compared by XOR distance over all 160 bits. */
export const ID_LENGTH = 20;
export const ID_BITS = 160;

export function randomNodeId(): Buffer {
  return randomBytes(ID_LENGTH);
}

export function assertId(id: Uint8Array, what = 'node id'): void {
  if (id.length !== ID_LENGTH)
    throw new NbtError('DHT_BAD_ID', `${what} must be ${ID_LENGTH} bytes, got ${id.length}`);
}

/** a XOR b (both 20 bytes). */
export function xorDistance(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(ID_LENGTH);
  for (let i = 0; i < ID_LENGTH; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Negative when `a` is closer to `target` than `b`, positive when farther, 0 when equal. */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Bit `i` (0 = most significant) of a 20-byte id. */
export function bitAt(id: Uint8Array, i: number): number {
  return (id[i >> 3]! >> (7 - (i & 7))) & 1;
}

/** How many leading bits two ids share (160 when equal). */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/**
 * A random id sharing exactly `prefix` leading bits with `base` (bit `prefix` flipped), or at
 * least `prefix` bits when `exact` is false: the target of a bucket refresh.
 */
export function randomIdWithPrefix(base: Uint8Array, prefix: number, exact: boolean): Buffer {
  const id = randomNodeId();
  for (let i = 0; i < prefix && i < ID_BITS; i++) setBit(id, i, bitAt(base, i));
  if (exact && prefix < ID_BITS) setBit(id, prefix, bitAt(base, prefix) ^ 1);
  return id;
}

function setBit(id: Buffer, i: number, v: number): void {
  const mask = 1 << (7 - (i & 7));
  id[i >> 3] = v ? id[i >> 3]! | mask : id[i >> 3]! & ~mask;
}

// ---- BEP 42: node ids derived from the node's external IP ----

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) crc = CRC32C_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

function bep42Crc(ip: Buffer, r: number): number {
  const mask = ip.length === 4 ? V4_MASK : V6_MASK;
  const masked = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) masked[i] = ip[i]! & mask[i]!;
  masked[0] = masked[0]! | ((r & 7) << 5);
  return crc32c(masked);
}

function ipBytes(host: string): Buffer | undefined {
  return ipv4Bytes(host) ?? ipv6Bytes(host);
}

/** A BEP 42 node id for an external IP; `rand` (0..255) is the last byte. */
export function bep42NodeId(host: string, rand = randomBytes(1)[0]!): Buffer {
  const ip = ipBytes(host);
  if (!ip) throw new NbtError('DHT_BAD_IP', `not an IP address: ${host}`);
  const crc = bep42Crc(ip, rand);
  const id = randomNodeId();
  id[0] = (crc >>> 24) & 0xff;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 0x07);
  id[19] = rand & 0xff;
  return id;
}

/** Addresses BEP 42 exempts: loopback, private and link-local ranges. */
export function isBep42Exempt(host: string): boolean {
  const v4 = ipv4Bytes(host);
  if (v4) {
    const [a, b] = [v4[0]!, v4[1]!];
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    );
  }
  const v6 = ipv6Bytes(host);
  if (!v6) return false;
  return (
    v6.equals(Buffer.from('00000000000000000000000000000001', 'hex')) ||
    (v6[0]! & 0xfe) === 0xfc ||
    (v6[0] === 0xfe && (v6[1]! & 0xc0) === 0x80)
  );
}

/** True when the id's top 21 bits match the CRC of the IP (salted by the id's last byte), or the IP is exempt. */
export function isValidBep42Id(id: Uint8Array, host: string): boolean {
  if (isBep42Exempt(host)) return true;
  const ip = ipBytes(host);
  if (!ip || id.length !== ID_LENGTH) return false;
  const crc = bep42Crc(ip, id[19]!);
  return (
    id[0] === ((crc >>> 24) & 0xff) &&
    id[1] === ((crc >>> 16) & 0xff) &&
    (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8)
  );
}
