/**
 * Our tracker's HTTP side as a pure function: path, query and the client's address in, the
 * bencoded body out. Binary query values (info_hash, peer_id) are percent-decoded as bytes.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { encode, type BEncodable } from '../../bencode/index.js';
import { encodeCompactPeers } from '../../util/compact.js';
import { isNbtError } from '../../util/errors.js';
import { parseQuery } from '../http-codec.js';
import type { AnnounceEvent } from '../types.js';
import { normalizeHost, type SwarmStore } from './swarm.js';

export interface HttpHandlerOptions {
  /** Honour the `ip` parameter (only behind a trusted proxy or in tests; default false). */
  trustIpParam?: boolean;
}

export interface HttpReply {
  status: number;
  body: Buffer;
}

const EVENTS: Record<string, AnnounceEvent> = {
  started: 'started',
  completed: 'completed',
  stopped: 'stopped',
  '': 'periodic',
};
/** BEP 48 scrape: at most this many hashes per request (no full scrape). */
const MAX_SCRAPE = 100;

function failure(reason: string): HttpReply {
  return { status: 200, body: encode({ 'failure reason': reason }) };
}

function one(q: Map<string, Buffer[]>, key: string): Buffer | undefined {
  return q.get(key)?.[0];
}

function int(q: Map<string, Buffer[]>, key: string): number | undefined {
  const v = one(q, key)?.toString('latin1');
  if (v === undefined || !/^-?\d{1,20}$/.test(v)) return undefined;
  return Number(v);
}

export function handleTrackerHttp(
  store: SwarmStore,
  pathAndQuery: string,
  remoteHost: string,
  now: number,
  o: HttpHandlerOptions = {},
): HttpReply {
  const qAt = pathAndQuery.indexOf('?');
  const path = qAt >= 0 ? pathAndQuery.slice(0, qAt) : pathAndQuery;
  let q: Map<string, Buffer[]>;
  try {
    q = parseQuery(qAt >= 0 ? pathAndQuery.slice(qAt + 1) : '');
  } catch {
    return failure('malformed query');
  }
  if (path === '/announce') return announce(store, q, remoteHost, now, o);
  if (path === '/scrape') return scrape(store, q);
  return { status: 404, body: encode({ 'failure reason': 'not found' }) };
}

function announce(
  store: SwarmStore,
  q: Map<string, Buffer[]>,
  remote: string,
  now: number,
  o: HttpHandlerOptions,
): HttpReply {
  const infoHash = one(q, 'info_hash');
  const peerId = one(q, 'peer_id');
  const port = int(q, 'port');
  const left = int(q, 'left');
  if (!infoHash || infoHash.length !== 20) return failure('invalid info_hash');
  if (!peerId || peerId.length !== 20) return failure('invalid peer_id');
  if (port === undefined || !(port > 0 && port < 65536)) return failure('invalid port');
  const eventName = one(q, 'event')?.toString('latin1') ?? '';
  const event = EVENTS[eventName];
  if (!event) return failure('invalid event');
  let host = normalizeHost(remote);
  const ipParam = one(q, 'ip')?.toString('latin1');
  if (o.trustIpParam && ipParam && (isIPv4(ipParam) || isIPv6(ipParam))) host = normalizeHost(ipParam);
  const compact = one(q, 'compact')?.toString('latin1') !== '0';
  const noPeerId = one(q, 'no_peer_id')?.toString('latin1') === '1';
  let reply;
  try {
    reply = store.announce(
      { infoHash, peerId, host, port, event, left: left ?? 0, numwant: int(q, 'numwant') },
      now,
    );
  } catch (e) {
    return failure(isNbtError(e) ? e.message : 'internal error');
  }
  const body: { [k: string]: BEncodable } = {
    interval: reply.interval,
    'min interval': reply.minInterval,
    complete: reply.complete,
    incomplete: reply.incomplete,
  };
  if (compact) {
    body.peers = encodeCompactPeers(reply.peers, 4);
    const v6 = encodeCompactPeers(reply.peers, 6);
    if (v6.length || isIPv6(host)) body.peers6 = v6;
  } else {
    body.peers = reply.peers.map((p) =>
      noPeerId ? { ip: p.host, port: p.port } : { ip: p.host, port: p.port, 'peer id': p.peerId },
    );
  }
  return { status: 200, body: encode(body) };
}

function scrape(store: SwarmStore, q: Map<string, Buffer[]>): HttpReply {
  const hashes = (q.get('info_hash') ?? []).filter((h) => h.length === 20).slice(0, MAX_SCRAPE);
  if (hashes.length === 0) return failure('full scrape is not supported; name info_hash');
  const entries = store.scrape(hashes);
  const files = new Map<string, BEncodable>();
  hashes.forEach((h, i) => {
    if (!store.allowed(h.toString('hex'))) return;
    const e = entries[i]!;
    files.set(h.toString('latin1'), {
      complete: e.complete,
      downloaded: e.downloaded,
      incomplete: e.incomplete,
    });
  });
  return { status: 200, body: encode({ files }) };
}
