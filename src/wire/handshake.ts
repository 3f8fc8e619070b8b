import { NbtError } from '../util/errors.js';

/** The 19-byte protocol name that follows the length byte 19 in every plaintext handshake. */
export const PROTOCOL_NAME = Buffer.from('BitTorrent protocol', 'latin1');
/** 1 + 19 + 8 + 20 + 20. */
export const HANDSHAKE_LENGTH = 68;
/** Bytes up to and including the info-hash (everything but the peer id). */
export const HANDSHAKE_PREFIX_LENGTH = 48;

export interface Handshake {
  /** 8 reserved bytes (feature bits). */
  reserved: Buffer;
  infoHash: Buffer;
  peerId: Buffer;
}

/** Feature bits in the reserved bytes that we understand. */
export interface ReservedFlags {
  /** BEP 10 extension protocol: reserved[5] & 0x10. */
  extended?: boolean;
  /** BEP 6 Fast extension: reserved[7] & 0x04. */
  fast?: boolean;
  /** BEP 5 DHT (PORT message): reserved[7] & 0x01. */
  dht?: boolean;
  /** BEP 52 v2 support (a hybrid's peer may upgrade to v2): reserved[7] & 0x10. */
  v2?: boolean;
}

export function makeReserved(flags: ReservedFlags): Buffer {
  const r = Buffer.alloc(8);
  if (flags.extended) r[5]! |= 0x10;
  if (flags.fast) r[7]! |= 0x04;
  if (flags.dht) r[7]! |= 0x01;
  if (flags.v2) r[7]! |= V2_BIT;
  return r;
}

/**
 * One shared Buffer per distinct reserved field: every connection sends or receives one of a
 * few, and a Buffer of its own costs ~0.2 KB. Bounded, so a peer sending random bits gets its
 * own copy. Interned buffers are never written.
 */
const reservedTable = new Map<string, Buffer>();
export function internReserved(r: Buffer): Buffer {
  const key = r.toString('latin1');
  const known = reservedTable.get(key);
  if (known) return known;
  const own = Buffer.from(r);
  if (reservedTable.size < 64) reservedTable.set(key, own);
  return own;
}

export function supportsExtended(reserved: Uint8Array): boolean {
  return (reserved[5]! & 0x10) !== 0;
}

export function supportsFast(reserved: Uint8Array): boolean {
  return (reserved[7]! & 0x04) !== 0;
}

/** BEP 52: reserved[7] & 0x10. Set only for torrents with a v2 hash (libtorrent drops a v1 peer setting it). */
export const V2_BIT = 0x10;

export function supportsV2(reserved: Uint8Array): boolean {
  return (reserved[7]! & V2_BIT) !== 0;
}

export function supportsDht(reserved: Uint8Array): boolean {
  return (reserved[7]! & 0x01) !== 0;
}

export function reservedFlags(reserved: Uint8Array): Required<ReservedFlags> {
  return {
    extended: supportsExtended(reserved),
    fast: supportsFast(reserved),
    dht: supportsDht(reserved),
    v2: supportsV2(reserved),
  };
}

export function encodeHandshake(h: Handshake): Buffer {
  check(h.reserved, 8, 'reserved');
  check(h.infoHash, 20, 'info-hash');
  check(h.peerId, 20, 'peer id');
  const out = Buffer.allocUnsafe(HANDSHAKE_LENGTH);
  out[0] = 19;
  PROTOCOL_NAME.copy(out, 1);
  h.reserved.copy(out, 20);
  h.infoHash.copy(out, 28);
  h.peerId.copy(out, 48);
  return out;
}

/**
 * Checks the bytes seen so far against the fixed protocol header, so a wrong stream fails on its
 * first bad byte instead of after 68 bytes (or never, if the remote sends less).
 */
export function checkHandshakeStart(buf: Uint8Array): void {
  const n = Math.min(buf.length, 20);
  if (n > 0 && buf[0] !== 19)
    throw new NbtError('WIRE_BAD_HANDSHAKE', `handshake starts with byte ${buf[0]}, not 19`, { offset: 0 });
  for (let i = 1; i < n; i++)
    if (buf[i] !== PROTOCOL_NAME[i - 1])
      throw new NbtError('WIRE_BAD_HANDSHAKE', 'handshake protocol name is not "BitTorrent protocol"', {
        offset: i,
      });
}

/** Parses a complete 68-byte handshake (extra bytes after it are ignored). Copies the fields. */
export function parseHandshake(buf: Uint8Array): Handshake {
  checkHandshakeStart(buf);
  if (buf.length < HANDSHAKE_LENGTH)
    throw new NbtError('WIRE_HANDSHAKE_TRUNCATED', `handshake has ${buf.length} of 68 bytes`, {
      offset: buf.length,
    });
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    reserved: Buffer.from(b.subarray(20, 28)),
    infoHash: Buffer.from(b.subarray(28, 48)),
    peerId: Buffer.from(b.subarray(48, 68)),
  };
}

function check(b: Uint8Array, len: number, what: string): void {
  if (b.length !== len)
    throw new NbtError('WIRE_BAD_ARGUMENT', `${what} must be ${len} bytes, got ${b.length}`);
}
