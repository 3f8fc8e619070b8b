/**
 * Magnet links (BEP 9): xt=urn:btih (40 hex or 32 base32), dn, tr, x.pe, ws, so (BEP 53).
 */
import { parseAddress, type PeerAddress } from '../util/compact.js';
import { NbtError } from '../util/errors.js';

export interface MagnetLink {
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
  infoHash: Uint8Array | string;
  name?: string;
  trackers?: readonly string[];
  peers?: readonly PeerAddress[];
  webSeeds?: readonly string[];
  selectOnly?: readonly number[];
}

const MAX_URI = 64 * 1024;
const MAX_ITEMS = 1000;
/** Largest file index or range size accepted in `so`, so a range cannot allocate without bound. */
const MAX_SELECT = 1_000_000;

function fail(code: string, message: string): never {
  throw new NbtError(code, `magnet: ${message}`);
}

export function parseMagnet(uri: string): MagnetLink {
  if (uri.length > MAX_URI) fail('MAGNET_TOO_LONG', `link is longer than ${MAX_URI} characters`);
  if (!/^magnet:\?/i.test(uri)) fail('MAGNET_BAD_URI', 'not a magnet link (must start with "magnet:?")');
  let infoHash: Buffer | undefined;
  let sawV2 = false;
  let name: string | undefined;
  const trackers: string[] = [];
  const peers: PeerAddress[] = [];
  const webSeeds: string[] = [];
  let selectOnly: number[] | undefined;

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
        if (!m) {
          if (/^urn:btmh:/i.test(value)) sawV2 = true;
          break;
        }
        if (!infoHash) infoHash = decodeInfoHash(m[1]!);
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
        selectOnly = parseSelect(value);
        break;
      default:
        break;
    }
  }
  if (!infoHash) {
    if (sawV2)
      fail('MAGNET_V2_UNSUPPORTED', 'only v2 (urn:btmh) info-hashes given; v1 (urn:btih) is required');
    fail('MAGNET_NO_INFOHASH', 'no xt=urn:btih: info-hash');
  }
  const link: MagnetLink = { infoHash, infoHashHex: infoHash.toString('hex'), trackers, peers, webSeeds };
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
  const set = new Set<number>();
  for (const item of value.split(',')) {
    const m = /^(\d{1,7})(?:-(\d{1,7}))?$/.exec(item.trim());
    if (!m) fail('MAGNET_BAD_SELECT', `so item "${item.slice(0, 40)}" is not an index or range`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || a >= MAX_SELECT || b >= MAX_SELECT)
      fail('MAGNET_BAD_SELECT', `so range "${item}" is invalid`);
    if (set.size + (b - a + 1) > MAX_SELECT) fail('MAGNET_BAD_SELECT', 'so selects too many files');
    for (let i = a; i <= b; i++) set.add(i);
  }
  return [...set].sort((x, y) => x - y);
}

/** A magnet link for an info-hash (hex string or 20 bytes) and optional extras. */
export function buildMagnet(m: MagnetInput): string {
  const hash =
    typeof m.infoHash === 'string' ? m.infoHash.toLowerCase() : Buffer.from(m.infoHash).toString('hex');
  if (!/^[0-9a-f]{40}$/.test(hash))
    fail('MAGNET_BAD_INFOHASH', 'info-hash must be 20 bytes or 40 hex characters');
  const parts = [`xt=urn:btih:${hash}`];
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
