/**
 * BEP 40 canonical peer priority: a number both ends of a connection compute alike, so every
 * peer of a swarm agrees whom to keep when over a limit (and an attacker holding many addresses
 * in one network block gains no more than his share). Pure.
 */
import { crc32c } from '../util/crc32c.js';
import { ipv4Bytes, ipv6Bytes, type PeerAddress } from '../util/compact.js';

/** Dotted IPv4 without allocating more than the result (the dial order ranks thousands). */
function fastIpv4(host: string): Buffer | undefined {
  const out = Buffer.allocUnsafe(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= host.length; i++) {
    const ch = i < host.length ? host.charCodeAt(i) : 46;
    if (ch === 46) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (ch >= 48 && ch <= 57 && digits < 3) {
      value = value * 10 + (ch - 48);
      if (value > 255) return undefined;
      digits++;
    } else return undefined;
  }
  return part === 4 ? out : undefined;
}

/** IPv4 as 4 bytes (IPv4-mapped IPv6 too), IPv6 as 16, anything else undefined. */
function ipBytes(host: string): Buffer | undefined {
  return fastIpv4(host) ?? ipv4Bytes(host) ?? ipv6Bytes(host);
}

/** IPv4 as IPv4-mapped IPv6 (for a pair of mixed families). */
function asV6(ip: Buffer): Buffer {
  if (ip.length === 16) return ip;
  const out = Buffer.alloc(16);
  out[10] = 0xff;
  out[11] = 0xff;
  ip.copy(out, 12);
  return out;
}

/**
 * The masked IPs: bytes beyond the common prefix are ANDed with 0x55, except the first
 * 2 (IPv4) or 6 (IPv6) bytes, and one more byte than the two share (FF.FF.55.55 for different
 * /16s, FF.FF.FF.55 within a /16, the whole address within a /24; the same for IPv6 from /48).
 */
function masked(a: Buffer, b: Buffer): [Buffer, Buffer] {
  let common = 0;
  while (common < a.length && a[common] === b[common]) common++;
  const full = Math.min(a.length, Math.max(a.length === 4 ? 2 : 6, common + 1));
  const ma = Buffer.from(a);
  const mb = Buffer.from(b);
  for (let i = full; i < a.length; i++) {
    ma[i]! &= 0x55;
    mb[i]! &= 0x55;
  }
  return [ma, mb];
}

/**
 * `crc32-c(sort(masked_client_ip, masked_peer_ip))`, or of the two ports (16-bit big-endian,
 * sorted) when the IPs are the same. `self` is our address as the peer sees it. Higher is
 * better. Unparseable hosts rank 0.
 */
export function peerPriority(self: PeerAddress, peer: PeerAddress): number {
  let a = ipBytes(self.host);
  let b = ipBytes(peer.host);
  if (!a || !b) return 0;
  if (a.length !== b.length) [a, b] = [asV6(a), asV6(b)];
  if (a.equals(b)) {
    const ports = [self.port & 0xffff, peer.port & 0xffff].sort((x, y) => x - y);
    const buf = Buffer.alloc(4);
    buf.writeUInt16BE(ports[0]!, 0);
    buf.writeUInt16BE(ports[1]!, 2);
    return crc32c(buf);
  }
  const [ma, mb] = masked(a, b);
  return crc32c(Buffer.compare(ma, mb) <= 0 ? Buffer.concat([ma, mb]) : Buffer.concat([mb, ma]));
}
