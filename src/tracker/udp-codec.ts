/**
 * UDP tracker packets (BEP 15, BEP 41), pure. All integers are big-endian (Net::BitTorrent wrote
 * the 64-bit fields little-endian; trackers then saw nonsense). Both directions are here so our
 * server and our client share one definition of the format.
 */
import { decodeCompactPeers, decodeCompactPeers6, type PeerAddress } from '../util/compact.js';
import { NbtError } from '../util/errors.js';
import { printableText } from './text.js';
import type { AnnounceEvent, ScrapeEntry } from './types.js';

/** 0x41727101980, the connect request's magic. */
export const PROTOCOL_ID = 0x41727101980n;
export const ACTION_CONNECT = 0;
export const ACTION_ANNOUNCE = 1;
export const ACTION_SCRAPE = 2;
export const ACTION_ERROR = 3;
/** BEP 15: "up to about 74 torrents can be scraped at once". */
export const MAX_SCRAPE_HASHES = 74;

const EVENT_CODES: Record<AnnounceEvent, number> = { periodic: 0, completed: 1, started: 2, stopped: 3 };
const EVENTS: readonly AnnounceEvent[] = ['periodic', 'completed', 'started', 'stopped'];

export function eventCode(e: AnnounceEvent): number {
  return EVENT_CODES[e];
}

function bad(message: string, offset?: number): never {
  throw new NbtError(
    'TRACKER_BAD_PACKET',
    `udp tracker: ${message}`,
    offset === undefined ? undefined : { offset },
  );
}

function u64(n: number | bigint): bigint {
  const v = typeof n === 'bigint' ? n : BigInt(Math.max(0, Math.floor(Number.isFinite(n) ? n : 0)));
  return v < 0n ? 0n : v > 0xffffffffffffffffn ? 0xffffffffffffffffn : v;
}

// ---- client → tracker -------------------------------------------------------------------------

export function encodeConnectRequest(transactionId: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(PROTOCOL_ID, 0);
  b.writeUInt32BE(ACTION_CONNECT, 8);
  b.writeUInt32BE(transactionId >>> 0, 12);
  return b;
}

export interface UdpAnnounceFields {
  /** 8 bytes. */
  connectionId: Uint8Array;
  transactionId: number;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  downloaded: number | bigint;
  left: number | bigint;
  uploaded: number | bigint;
  event: AnnounceEvent;
  /** IPv4 address as a 32-bit number; 0 lets the tracker use the packet's source. */
  ip?: number;
  key: number;
  /** -1 means the tracker's default. */
  numwant: number;
  port: number;
  /** BEP 41 URLData: the announce URL's path and query, split into 255-byte options. */
  urlData?: string | undefined;
}

/** Most URLData bytes we send (BEP 41 allows any number of 255-byte chunks; keep packets small). */
const MAX_URL_DATA = 1024;

export function encodeAnnounceRequest(f: UdpAnnounceFields): Buffer {
  if (f.connectionId.length !== 8)
    throw new NbtError('TRACKER_BAD_ARGUMENT', 'connection id must be 8 bytes');
  if (f.infoHash.length !== 20 || f.peerId.length !== 20)
    throw new NbtError('TRACKER_BAD_ARGUMENT', 'info-hash and peer id must be 20 bytes');
  const url = f.urlData ? Buffer.from(f.urlData, 'utf8').subarray(0, MAX_URL_DATA) : Buffer.alloc(0);
  const options: Buffer[] = [];
  for (let i = 0; i < url.length; i += 255) {
    const chunk = url.subarray(i, i + 255);
    options.push(Buffer.from([0x02, chunk.length]), chunk);
  }
  if (options.length) options.push(Buffer.from([0x00]));
  const b = Buffer.alloc(98);
  Buffer.from(f.connectionId).copy(b, 0);
  b.writeUInt32BE(ACTION_ANNOUNCE, 8);
  b.writeUInt32BE(f.transactionId >>> 0, 12);
  Buffer.from(f.infoHash).copy(b, 16);
  Buffer.from(f.peerId).copy(b, 36);
  b.writeBigUInt64BE(u64(f.downloaded), 56);
  b.writeBigUInt64BE(u64(f.left), 64);
  b.writeBigUInt64BE(u64(f.uploaded), 72);
  b.writeUInt32BE(EVENT_CODES[f.event], 80);
  b.writeUInt32BE((f.ip ?? 0) >>> 0, 84);
  b.writeUInt32BE(f.key >>> 0, 88);
  b.writeInt32BE(Math.max(-1, Math.min(0x7fffffff, Math.floor(f.numwant))), 92);
  b.writeUInt16BE(f.port & 0xffff, 96);
  return options.length ? Buffer.concat([b, ...options]) : b;
}

export function encodeScrapeRequest(
  connectionId: Uint8Array,
  transactionId: number,
  infoHashes: readonly Uint8Array[],
): Buffer {
  if (infoHashes.length === 0 || infoHashes.length > MAX_SCRAPE_HASHES)
    throw new NbtError('TRACKER_BAD_ARGUMENT', `scrape takes 1..${MAX_SCRAPE_HASHES} info-hashes`);
  const b = Buffer.alloc(16 + 20 * infoHashes.length);
  Buffer.from(connectionId).copy(b, 0);
  b.writeUInt32BE(ACTION_SCRAPE, 8);
  b.writeUInt32BE(transactionId >>> 0, 12);
  infoHashes.forEach((h, i) => {
    if (h.length !== 20) throw new NbtError('TRACKER_BAD_ARGUMENT', 'info-hash must be 20 bytes');
    Buffer.from(h).copy(b, 16 + 20 * i);
  });
  return b;
}

// ---- tracker → client -------------------------------------------------------------------------

export type UdpTrackerResponse =
  | { action: 'connect'; transactionId: number; connectionId: Buffer }
  | {
      action: 'announce';
      transactionId: number;
      interval: number;
      leechers: number;
      seeders: number;
      peers: PeerAddress[];
    }
  | { action: 'scrape'; transactionId: number; entries: ScrapeEntry[] }
  | { action: 'error'; transactionId: number; message: string };

/** Most peers read from one announce response. */
const MAX_PEERS = 5000;

/**
 * Decodes a tracker's reply. `family` is the address family of the packet's source, which
 * decides the peer format (BEP 15: 6-byte v4 or 18-byte v6 entries).
 */
export function decodeTrackerResponse(packet: Uint8Array, family: 4 | 6 = 4): UdpTrackerResponse {
  const b = Buffer.isBuffer(packet)
    ? packet
    : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  if (b.length < 8) bad(`packet of ${b.length} bytes is too short`, b.length);
  const action = b.readUInt32BE(0);
  const transactionId = b.readUInt32BE(4);
  switch (action) {
    case ACTION_CONNECT:
      if (b.length < 16) bad('connect response shorter than 16 bytes', b.length);
      return { action: 'connect', transactionId, connectionId: Buffer.from(b.subarray(8, 16)) };
    case ACTION_ANNOUNCE: {
      if (b.length < 20) bad('announce response shorter than 20 bytes', b.length);
      const stride = family === 4 ? 6 : 18;
      // Extensions may add bytes; whole entries only, the rest is ignored.
      const usable = Math.min(Math.floor((b.length - 20) / stride), MAX_PEERS) * stride;
      const list = b.subarray(20, 20 + usable);
      return {
        action: 'announce',
        transactionId,
        interval: b.readUInt32BE(8),
        leechers: b.readUInt32BE(12),
        seeders: b.readUInt32BE(16),
        peers: family === 4 ? decodeCompactPeers(list) : decodeCompactPeers6(list),
      };
    }
    case ACTION_SCRAPE: {
      const entries: ScrapeEntry[] = [];
      for (let o = 8; o + 12 <= b.length && entries.length < MAX_SCRAPE_HASHES; o += 12)
        entries.push({
          complete: b.readUInt32BE(o),
          downloaded: b.readUInt32BE(o + 4),
          incomplete: b.readUInt32BE(o + 8),
        });
      return { action: 'scrape', transactionId, entries };
    }
    case ACTION_ERROR:
      return {
        action: 'error',
        transactionId,
        message: printableText(b.subarray(8), 1024),
      };
    default:
      return bad(`unknown action ${action}`, 0);
  }
}

// ---- server side: client → tracker decoding, tracker → client encoding ------------------------

export type UdpTrackerRequest =
  | { action: 'connect'; transactionId: number }
  | {
      action: 'announce';
      connectionId: Buffer;
      transactionId: number;
      infoHash: Buffer;
      peerId: Buffer;
      downloaded: bigint;
      left: bigint;
      uploaded: bigint;
      event: AnnounceEvent;
      ip: number;
      key: number;
      numwant: number;
      port: number;
      /** BEP 41 URLData concatenated, if any. */
      urlData: string | undefined;
    }
  | { action: 'scrape'; connectionId: Buffer; transactionId: number; infoHashes: Buffer[] };

export function decodeTrackerRequest(packet: Uint8Array): UdpTrackerRequest {
  const b = Buffer.isBuffer(packet)
    ? packet
    : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  if (b.length < 16) bad(`request of ${b.length} bytes is too short`, b.length);
  const action = b.readUInt32BE(8);
  const transactionId = b.readUInt32BE(12);
  if (action === ACTION_CONNECT) {
    if (b.readBigUInt64BE(0) !== PROTOCOL_ID) bad('connect request without the protocol id', 0);
    return { action: 'connect', transactionId };
  }
  const connectionId = Buffer.from(b.subarray(0, 8));
  if (action === ACTION_ANNOUNCE) {
    if (b.length < 98) bad('announce request shorter than 98 bytes', b.length);
    const code = b.readUInt32BE(80);
    const event = EVENTS[code];
    if (event === undefined) bad(`unknown event ${code}`, 80);
    return {
      action: 'announce',
      connectionId,
      transactionId,
      infoHash: Buffer.from(b.subarray(16, 36)),
      peerId: Buffer.from(b.subarray(36, 56)),
      downloaded: b.readBigUInt64BE(56),
      left: b.readBigUInt64BE(64),
      uploaded: b.readBigUInt64BE(72),
      event,
      ip: b.readUInt32BE(84),
      key: b.readUInt32BE(88),
      numwant: b.readInt32BE(92),
      port: b.readUInt16BE(96),
      urlData: readUrlData(b, 98),
    };
  }
  if (action === ACTION_SCRAPE) {
    const n = Math.floor((b.length - 16) / 20);
    if (n === 0) bad('scrape request without info-hashes', 16);
    const infoHashes: Buffer[] = [];
    for (let i = 0; i < Math.min(n, MAX_SCRAPE_HASHES); i++)
      infoHashes.push(Buffer.from(b.subarray(16 + 20 * i, 36 + 20 * i)));
    return { action: 'scrape', connectionId, transactionId, infoHashes };
  }
  return bad(`unknown action ${action}`, 8);
}

/** BEP 41 options: 0 end, 1 no-op, 2 URLData (length byte + bytes). Unknown options end parsing. */
function readUrlData(b: Buffer, at: number): string | undefined {
  const parts: Buffer[] = [];
  let o = at;
  while (o < b.length) {
    const type = b[o]!;
    if (type === 0x00) break;
    if (type === 0x01) {
      o++;
      continue;
    }
    if (type !== 0x02 || o + 1 >= b.length) break;
    const len = b[o + 1]!;
    if (o + 2 + len > b.length) break;
    parts.push(b.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return parts.length ? Buffer.concat(parts).toString('utf8') : undefined;
}

export function encodeConnectResponse(transactionId: number, connectionId: Uint8Array): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(ACTION_CONNECT, 0);
  b.writeUInt32BE(transactionId >>> 0, 4);
  Buffer.from(connectionId).copy(b, 8);
  return b;
}

export function encodeAnnounceResponse(
  transactionId: number,
  r: { interval: number; leechers: number; seeders: number; compactPeers: Uint8Array },
): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32BE(ACTION_ANNOUNCE, 0);
  b.writeUInt32BE(transactionId >>> 0, 4);
  b.writeUInt32BE(r.interval >>> 0, 8);
  b.writeUInt32BE(r.leechers >>> 0, 12);
  b.writeUInt32BE(r.seeders >>> 0, 16);
  return Buffer.concat([b, r.compactPeers]);
}

export function encodeScrapeResponse(transactionId: number, entries: readonly ScrapeEntry[]): Buffer {
  const b = Buffer.alloc(8 + 12 * entries.length);
  b.writeUInt32BE(ACTION_SCRAPE, 0);
  b.writeUInt32BE(transactionId >>> 0, 4);
  entries.forEach((e, i) => {
    b.writeUInt32BE(e.complete >>> 0, 8 + 12 * i);
    b.writeUInt32BE(e.downloaded >>> 0, 12 + 12 * i);
    b.writeUInt32BE(e.incomplete >>> 0, 16 + 12 * i);
  });
  return b;
}

export function encodeErrorResponse(transactionId: number, message: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(ACTION_ERROR, 0);
  b.writeUInt32BE(transactionId >>> 0, 4);
  return Buffer.concat([b, Buffer.from(message, 'utf8').subarray(0, 1024)]);
}
