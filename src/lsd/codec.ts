/**
 * BEP 14 announces: `BT-SEARCH * HTTP/1.1` over UDP multicast, with Host, Port, one or more
 * Infohash headers and an optional cookie (libtorrent's way of spotting its own announces when
 * multicast loops back). Pure: bytes in, an announce or an NbtError out.
 */
import { NbtError } from '../util/errors.js';

/** The IPv4 (org-local) and IPv6 (site-local) LSD groups, and the port both use. */
export const LSD_PORT = 6771;
export const LSD_GROUP_V4 = '239.192.152.143';
export const LSD_GROUP_V6 = 'ff15::efc0:988f';

/** BEP 14: a multi-hash announce should stay under this, to avoid fragmentation. */
export const LSD_MAX_PACKET = 1400;
/** What we read at most: larger datagrams are refused unread (real announces are far smaller). */
export const LSD_MAX_INPUT = 4096;
/** Header lines accepted in one announce (bounds the work on hostile input). */
export const LSD_MAX_LINES = 64;
const MAX_COOKIE = 64;

export interface LsdAnnounce {
  /** The Host header as sent (the group and port), '' when absent. */
  host: string;
  /** The sender's BitTorrent listen port. */
  port: number;
  /** 20-byte info-hashes, in header order, without duplicates. */
  infoHashes: Buffer[];
  /** The sender's cookie, when it sent one. */
  cookie?: string;
}

export type LsdFamily = 4 | 6;

/** The Host header value for a family: the group with the port, IPv6 in brackets (RFC 2732). */
export function lsdHostHeader(family: LsdFamily): string {
  return family === 6 ? `[${LSD_GROUP_V6}]:${LSD_PORT}` : `${LSD_GROUP_V4}:${LSD_PORT}`;
}

const HEADER_BYTES = (family: LsdFamily, port: number, cookie: string | undefined): number =>
  `BT-SEARCH * HTTP/1.1\r\nHost: ${lsdHostHeader(family)}\r\nPort: ${port}\r\n\r\n\r\n`.length +
  (cookie === undefined ? 0 : `cookie: ${cookie}\r\n`.length);
const INFOHASH_LINE = 'Infohash: \r\n'.length + 40;

/** Encodes one announce; throws LSD_BAD_ANNOUNCE for a bad port, hash or cookie. */
export function encodeAnnounce(
  family: LsdFamily,
  port: number,
  infoHashes: readonly Buffer[],
  cookie?: string,
): Buffer {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new NbtError('LSD_BAD_ANNOUNCE', `port ${port} out of 1..65535`);
  if (infoHashes.length === 0) throw new NbtError('LSD_BAD_ANNOUNCE', 'no info-hash to announce');
  if (cookie !== undefined && !/^[\x21-\x7e]{1,64}$/.test(cookie))
    throw new NbtError('LSD_BAD_ANNOUNCE', 'cookie must be 1..64 printable characters');
  let text = `BT-SEARCH * HTTP/1.1\r\nHost: ${lsdHostHeader(family)}\r\nPort: ${port}\r\n`;
  for (const h of infoHashes) {
    if (h.length !== 20) throw new NbtError('LSD_BAD_ANNOUNCE', `info-hash of ${h.length} bytes`);
    text += `Infohash: ${h.toString('hex')}\r\n`;
  }
  if (cookie !== undefined) text += `cookie: ${cookie}\r\n`;
  return Buffer.from(`${text}\r\n\r\n`, 'latin1');
}

/** How many info-hashes fit in one announce of at most LSD_MAX_PACKET bytes. */
export function hashesPerPacket(family: LsdFamily, port: number, cookie?: string): number {
  return Math.floor((LSD_MAX_PACKET - HEADER_BYTES(family, port, cookie)) / INFOHASH_LINE);
}

function fail(code: string, message: string, offset: number): never {
  throw new NbtError(code, message, { offset });
}

/**
 * Decodes an announce. Header names are case-insensitive and unknown headers are ignored (BEP 14
 * asks for that); lines may end in CRLF or LF. Infohash values that are not 40 hex digits (a
 * future v2 hash, say) are skipped, but an announce must carry at least one valid one.
 * Errors: LSD_TOO_LARGE, LSD_BAD_REQUEST_LINE, LSD_BAD_HEADER, LSD_TOO_MANY_HEADERS,
 * LSD_BAD_PORT, LSD_NO_INFOHASH.
 */
export function decodeAnnounce(data: Uint8Array): LsdAnnounce {
  if (data.length > LSD_MAX_INPUT)
    fail('LSD_TOO_LARGE', `announce of ${data.length} bytes (limit ${LSD_MAX_INPUT})`, 0);
  const text = Buffer.from(data.buffer, data.byteOffset, data.length).toString('latin1');
  let pos = 0;
  let lines = 0;
  /** The next line without its terminator, or undefined at the end of the data. */
  const nextLine = (): string | undefined => {
    if (pos >= text.length) return undefined;
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(pos, end > pos && text[end - 1] === '\r' ? end - 1 : end);
    pos = nl < 0 ? text.length : nl + 1;
    return line;
  };
  const request = nextLine();
  if (request === undefined || !/^BT-SEARCH \* HTTP\/1\.[01]$/i.test(request))
    fail('LSD_BAD_REQUEST_LINE', 'not a BT-SEARCH * HTTP/1.1 request', 0);
  let host = '';
  let port: number | undefined;
  let cookie: string | undefined;
  const hashes = new Map<string, Buffer>();
  for (;;) {
    const start = pos;
    const line = nextLine();
    if (line === undefined || line === '') break;
    if (++lines > LSD_MAX_LINES) fail('LSD_TOO_MANY_HEADERS', `more than ${LSD_MAX_LINES} headers`, start);
    const colon = line.indexOf(':');
    if (colon <= 0) fail('LSD_BAD_HEADER', 'header line without a name', start);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'host') host = value;
    else if (name === 'port') {
      const n = Number(value);
      if (!/^\d{1,5}$/.test(value) || n < 1 || n > 65535)
        fail('LSD_BAD_PORT', `bad port "${value.slice(0, 16)}"`, start);
      port = n;
    } else if (name === 'infohash') {
      if (/^[0-9a-f]{40}$/i.test(value)) {
        const key = value.toLowerCase();
        if (!hashes.has(key)) hashes.set(key, Buffer.from(key, 'hex'));
      }
    } else if (name === 'cookie') cookie = value.slice(0, MAX_COOKIE);
  }
  if (port === undefined) fail('LSD_BAD_PORT', 'no Port header', pos);
  if (hashes.size === 0) fail('LSD_NO_INFOHASH', 'no valid Infohash header', pos);
  const out: LsdAnnounce = { host, port, infoHashes: [...hashes.values()] };
  if (cookie !== undefined && cookie !== '') out.cookie = cookie;
  return out;
}
