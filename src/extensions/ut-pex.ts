/**
 * ut_pex (BEP 11) message codec: compact added/dropped contacts for IPv4 and IPv6, with one
 * flag byte per added contact. Pure; throws only NbtError (PEX_*, BENCODE_*, COMPACT_*).
 */
import { decode, encode, dictGet, isDict, isBytes, type BDict } from '../bencode/index.js';
import { NbtError } from '../util/errors.js';
import {
  decodeCompactPeers,
  decodeCompactPeers6,
  encodeCompactPeers,
  formatAddress,
  type PeerAddress,
} from '../util/compact.js';

export const PexFlags = {
  /** Prefers encryption (the 'e' field of its extension handshake). */
  ENCRYPTION: 0x01,
  /** Seed or upload-only. */
  SEED: 0x02,
  UTP: 0x04,
  HOLEPUNCH: 0x08,
  /** We connected out to it, so it is reachable. */
  REACHABLE: 0x10,
} as const;

/** Combined v4 + v6 added (and, separately, dropped) contacts per message (BEP 11). */
export const PEX_MAX_PEERS = 50;
/** Largest payload decoded; 50 + 50 IPv6 contacts with flags need about 2 KiB. */
export const PEX_MAX_PAYLOAD = 8 * 1024;

export interface PexPeer extends PeerAddress {
  flags: number;
}

/** A peer learnt through PEX. */
export interface PexSourcedPeer extends PexPeer {
  source: { kind: 'pex' };
}

export interface PexMessage {
  added: readonly PexPeer[];
  dropped: readonly PeerAddress[];
}

export interface DecodedPex {
  added: PexSourcedPeer[];
  dropped: PeerAddress[];
  /** True when the message carried more than the limit and the excess was ignored. */
  truncated: boolean;
}

/** PEX must never run on private torrents (BEP 27); the engine checks this before enabling ut_pex. */
export function pexAllowed(torrent: { private: boolean }): boolean {
  return !torrent.private;
}

const isV6 = (p: PeerAddress): boolean => p.host.includes(':') && !p.host.startsWith('::ffff:');

export function encodePex(msg: PexMessage): Buffer {
  const added4 = msg.added.filter((p) => !isV6(p));
  const added6 = msg.added.filter(isV6);
  const flags = (list: readonly PexPeer[]): Buffer => Buffer.from(list.map((p) => p.flags & 0xff));
  const body: Record<string, Buffer> = {};
  if (added4.length) {
    body.added = encodeCompactPeers(added4, 4);
    body['added.f'] = flags(added4);
  }
  if (added6.length) {
    body.added6 = encodeCompactPeers(added6, 6);
    body['added6.f'] = flags(added6);
  }
  const dropped4 = msg.dropped.filter((p) => !isV6(p));
  const dropped6 = msg.dropped.filter(isV6);
  if (dropped4.length) body.dropped = encodeCompactPeers(dropped4, 4);
  if (dropped6.length) body.dropped6 = encodeCompactPeers(dropped6, 6);
  return encode(body);
}

function field(d: BDict, key: string): Buffer | undefined {
  const v = dictGet(d, key);
  if (v === undefined) return undefined;
  if (!isBytes(v)) throw new NbtError('PEX_BAD_FIELD', `ut_pex: "${key}" is not a byte string`);
  return v;
}

function peers(d: BDict, key: string, family: 4 | 6): PeerAddress[] {
  const b = field(d, key);
  if (!b) return [];
  return family === 4 ? decodeCompactPeers(b) : decodeCompactPeers6(b);
}

function peersWithFlags(d: BDict, key: string, family: 4 | 6): PexPeer[] {
  const b = field(d, key);
  if (!b) return [];
  const entry = family === 4 ? 6 : 18;
  if (b.length % entry !== 0)
    throw new NbtError('PEX_BAD_FIELD', `ut_pex: "${key}" length ${b.length} is not a multiple of ${entry}`);
  const f = field(d, `${key}.f`);
  const out: PexPeer[] = [];
  for (let i = 0; i < b.length; i += entry) {
    // Decode one at a time so a port-0 entry does not shift the flags of the rest.
    const [p] =
      family === 4
        ? decodeCompactPeers(b.subarray(i, i + entry))
        : decodeCompactPeers6(b.subarray(i, i + entry));
    const flags = f && f.length === b.length / entry ? f[i / entry]! : 0;
    if (p) out.push({ ...p, flags });
  }
  return out;
}

/**
 * Decodes a ut_pex payload. Duplicates are removed, contacts both added and dropped are
 * ignored, and at most `maxPeers` added / dropped are kept (`truncated` says if more came).
 */
export function decodePex(payload: Uint8Array, maxPeers = PEX_MAX_PEERS): DecodedPex {
  if (payload.length > PEX_MAX_PAYLOAD)
    throw new NbtError('PEX_TOO_LARGE', `ut_pex: payload of ${payload.length} bytes`);
  const d = decode(payload, { maxDepth: 4, maxTokens: 64, allowUnsorted: true });
  if (!isDict(d)) throw new NbtError('PEX_NOT_DICT', 'ut_pex: message is not a dictionary', { offset: 0 });
  const dropped = dedupe([...peers(d, 'dropped', 4), ...peers(d, 'dropped6', 6)]);
  const addedAll = dedupe([...peersWithFlags(d, 'added', 4), ...peersWithFlags(d, 'added6', 6)]);
  // A contact both added and dropped in one message is contradictory: ignore it in both lists.
  const droppedKeys = new Set(dropped.map(formatAddress));
  const addedKeys = new Set(addedAll.map(formatAddress));
  const added = addedAll.filter((p) => !droppedKeys.has(formatAddress(p)));
  const droppedOnly = dropped.filter((p) => !addedKeys.has(formatAddress(p)));
  return {
    added: added
      .slice(0, maxPeers)
      .map((p) => ({ host: p.host, port: p.port, flags: p.flags, source: { kind: 'pex' } })),
    dropped: droppedOnly.slice(0, maxPeers),
    truncated: added.length > maxPeers || droppedOnly.length > maxPeers,
  };
}

function dedupe<T extends PeerAddress>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = formatAddress(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
