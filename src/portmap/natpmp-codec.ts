/**
 * NAT-PMP (RFC 6886) messages, pure: requests as bytes, responses from bytes. A response is
 * exactly 12 (external address) or 16 (mapping) bytes; anything else is refused with an
 * NbtError, never thrown as anything else.
 */
import { NbtError } from '../util/errors.js';
import { readAddress } from './pcp-codec.js';

/** The gateway's NAT-PMP (and PCP) server port. */
export const NATPMP_PORT = 5351;
/** Longest datagram worth reading (PCP's largest answer is 1100 bytes). */
export const NATPMP_MAX_INPUT = 1100;

export type MappingProtocol = 'udp' | 'tcp';

const OP_EXTERNAL = 0;
const OP_MAP_UDP = 1;
const OP_MAP_TCP = 2;

/** Result codes of RFC 6886 section 3.5. */
export const natPmpResults: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'unsupported version',
  2: 'not authorized or refused',
  3: 'network failure',
  4: 'out of resources',
  5: 'unsupported opcode',
};

export interface NatPmpExternalAddress {
  kind: 'external-address';
  /** Seconds since the gateway's mapping table was (re)initialised. */
  epoch: number;
  address: string;
}

export interface NatPmpMapping {
  kind: 'mapping';
  protocol: MappingProtocol;
  epoch: number;
  internalPort: number;
  externalPort: number;
  /** Seconds the gateway keeps the mapping (0 after a delete). */
  lifetime: number;
}

export type NatPmpResponse = NatPmpExternalAddress | NatPmpMapping;

/** The external address request (RFC 6886 3.2). */
export function encodeExternalAddressRequest(): Buffer {
  return Buffer.from([0, OP_EXTERNAL]);
}

/**
 * A map request (RFC 6886 3.3); lifetime 0 with external port 0 deletes the mapping of
 * `internalPort`.
 */
export function encodeMapRequest(
  protocol: MappingProtocol,
  internalPort: number,
  externalPort: number,
  lifetime: number,
): Buffer {
  checkPort(internalPort, 'internal port', false);
  checkPort(externalPort, 'external port', true);
  if (!Number.isInteger(lifetime) || lifetime < 0 || lifetime > 0xffffffff)
    throw new NbtError('NATPMP_BAD_REQUEST', `lifetime ${lifetime} out of range`);
  const b = Buffer.alloc(12);
  b[1] = protocol === 'udp' ? OP_MAP_UDP : OP_MAP_TCP;
  b.writeUInt16BE(internalPort, 4);
  b.writeUInt16BE(externalPort, 6);
  b.writeUInt32BE(lifetime, 8);
  return b;
}

function checkPort(port: number, what: string, zeroOk: boolean): void {
  if (!Number.isInteger(port) || port < (zeroOk ? 0 : 1) || port > 0xffff)
    throw new NbtError('NATPMP_BAD_REQUEST', `${what} ${port} out of range`);
}

/**
 * Decodes a gateway's answer. A non-zero result code is an NbtError NATPMP_RESULT_<n> (its
 * message says which); a malformed packet is NATPMP_MALFORMED.
 */
export function decodeNatPmpResponse(data: Uint8Array): NatPmpResponse {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (b.length < 4) throw malformed(`${b.length} bytes`);
  if (b[0] !== 0) throw new NbtError('NATPMP_MALFORMED', `NAT-PMP version ${b[0]} (not 0)`);
  const op = b[1]!;
  if (op < 128) throw malformed(`opcode ${op} is a request`);
  const result = b.readUInt16BE(2);
  if (result !== 0) {
    const why = natPmpResults[result] ?? 'unknown result';
    throw new NbtError(`NATPMP_RESULT_${result}`, `NAT-PMP: ${why} (result ${result})`);
  }
  if (op === 128 + OP_EXTERNAL) {
    if (b.length !== 12) throw malformed(`external address answer of ${b.length} bytes`);
    const address = `${b[8]}.${b[9]}.${b[10]}.${b[11]}`;
    return { kind: 'external-address', epoch: b.readUInt32BE(4), address };
  }
  if (op === 128 + OP_MAP_UDP || op === 128 + OP_MAP_TCP) {
    if (b.length !== 16) throw malformed(`mapping answer of ${b.length} bytes`);
    return {
      kind: 'mapping',
      protocol: op === 128 + OP_MAP_UDP ? 'udp' : 'tcp',
      epoch: b.readUInt32BE(4),
      internalPort: b.readUInt16BE(8),
      externalPort: b.readUInt16BE(10),
      lifetime: b.readUInt32BE(12),
    };
  }
  throw malformed(`unknown opcode ${op}`);
}

function malformed(what: string): NbtError {
  return new NbtError('NATPMP_MALFORMED', `malformed NAT-PMP answer: ${what}`);
}

/**
 * The default IPv4 gateway from the text of Linux's /proc/net/route (hex, host byte order:
 * little-endian here), or undefined when there is none.
 */
export function parseProcNetRoute(text: string): string | undefined {
  for (const line of text.split('\n').slice(1, 256)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[1] !== '00000000' || !/^[0-9A-Fa-f]{8}$/.test(f[2] ?? '')) continue;
    // RTF_UP | RTF_GATEWAY.
    if ((parseInt(f[3] ?? '0', 16) & 3) !== 3) continue;
    const n = parseInt(f[2]!, 16);
    if (n === 0) continue;
    return `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${n >>> 24}`;
  }
  return undefined;
}

export interface Ipv6DefaultRoute {
  /** The next hop (with `%iface` when link-local, as sockets need it). */
  gateway: string;
  iface: string;
}

/**
 * The IPv6 default route's next hop from the text of Linux's /proc/net/ipv6_route (32 hex digits
 * per address, then flags; RTF_GATEWAY set), or undefined when there is none.
 */
export function parseProcNetIpv6Route(text: string): Ipv6DefaultRoute | undefined {
  for (const line of text.split('\n').slice(0, 1024)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[0] !== '0'.repeat(32) || f[1] !== '00') continue;
    const hop = f[4] ?? '';
    if (!/^[0-9a-fA-F]{32}$/.test(hop) || /^0+$/.test(hop)) continue;
    if ((parseInt(f[8] ?? '0', 16) & 2) === 0) continue;
    const iface = f[9]!;
    if (!/^[\w.@-]{1,15}$/.test(iface) || iface === 'lo') continue;
    const text6 = readAddress(Buffer.from(hop, 'hex'), 0);
    return { gateway: /^fe[89ab]/i.test(hop) ? `${text6}%${iface}` : text6, iface };
  }
  return undefined;
}
