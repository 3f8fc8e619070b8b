/**
 * The uTP packet codec (BEP 29, header version 1): a 20-byte header, then a chain of extensions
 * (type, length, bytes), then the payload. Only the selective-ACK extension (type 1) means
 * anything; others are skipped. Decoding is strict about what could make the state machine
 * misbehave (a truncated chain, a SACK that is not a multiple of 4 bytes, absurd lengths) and
 * throws NbtError codes the socket counts and drops.
 */
import { NbtError } from '../util/errors.js';

export const ST_DATA = 0;
export const ST_FIN = 1;
export const ST_STATE = 2;
export const ST_RESET = 3;
export const ST_SYN = 4;
export type PacketType = 0 | 1 | 2 | 3 | 4;

export const UTP_VERSION = 1;
export const HEADER_SIZE = 20;
export const EXT_SACK = 1;
/** More extensions than this in one packet is not a real client. */
export const MAX_EXTENSIONS = 8;
/**
 * The largest SACK bitmask we send (BEP 29: a multiple of 4 bytes). What we accept is any
 * length from 1 to 255 bytes: libtorrent sends (span + 7) / 8 bytes, not rounded to 4, and
 * rejecting those made us deaf to its acks whenever it held packets past a hole.
 */
export const MAX_SACK_BYTES = 32;

export interface UtpPacket {
  type: PacketType;
  connectionId: number;
  /** Sender's clock, microseconds, mod 2^32. */
  timestamp: number;
  /** Receiver-side delay of the last packet the sender got from us, microseconds. */
  timestampDiff: number;
  /** Bytes the sender can still receive. */
  window: number;
  seq: number;
  ack: number;
  /** Selective ACK bitmask: bit i of byte j acks seq ack+2+8j+i. */
  sack?: Uint8Array;
  payload: Uint8Array;
}

export function packetTypeName(type: number): string {
  return ['ST_DATA', 'ST_FIN', 'ST_STATE', 'ST_RESET', 'ST_SYN'][type] ?? `type ${type}`;
}

/** Decodes one datagram; throws NbtError UTP_* for anything that is not a sound v1 packet. */
export function decodePacket(buf: Uint8Array): UtpPacket {
  if (buf.length < HEADER_SIZE)
    throw new NbtError('UTP_TRUNCATED', 'shorter than a uTP header', { offset: 0 });
  const b0 = buf[0]!;
  if ((b0 & 0x0f) !== UTP_VERSION)
    throw new NbtError('UTP_BAD_VERSION', `version ${b0 & 0x0f}`, { offset: 0 });
  const type = b0 >> 4;
  if (type > ST_SYN) throw new NbtError('UTP_BAD_TYPE', `type ${type}`, { offset: 0 });
  let ext = buf[1]!;
  let offset = HEADER_SIZE;
  let sack: Uint8Array | undefined;
  let count = 0;
  while (ext !== 0) {
    if (++count > MAX_EXTENSIONS) throw new NbtError('UTP_BAD_EXTENSION', 'too many extensions', { offset });
    if (offset + 2 > buf.length)
      throw new NbtError('UTP_TRUNCATED', 'truncated extension header', { offset });
    const next = buf[offset]!;
    const len = buf[offset + 1]!;
    offset += 2;
    if (offset + len > buf.length) throw new NbtError('UTP_TRUNCATED', 'truncated extension', { offset });
    if (ext === EXT_SACK) {
      if (len === 0 || sack)
        throw new NbtError('UTP_BAD_EXTENSION', `bad selective ack (${len} bytes)`, { offset });
      sack = buf.subarray(offset, offset + len);
    }
    offset += len;
    ext = next;
  }
  const packet: UtpPacket = {
    type: type as PacketType,
    connectionId: u16(buf, 2),
    timestamp: u32(buf, 4),
    timestampDiff: u32(buf, 8),
    window: u32(buf, 12),
    seq: u16(buf, 16),
    ack: u16(buf, 18),
    payload: buf.subarray(offset),
  };
  if (sack) packet.sack = sack;
  return packet;
}

/** Encodes a packet (the payload is copied in). */
export function encodePacket(p: UtpPacket): Uint8Array {
  const sackLen = p.sack ? p.sack.length : 0;
  if (sackLen % 4 !== 0 || sackLen > MAX_SACK_BYTES)
    throw new NbtError('UTP_BAD_EXTENSION', `selective ack of ${sackLen} bytes`);
  const extLen = sackLen > 0 ? 2 + sackLen : 0;
  // Buffer.allocUnsafe draws small packets from Node's pool: cheaper than a fresh ArrayBuffer.
  const out = Buffer.allocUnsafe(HEADER_SIZE + extLen + p.payload.length);
  out[0] = (p.type << 4) | UTP_VERSION;
  out[1] = sackLen > 0 ? EXT_SACK : 0;
  out.writeUInt16BE(p.connectionId & 0xffff, 2);
  out.writeUInt32BE(p.timestamp >>> 0, 4);
  out.writeUInt32BE(p.timestampDiff >>> 0, 8);
  out.writeUInt32BE(p.window >>> 0, 12);
  out.writeUInt16BE(p.seq & 0xffff, 16);
  out.writeUInt16BE(p.ack & 0xffff, 18);
  let offset = HEADER_SIZE;
  if (sackLen > 0) {
    out[offset] = 0;
    out[offset + 1] = sackLen;
    out.set(p.sack!, offset + 2);
    offset += 2 + sackLen;
  }
  out.set(p.payload, offset);
  return out;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

// ---- 16-bit sequence arithmetic ----------------------------------------------------------------

export const SEQ_MASK = 0xffff;

export function seqAdd(a: number, n: number): number {
  return (a + n) & SEQ_MASK;
}

/** a - b as a signed distance in (-32768, 32768]: the wrap-around-aware order of seq numbers. */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & SEQ_MASK;
  return d > 0x8000 ? d - 0x10000 : d;
}

/** a is before b (mod 2^16). */
export function seqLess(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}
