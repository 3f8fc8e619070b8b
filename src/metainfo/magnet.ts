/**
 * Magnet links (BEP 9): xt=urn:btih (40 hex or 32 base32) and/or, BEP 52, xt=urn:btmh:1220
 * (a SHA-256 multihash, 64 hex), dn, tr, x.pe, ws, so (BEP 53).
 */
import { parseAddress, type PeerAddress } from '../util/compact.js';
import { NbtError } from '../util/errors.js';
import { wireInfoHash, type InfoHashes } from './info-hash.js';

export interface MagnetLink {
  /** v1 (urn:btih) and/or v2 (urn:btmh) hashes, as the link gives them. */
  infoHashes: InfoHashes;
  /** The 20 bytes used on the wire: v1, or the v2 hash truncated for a v2-only link. */
  infoHash: Buffer;
  infoHashHex: string;
  name?: string;
  trackers: string[];
  /** x.pe peer addresses. */
  peers: PeerAddress[];
  /** ws web seeds. */
  webSeeds: string[];
  /** BEP 53 `so`: file indices to download, ranges expanded, sorted, unique. */
  selectOnly?: number[];
}

export interface MagnetInput {
  /** The v1 info-hash (20 bytes or 40 hex); optional when `infoHashV2` is given. */
  infoHash?: Uint8Array | string;
  /** The v2 info-hash (32 bytes or 64 hex): adds xt=urn:btmh:1220…. */
  infoHashV2?: Uint8Array | string;
  name?: string;
  trackers?: readonly string[];
  peers?: readonly PeerAddress[];
  webSeeds?: readonly string[];
  selectOnly?: readonly number[];
}

const MAX_URI = 64 * 1024;
const MAX_ITEMS = 1000;
/** Largest file index or range size accepted in `so`, so a range cannot allocate without bound. */
/** Highest file index `so=` may name (the most files a torrent may have). */
const MAX_SELECT = 500_000;

function fail(code: string, message: string): never {
  throw new NbtError(code, `magnet: ${message}`);
}

export function parseMagnet(uri: string): MagnetLink {
  if (uri.length > MAX_URI) fail('MAGNET_TOO_LONG', `link is longer than ${MAX_URI} characters`);
  if (!/^magnet:\?/i.test(uri)) fail('MAGNET_BAD_URI', 'not a magnet link (must start with "magnet:?")');
  let infoHash: Buffer | undefined;
  let infoHashV2: Buffer | undefined;
  let name: string | undefined;
  const trackers: string[] = [];
  const peers: PeerAddress[] = [];
  const webSeeds: string[] = [];
  let selectOnly: number[] | undefined;
  // The last so= wins; parsed once after the loop, so repeating it costs nothing.
  let select: string | undefined;

  for (const part of uri.slice(uri.indexOf('?') + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    const value = unescape(raw, key);
    // Parameters may carry a numeric suffix (tr.1, xt.1), as some clients write them.
    const base = key.replace(/\.\d+$/, '');
    switch (base) {
      case 'xt': {
        const m = /^urn:btih:(.*)$/i.exec(value);
        const mh = /^urn:btmh:(.*)$/i.exec(value);
        if (m && !infoHash) infoHash = decodeInfoHash(m[1]!);
        else if (mh && !infoHashV2) infoHashV2 = decodeMultihash(mh[1]!);
        break;
      }
      case 'dn':
        name = value;
        break;
      case 'tr':
        if (value && trackers.length < MAX_ITEMS && !trackers.includes(value)) trackers.push(value);
        break;
      case 'ws':
        if (value && webSeeds.length < MAX_ITEMS) webSeeds.push(value);
        break;
      case 'x.pe':
        if (peers.length < MAX_ITEMS) {
          try {
            peers.push(parseAddress(value));
          } catch {
            fail('MAGNET_BAD_PEER', `x.pe "${value.slice(0, 100)}" is not HOST:PORT`);
          }
        }
        break;
      case 'so':
        select = value;
        break;
      default:
        break;
    }
  }
  if (select !== undefined) selectOnly = parseSelect(select);
  if (!infoHash && !infoHashV2) fail('MAGNET_NO_INFOHASH', 'no xt=urn:btih: or xt=urn:btmh: info-hash');
  const infoHashes: InfoHashes = {
    ...(infoHash ? { v1: infoHash } : {}),
    ...(infoHashV2 ? { v2: infoHashV2 } : {}),
  };
  const wire = wireInfoHash(infoHashes);
  const link: MagnetLink = {
    infoHashes,
    infoHash: wire,
    infoHashHex: wire.toString('hex'),
    trackers,
    peers,
    webSeeds,
  };
  if (name !== undefined) link.name = name;
  if (selectOnly !== undefined) link.selectOnly = selectOnly;
  return link;
}

function unescape(raw: string, key: string): string {
  // In names '+' means a space (form encoding); in URLs it is literal.
  const s = key === 'dn' ? raw.replace(/\+/g, ' ') : raw;
  try {
    return decodeURIComponent(s);
  } catch {
    return fail('MAGNET_BAD_ENCODING', `parameter ${key} has a malformed %-escape`);
  }
}

/** BEP 52: a multihash of SHA-256 (code 0x12, 32 bytes), as libtorrent: anything else is refused. */
function decodeMultihash(s: string): Buffer {
  const m = /^1220([0-9a-f]{64})$/i.exec(s);
  if (!m)
    fail(
      'MAGNET_BAD_INFOHASH',
      `v2 info-hash "${s.slice(0, 80)}" is not 1220 and 64 hex characters (SHA-256)`,
    );
  return Buffer.from(m[1]!, 'hex');
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function decodeInfoHash(s: string): Buffer {
  if (/^[0-9a-f]{40}$/i.test(s)) return Buffer.from(s, 'hex');
  if (/^[a-z2-7]{32}$/i.test(s)) {
    const out = Buffer.alloc(20);
    let bits = 0;
    let acc = 0;
    let j = 0;
    for (const ch of s.toUpperCase()) {
      acc = (acc << 5) | BASE32.indexOf(ch);
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >>> bits) & 0xff;
      }
    }
    return out;
  }
  return fail(
    'MAGNET_BAD_INFOHASH',
    `info-hash "${s.slice(0, 64)}" is neither 40 hex nor 32 base32 characters`,
  );
}

function parseSelect(value: string): number[] {
  const ranges: [number, number][] = [];
  let total = 0;
  let top = -1;
  for (const item of value.split(',')) {
    const m = /^(\d{1,7})(?:-(\d{1,7}))?$/.exec(item.trim());
    if (!m) fail('MAGNET_BAD_SELECT', `so item "${item.slice(0, 40)}" is not an index or range`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || a >= MAX_SELECT || b >= MAX_SELECT)
      fail('MAGNET_BAD_SELECT', `so range "${item}" is invalid`);
    total += b - a + 1;
    if (total > MAX_SELECT) fail('MAGNET_BAD_SELECT', 'so selects too many files');
    ranges.push([a, b]);
    if (b > top) top = b;
  }
  // A bitmap, not a Set: 500,000 indices cost 0.5 MB and a few milliseconds, sorted for free.
  const chosen = new Uint8Array(top + 1);
  for (const [a, b] of ranges) chosen.fill(1, a, b + 1);
  const out: number[] = [];
  for (let i = 0; i <= top; i++) if (chosen[i]) out.push(i);
  return out;
}

function hexOf(h: Uint8Array | string): string {
  return typeof h === 'string' ? h.toLowerCase() : Buffer.from(h).toString('hex');
}

/** A magnet link for a v1 and/or v2 info-hash (hex strings or bytes) and optional extras. */
export function buildMagnet(m: MagnetInput): string {
  const parts: string[] = [];
  if (m.infoHash !== undefined) {
    const hash = hexOf(m.infoHash);
    if (!/^[0-9a-f]{40}$/.test(hash))
      fail('MAGNET_BAD_INFOHASH', 'info-hash must be 20 bytes or 40 hex characters');
    parts.push(`xt=urn:btih:${hash}`);
  }
  if (m.infoHashV2 !== undefined) {
    const hash = hexOf(m.infoHashV2);
    if (!/^[0-9a-f]{64}$/.test(hash))
      fail('MAGNET_BAD_INFOHASH', 'v2 info-hash must be 32 bytes or 64 hex characters');
    parts.push(`xt=urn:btmh:1220${hash}`);
  }
  if (parts.length === 0) fail('MAGNET_NO_INFOHASH', 'a magnet link needs a v1 or a v2 info-hash');
  if (m.name !== undefined) parts.push(`dn=${encodeURIComponent(m.name)}`);
  for (const t of m.trackers ?? []) parts.push(`tr=${encodeURIComponent(t)}`);
  for (const w of m.webSeeds ?? []) parts.push(`ws=${encodeURIComponent(w)}`);
  for (const p of m.peers ?? [])
    parts.push(
      `x.pe=${encodeURIComponent(p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`)}`,
    );
  if (m.selectOnly && m.selectOnly.length > 0) parts.push(`so=${compressRanges(m.selectOnly)}`);
  return `magnet:?${parts.join('&')}`;
}

function compressRanges(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(',');
}
