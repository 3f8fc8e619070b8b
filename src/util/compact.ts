import { isIPv4, isIPv6 } from 'node:net';
import { NbtError } from './errors.js';

/** A peer or node address. */
export interface PeerAddress {
  host: string;
  port: number;
}

/** BEP 23 compact IPv4 peers: 6 bytes each. Entries with port 0 are dropped. */
export function decodeCompactPeers(buf: Uint8Array): PeerAddress[] {
  if (buf.length % 6 !== 0)
    throw new NbtError('COMPACT_LENGTH', `compact peers length ${buf.length} is not a multiple of 6`);
  const out: PeerAddress[] = [];
  for (let i = 0; i < buf.length; i += 6) {
    const port = (buf[i + 4]! << 8) | buf[i + 5]!;
    if (port === 0) continue;
    out.push({ host: `${buf[i]}.${buf[i + 1]}.${buf[i + 2]}.${buf[i + 3]}`, port });
  }
  return out;
}

/** BEP 7 compact IPv6 peers: 18 bytes each. */
export function decodeCompactPeers6(buf: Uint8Array): PeerAddress[] {
  if (buf.length % 18 !== 0)
    throw new NbtError('COMPACT_LENGTH', `compact peers6 length ${buf.length} is not a multiple of 18`);
  const out: PeerAddress[] = [];
  for (let i = 0; i < buf.length; i += 18) {
    const port = (buf[i + 16]! << 8) | buf[i + 17]!;
    if (port === 0) continue;
    const groups: string[] = [];
    for (let g = 0; g < 16; g += 2) groups.push(((buf[i + g]! << 8) | buf[i + g + 1]!).toString(16));
    out.push({ host: compressIPv6(groups), port });
  }
  return out;
}

/** Encodes addresses of one family; addresses of the other family are skipped. */
export function encodeCompactPeers(peers: readonly PeerAddress[], family: 4 | 6 = 4): Buffer {
  const chunks: Buffer[] = [];
  for (const p of peers) {
    const ip = family === 4 ? ipv4Bytes(p.host) : ipv6Bytes(p.host);
    if (!ip) continue;
    const b = Buffer.alloc(ip.length + 2);
    ip.copy(b);
    b.writeUInt16BE(p.port, ip.length);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export function ipv4Bytes(host: string): Buffer | undefined {
  const h = host.startsWith('::ffff:') ? host.slice(7) : host;
  if (!isIPv4(h)) return undefined;
  return Buffer.from(h.split('.').map(Number));
}

export function ipv6Bytes(host: string): Buffer | undefined {
  if (!isIPv6(host)) return undefined;
  const [head, tail] = host.includes('::') ? host.split('::') : [host, undefined];
  const parse = (s: string | undefined): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) {
        const v4 = part.split('.').map(Number);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else out.push(parseInt(part, 16));
    }
    return out;
  };
  const a = parse(head);
  const b = parse(tail);
  const groups = tail === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(g, i * 2));
  return buf;
}

/** Host and port as one string: "1.2.3.4:6881" or "[::1]:6881". */
export function formatAddress(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Parses "host:port" or "[v6]:port"; throws a typed error for anything else. */
export function parseAddress(s: string): PeerAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || !(port > 0 && port < 65536))
    throw new NbtError('BAD_ADDRESS', `not a HOST:PORT address: "${s}"`);
  return { host: m[1], port };
}

/** Eight hex groups as RFC 5952 text: the longest run of two or more zero groups becomes `::`. */
export function compressIPv6(groups: string[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}
