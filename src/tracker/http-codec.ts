/**
 * HTTP tracker codec (BEP 3, BEP 7, BEP 23, BEP 48), pure: announce and scrape URLs in,
 * bencoded responses out. Every malformed response becomes an NbtError with a TRACKER_* code.
 */
import { decode, dictGet, isBytes, isDict, isInt, type BDict, type BValue } from '../bencode/index.js';
import { decodeCompactPeers, decodeCompactPeers6, type PeerAddress } from '../util/compact.js';
import { NbtError } from '../util/errors.js';
import { isIP } from 'node:net';
import { printableText } from './text.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeResult } from './types.js';

/** A `failure reason` from the tracker; `retryIn` is BEP 31's `retry in` (minutes), if given. */
export class TrackerFailure extends NbtError {
  readonly retryInMinutes: number | undefined;
  constructor(reason: string, retryInMinutes?: number) {
    super('TRACKER_FAILURE', `tracker failure: ${reason}`);
    this.retryInMinutes = retryInMinutes;
  }
}

/** Decoder limits: a tracker response is small; these bound work on hostile bodies. */
const DECODE_LIMITS = { maxDepth: 8, maxTokens: 100_000, allowUnsorted: true } as const;
/** Most peers accepted from one response (dictionary and compact together). */
export const MAX_PEERS_PER_RESPONSE = 5000;
/** Longest failure/warning text kept. */
const MAX_MESSAGE = 1024;

/** Percent-encodes raw bytes: unreserved characters stay, all else is %XX (upper case). */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const unreserved =
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Decodes %XX and '+' in a query component to raw bytes (no UTF-8 interpretation of escapes). */
export function percentDecodeBytes(s: string): Buffer {
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const hi = c === 0x25 && i + 2 < src.length ? hexValue(src[i + 1]!) : -1;
    const lo = hi >= 0 ? hexValue(src[i + 2] ?? 0) : -1;
    if (hi >= 0 && lo >= 0) {
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else out[n++] = c === 0x2b ? 0x20 : c;
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Parses a raw query string into byte values per key (keys as latin1 text); repeated keys collect. */
export function parseQuery(query: string, maxPairs = 256): Map<string, Buffer[]> {
  const out = new Map<string, Buffer[]>();
  if (query.startsWith('?')) query = query.slice(1);
  if (!query) return out;
  const parts = query.split('&');
  if (parts.length > maxPairs)
    throw new NbtError('TRACKER_BAD_QUERY', `more than ${maxPairs} query parameters`);
  for (const part of parts) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = percentDecodeBytes(eq < 0 ? part : part.slice(0, eq)).toString('latin1');
    const value = percentDecodeBytes(eq < 0 ? '' : part.slice(eq + 1));
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

function appendQuery(base: string, params: string[]): string {
  const hashAt = base.indexOf('#');
  const clean = hashAt >= 0 ? base.slice(0, hashAt) : base;
  const sep = clean.includes('?') ? (clean.endsWith('?') || clean.endsWith('&') ? '' : '&') : '?';
  return clean + sep + params.join('&');
}

/** The announce URL for one request; an existing query in `base` (passkeys) is kept. */
export function buildAnnounceUrl(base: string, r: AnnounceRequest): string {
  const p = [
    `info_hash=${percentEncodeBytes(r.infoHash)}`,
    `peer_id=${percentEncodeBytes(r.peerId)}`,
    `port=${r.port}`,
    `uploaded=${Math.max(0, Math.floor(r.uploaded))}`,
    `downloaded=${Math.max(0, Math.floor(r.downloaded))}`,
    `left=${Math.max(0, Math.floor(r.left))}`,
    'compact=1',
    'no_peer_id=1',
    `numwant=${r.event === 'stopped' ? 0 : Math.max(0, Math.floor(r.numwant))}`,
    `key=${(r.key >>> 0).toString(16).toUpperCase().padStart(8, '0')}`,
  ];
  if (r.event !== 'periodic') p.push(`event=${r.event}`);
  if (r.trackerId !== undefined)
    p.push(`trackerid=${percentEncodeBytes(Buffer.from(r.trackerId, 'latin1'))}`);
  if (r.ipv4 !== undefined) p.push(`ipv4=${encodeURIComponent(r.ipv4)}`);
  if (r.ipv6 !== undefined) p.push(`ipv6=${encodeURIComponent(r.ipv6)}`);
  return appendQuery(base, p);
}

/**
 * BEP 48: the scrape URL is the announce URL with the last path segment's leading "announce"
 * replaced by "scrape". Undefined when the tracker does not follow the convention.
 */
export function scrapeUrlFor(announceUrl: string): string | undefined {
  const queryAt = announceUrl.search(/[?#]/);
  const path = queryAt >= 0 ? announceUrl.slice(0, queryAt) : announceUrl;
  const rest = queryAt >= 0 ? announceUrl.slice(queryAt) : '';
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  const slash = path.lastIndexOf('/');
  if (!authority || slash < authority[0].length) return undefined;
  if (!path.startsWith('announce', slash + 1)) return undefined;
  return path.slice(0, slash + 1) + 'scrape' + path.slice(slash + 1 + 'announce'.length) + rest;
}

export function buildScrapeUrl(scrapeUrl: string, infoHashes: readonly Uint8Array[]): string {
  return appendQuery(
    scrapeUrl,
    infoHashes.map((h) => `info_hash=${percentEncodeBytes(h)}`),
  );
}

function bad(message: string): never {
  throw new NbtError('TRACKER_BAD_RESPONSE', `tracker response: ${message}`);
}

function decodeBody(body: Uint8Array): BDict {
  if (body.length === 0) bad('empty body');
  const v = decode(body, DECODE_LIMITS);
  if (!isDict(v)) bad('not a dictionary');
  return v;
}

function message(v: BValue | undefined): string | undefined {
  return isBytes(v) ? printableText(v, MAX_MESSAGE) : undefined;
}

/** An integer field within [0, max] or undefined; a present but non-integer value is an error. */
function count(d: BDict, key: string, max = 0x7fffffff): number | undefined {
  const v = dictGet(d, key);
  if (v === undefined) return undefined;
  if (!isInt(v)) bad(`"${key}" is not an integer`);
  const n = Number(v);
  if (n < 0) bad(`"${key}" is negative`);
  return Math.min(n, max);
}

function failureOf(d: BDict): void {
  const reason = dictGet(d, 'failure reason');
  if (reason === undefined) return;
  const retry = dictGet(d, 'retry in');
  throw new TrackerFailure(message(reason) ?? 'unspecified', isInt(retry) ? Number(retry) : undefined);
}

function dictPeers(list: BValue[]): PeerAddress[] {
  const out: PeerAddress[] = [];
  for (const item of list) {
    if (out.length >= MAX_PEERS_PER_RESPONSE) break;
    if (!isDict(item)) continue;
    const ip = dictGet(item, 'ip');
    const port = dictGet(item, 'port');
    if (!isBytes(ip) || !isInt(port)) continue;
    const host = ip.toString('latin1');
    const p = Number(port);
    if (isIP(host) === 0 || !(p > 0 && p < 65536)) continue;
    out.push({ host, port: p });
  }
  return out;
}

/** Parses an announce response. Throws TrackerFailure for `failure reason`, NbtError otherwise. */
export function parseAnnounceResponse(body: Uint8Array): AnnounceResponse {
  const d = decodeBody(body);
  failureOf(d);
  const interval = count(d, 'interval');
  if (interval === undefined) bad('no "interval"');
  const peers: PeerAddress[] = [];
  const raw = dictGet(d, 'peers');
  if (isBytes(raw)) {
    if (raw.length % 6 !== 0) bad(`compact "peers" length ${raw.length} is not a multiple of 6`);
    peers.push(...decodeCompactPeers(raw.subarray(0, MAX_PEERS_PER_RESPONSE * 6)));
  } else if (Array.isArray(raw)) peers.push(...dictPeers(raw));
  else if (raw !== undefined) bad('"peers" is neither a string nor a list');
  const raw6 = dictGet(d, 'peers6');
  if (isBytes(raw6)) {
    if (raw6.length % 18 !== 0) bad(`"peers6" length ${raw6.length} is not a multiple of 18`);
    const room = Math.max(0, MAX_PEERS_PER_RESPONSE - peers.length);
    peers.push(...decodeCompactPeers6(raw6.subarray(0, room * 18)));
  } else if (raw6 !== undefined) bad('"peers6" is not a string');
  const trackerId = dictGet(d, 'tracker id');
  return {
    interval,
    minInterval: count(d, 'min interval'),
    trackerId: isBytes(trackerId) && trackerId.length <= 256 ? trackerId.toString('latin1') : undefined,
    warning: message(dictGet(d, 'warning message')),
    seeders: count(d, 'complete'),
    leechers: count(d, 'incomplete'),
    peers,
  };
}

/** Parses a scrape response (BEP 48): `files` keyed by 20-byte info-hash. */
export function parseScrapeResponse(body: Uint8Array): ScrapeResult {
  const d = decodeBody(body);
  failureOf(d);
  const files = dictGet(d, 'files');
  if (!isDict(files)) bad('no "files" dictionary');
  const out: ScrapeResult = new Map();
  for (const key of Object.keys(files)) {
    if (key.length !== 20) continue;
    const entry = files[key];
    if (!isDict(entry)) bad('scrape entry is not a dictionary');
    out.set(Buffer.from(key, 'latin1').toString('hex'), {
      complete: count(entry, 'complete') ?? 0,
      incomplete: count(entry, 'incomplete') ?? 0,
      downloaded: count(entry, 'downloaded') ?? 0,
    });
  }
  return out;
}
