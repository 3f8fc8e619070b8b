/**
 * The SOCKS5 UDP request header (RFC 1928 §7): every datagram sent through a UDP ASSOCIATE relay
 * carries it, both ways.
 *
 *   +-----+------+------+----------+----------+----------+
 *   | RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 *   |  2  |  1   |  1   | Variable |    2     | Variable |
 *   +-----+------+------+----------+----------+----------+
 *
 * Pure: encode for sending, decode what the relay hands back (bad input is an NbtError, never a
 * throw of anything else). Fragments (FRAG ≠ 0) are refused, as most clients do.
 */
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';

export const ATYP_IPV4 = 1;
export const ATYP_DOMAIN = 3;
export const ATYP_IPV6 = 4;

export interface SocksUdpDatagram {
  /** The remote end: an IPv4/IPv6 address, or a domain name (ATYP 3). */
  readonly host: string;
  readonly port: number;
  /** A view into the decoded datagram. */
  readonly payload: Buffer;
}

function ipv6Bytes(host: string): Buffer {
  // Expand '::' and an embedded IPv4 tail into eight 16-bit groups.
  let text = host;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function ipv6Text(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2).toString(16));
  // Canonical enough to compare with what node:dgram reports: compress the longest zero run.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** The address part (ATYP, DST.ADDR, DST.PORT) shared by requests and UDP headers. */
export function encodeSocksAddress(host: string, port: number): Buffer {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new NbtError('PROXY_BAD_ADDRESS', `bad port ${port}`);
  const family = isIP(host);
  let addr: Buffer;
  if (family === 4) addr = Buffer.concat([Buffer.of(ATYP_IPV4), Buffer.from(host.split('.').map(Number))]);
  else if (family === 6) addr = Buffer.concat([Buffer.of(ATYP_IPV6), ipv6Bytes(host)]);
  else {
    const name = Buffer.from(host, 'utf8');
    if (name.length === 0 || name.length > 255)
      throw new NbtError('PROXY_BAD_ADDRESS', `host name must be 1..255 bytes: ${host.slice(0, 60)}`);
    addr = Buffer.concat([Buffer.of(ATYP_DOMAIN, name.length), name]);
  }
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return Buffer.concat([addr, p]);
}

/** Decodes ATYP, DST.ADDR, DST.PORT at `at`; returns the address and the offset after it. */
export function decodeSocksAddress(b: Buffer, at: number): { host: string; port: number; end: number } {
  const truncated = (): never => {
    throw new NbtError('PROXY_BAD_DATAGRAM', 'socks5 address is truncated', { offset: b.length });
  };
  if (at >= b.length) truncated();
  const atyp = b[at]!;
  let host: string;
  let next: number;
  if (atyp === ATYP_IPV4) {
    next = at + 5;
    if (next + 2 > b.length) truncated();
    host = `${b[at + 1]}.${b[at + 2]}.${b[at + 3]}.${b[at + 4]}`;
  } else if (atyp === ATYP_IPV6) {
    next = at + 17;
    if (next + 2 > b.length) truncated();
    host = ipv6Text(b, at + 1);
  } else if (atyp === ATYP_DOMAIN) {
    if (at + 1 >= b.length) truncated();
    const len = b[at + 1]!;
    next = at + 2 + len;
    if (len === 0) throw new NbtError('PROXY_BAD_DATAGRAM', 'empty socks5 domain name', { offset: at + 1 });
    if (next + 2 > b.length) truncated();
    host = b.toString('latin1', at + 2, next);
  } else {
    throw new NbtError('PROXY_BAD_DATAGRAM', `unknown socks5 address type ${atyp}`, { offset: at });
  }
  return { host, port: b.readUInt16BE(next), end: next + 2 };
}

/** A datagram for the relay: header for `host:port`, then the payload. */
export function encodeSocksUdp(host: string, port: number, payload: Uint8Array): Buffer {
  const addr = encodeSocksAddress(host, port);
  const out = Buffer.allocUnsafe(3 + addr.length + payload.length);
  out[0] = 0;
  out[1] = 0;
  out[2] = 0; // FRAG: standalone datagram
  addr.copy(out, 3);
  out.set(payload, 3 + addr.length);
  return out;
}

/** A datagram from the relay: where it came from and its payload (a view). */
export function decodeSocksUdp(b: Buffer): SocksUdpDatagram {
  if (b.length < 4)
    throw new NbtError('PROXY_BAD_DATAGRAM', 'socks5 udp header is truncated', { offset: b.length });
  if (b[0] !== 0 || b[1] !== 0)
    throw new NbtError('PROXY_BAD_DATAGRAM', 'socks5 udp header: reserved bytes are not zero', { offset: 0 });
  if (b[2] !== 0)
    throw new NbtError('PROXY_UDP_FRAGMENT', 'fragmented socks5 datagrams are not supported', { offset: 2 });
  const a = decodeSocksAddress(b, 3);
  return { host: a.host, port: a.port, payload: b.subarray(a.end) };
}
