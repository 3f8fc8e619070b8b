/**
 * PCP (RFC 6887) MAP messages, pure: requests as bytes, answers from bytes, and the epoch
 * check that tells a client its server lost its mappings. Answers are bounded (at most 1100
 * bytes, at most 16 options) and bad input is an NbtError, never a throw of anything else.
 * A NAT-PMP server's "unsupported version" answer to a PCP request decodes as PCP_UNSUPP_VERSION
 * too: that is the signal to fall back to NAT-PMP (RFC 6887 section 9).
 */
import { compressIPv6 } from '../util/compact.js';
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';
import type { MappingProtocol } from './natpmp-codec.js';

export const PCP_VERSION = 2;
/** RFC 6887 section 7: no PCP message is longer. */
export const PCP_MAX_MESSAGE = 1100;
export const PCP_NONCE_BYTES = 12;
const OP_ANNOUNCE = 0;
const OP_MAP = 1;
const HEADER = 24;
const MAP_BODY = 36;
const MAX_OPTIONS = 16;

/** Result codes of RFC 6887 section 7.4. */
export const pcpResults: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'unsupported version',
  2: 'not authorized',
  3: 'malformed request',
  4: 'unsupported opcode',
  5: 'unsupported option',
  6: 'malformed option',
  7: 'network failure',
  8: 'no resources',
  9: 'unsupported protocol',
  10: 'user exceeded quota',
  11: 'cannot provide external',
  12: 'address mismatch',
  13: 'excessive remote peers',
};
export const PCP_UNSUPP_VERSION = 1;

export interface PcpMapRequest {
  /** Our address as the server sees the request's source (IPv4 or IPv6). */
  clientAddress: string;
  nonce: Uint8Array;
  protocol: MappingProtocol;
  internalPort: number;
  /** Suggested external port (0: any). */
  externalPort: number;
  /** Suggested external address (default: the all-zeros address of the client's family). */
  externalAddress?: string;
  /** Seconds; 0 deletes the mapping. */
  lifetime: number;
}

/** A MAP request (RFC 6887 sections 7.1 and 11.1): 24-byte header + 36-byte MAP body. */
export function encodePcpMapRequest(r: PcpMapRequest): Buffer {
  if (r.nonce.length !== PCP_NONCE_BYTES) throw bad(`nonce of ${r.nonce.length} bytes`);
  if (!Number.isInteger(r.internalPort) || r.internalPort < 1 || r.internalPort > 0xffff)
    throw bad(`internal port ${r.internalPort} out of range`);
  if (!Number.isInteger(r.externalPort) || r.externalPort < 0 || r.externalPort > 0xffff)
    throw bad(`external port ${r.externalPort} out of range`);
  if (!Number.isInteger(r.lifetime) || r.lifetime < 0 || r.lifetime > 0xffffffff)
    throw bad(`lifetime ${r.lifetime} out of range`);
  const family = isIP(r.clientAddress);
  if (family === 0) throw bad(`client address "${r.clientAddress.slice(0, 64)}"`);
  const b = Buffer.alloc(HEADER + MAP_BODY);
  b[0] = PCP_VERSION;
  b[1] = OP_MAP;
  b.writeUInt32BE(r.lifetime, 4);
  writeAddress(b, 8, r.clientAddress);
  Buffer.from(r.nonce).copy(b, HEADER);
  b[HEADER + 12] = r.protocol === 'tcp' ? 6 : 17;
  b.writeUInt16BE(r.internalPort, HEADER + 16);
  b.writeUInt16BE(r.externalPort, HEADER + 18);
  writeAddress(b, HEADER + 20, r.externalAddress ?? (family === 4 ? '0.0.0.0' : '::'));
  return b;
}

export interface PcpMapResponse {
  kind: 'map';
  /** Seconds the server keeps the mapping (0 after a delete). */
  lifetime: number;
  /** Seconds since the server's state began (RFC 6887 section 8.5). */
  epoch: number;
  nonce: Buffer;
  protocol: MappingProtocol;
  internalPort: number;
  externalPort: number;
  /** The assigned external address (dotted quad for an IPv4-mapped one). */
  externalAddress: string;
}

export interface PcpAnnounceResponse {
  kind: 'announce';
  epoch: number;
}

export type PcpResponse = PcpMapResponse | PcpAnnounceResponse;

/** A result code, with the epoch the answer carried (an error answer still tells it). */
export class PcpResultError extends NbtError {
  constructor(
    readonly result: number,
    readonly opcode: number,
    readonly epoch: number,
    /** The server speaks NAT-PMP only (its version-0 "unsupported version" answer). */
    readonly natPmpServer: boolean,
  ) {
    const why = pcpResults[result] ?? 'unknown result';
    super(
      `PCP_RESULT_${result}`,
      `PCP: ${why} (result ${result}${natPmpServer ? ', a NAT-PMP server' : ''})`,
    );
  }
}

/**
 * Decodes a server's answer. A non-zero result is a PcpResultError (code PCP_RESULT_<n>); a
 * NAT-PMP answer with result 1 is PCP_RESULT_1 with `natPmpServer`; anything else malformed
 * is PCP_MALFORMED. Options are checked for bounds and skipped.
 */
export function decodePcpResponse(data: Uint8Array): PcpResponse {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (b.length > PCP_MAX_MESSAGE) throw malformed(`${b.length} bytes`);
  if (b.length >= 4 && b[0] === 0) {
    // RFC 6886 3.5: a NAT-PMP server answers any other version with result 1.
    if (b[1]! >= 128 && b.readUInt16BE(2) === PCP_UNSUPP_VERSION)
      throw new PcpResultError(PCP_UNSUPP_VERSION, b[1]! & 127, b.length >= 8 ? b.readUInt32BE(4) : 0, true);
    throw malformed('a NAT-PMP answer');
  }
  if (b.length < HEADER) throw malformed(`${b.length} bytes`);
  if ((b[1]! & 128) === 0) throw malformed('a request, not an answer');
  const opcode = b[1]! & 127;
  const result = b[3]!;
  const lifetime = b.readUInt32BE(4);
  const epoch = b.readUInt32BE(8);
  // A server answers an unsupported version with its own version and result 1 (section 9).
  if (result !== 0) throw new PcpResultError(result, opcode, epoch, false);
  if (b[0] !== PCP_VERSION) throw malformed(`version ${b[0]}`);
  if (b.length % 4 !== 0) throw malformed(`length ${b.length} not a multiple of 4`);
  if (opcode === OP_ANNOUNCE) {
    skipOptions(b, HEADER);
    return { kind: 'announce', epoch };
  }
  if (opcode !== OP_MAP) throw malformed(`opcode ${opcode}`);
  if (b.length < HEADER + MAP_BODY) throw malformed(`MAP answer of ${b.length} bytes`);
  skipOptions(b, HEADER + MAP_BODY);
  const proto = b[HEADER + 12];
  if (proto !== 6 && proto !== 17) throw malformed(`protocol ${proto}`);
  return {
    kind: 'map',
    lifetime,
    epoch,
    nonce: Buffer.from(b.subarray(HEADER, HEADER + PCP_NONCE_BYTES)),
    protocol: proto === 6 ? 'tcp' : 'udp',
    internalPort: b.readUInt16BE(HEADER + 16),
    externalPort: b.readUInt16BE(HEADER + 18),
    externalAddress: readAddress(b, HEADER + 20),
  };
}

function skipOptions(b: Buffer, at: number): void {
  for (let n = 0; at < b.length; n++) {
    if (n === MAX_OPTIONS) throw malformed(`more than ${MAX_OPTIONS} options`);
    if (at + 4 > b.length) throw malformed('truncated option header');
    const len = b.readUInt16BE(at + 2);
    const next = at + 4 + Math.ceil(len / 4) * 4;
    if (next > b.length) throw malformed(`option ${b[at]} of ${len} bytes overruns the answer`);
    at = next;
  }
}

/** A 16-byte PCP address: IPv6 as is, IPv4 as ::ffff:a.b.c.d. */
function writeAddress(b: Buffer, at: number, address: string): void {
  const family = isIP(address);
  if (family === 4) {
    b.writeUInt16BE(0xffff, at + 10);
    address.split('.').forEach((o, i) => (b[at + 12 + i] = Number(o)));
    return;
  }
  if (family !== 6) throw bad(`address "${address.slice(0, 64)}"`);
  const groups = expandIPv6(address);
  groups.forEach((g, i) => b.writeUInt16BE(g, at + 2 * i));
}

function expandIPv6(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/** A 16-byte PCP address as text: dotted quad when IPv4-mapped, else compressed IPv6. */
export function readAddress(b: Buffer, at: number): string {
  const mapped = b.subarray(at, at + 10).every((x) => x === 0) && b.readUInt16BE(at + 10) === 0xffff;
  if (mapped) return `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + 2 * i).toString(16));
  return compressIPv6(groups);
}

/** What a client remembers of the server's epoch (RFC 6887 section 8.5; NAT-PMP 3.6 alike). */
export interface EpochSample {
  /** The server's epoch, seconds. */
  epoch: number;
  /** Our clock when it came, ms. */
  at: number;
}

/**
 * Did the server lose its state between two answers? Its epoch must not go back and must
 * advance like our clock does, within 1/16 and 2 s either way (RFC 6887 section 8.5).
 */
export function epochReset(previous: EpochSample | undefined, current: EpochSample): boolean {
  if (!previous) return false;
  if (current.epoch < previous.epoch) return true;
  const client = (current.at - previous.at) / 1000;
  const server = current.epoch - previous.epoch;
  return server + 2 < client - client / 16 || client + 2 < server - server / 16;
}

function bad(what: string): NbtError {
  return new NbtError('PCP_BAD_REQUEST', `PCP request: ${what}`);
}

function malformed(what: string): NbtError {
  return new NbtError('PCP_MALFORMED', `malformed PCP answer: ${what}`);
}
