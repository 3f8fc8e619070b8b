/**
 * Our tracker's UDP side (BEP 15) as a pure function: one datagram and its source in, at most
 * one reply out. Garbage gets no reply (so the tracker cannot be used to reflect traffic);
 * a bad connection id gets an error packet.
 */
import { isIPv4 } from 'node:net';
import { encodeCompactPeers } from '../../util/compact.js';
import { isNbtError } from '../../util/errors.js';
import {
  decodeTrackerRequest,
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  type UdpTrackerRequest,
} from '../udp-codec.js';
import type { ConnectionIds } from './connection-id.js';
import { normalizeHost, type SwarmStore } from './swarm.js';

export function handleTrackerUdp(
  store: SwarmStore,
  ids: ConnectionIds,
  packet: Buffer,
  remoteHost: string,
  remotePort: number,
  now: number,
): Buffer | undefined {
  let req: UdpTrackerRequest;
  try {
    req = decodeTrackerRequest(packet);
  } catch {
    return undefined;
  }
  const host = normalizeHost(remoteHost);
  if (req.action === 'connect')
    return encodeConnectResponse(req.transactionId, ids.issue(host, remotePort, now));
  if (!ids.valid(req.connectionId, host, remotePort, now))
    return encodeErrorResponse(req.transactionId, 'invalid or expired connection id');
  if (req.action === 'scrape') {
    const allowed = req.infoHashes.map((h) => store.allowed(h.toString('hex')));
    if (!allowed.every(Boolean)) return encodeErrorResponse(req.transactionId, 'torrent not tracked here');
    return encodeScrapeResponse(req.transactionId, store.scrape(req.infoHashes));
  }
  try {
    const family = isIPv4(host) ? 4 : 6;
    const r = store.announce(
      {
        infoHash: req.infoHash,
        peerId: req.peerId,
        host,
        port: req.port,
        event: req.event,
        left: req.left,
        numwant: req.numwant,
      },
      now,
    );
    return encodeAnnounceResponse(req.transactionId, {
      interval: r.interval,
      leechers: r.incomplete,
      seeders: r.complete,
      compactPeers: encodeCompactPeers(r.peers, family),
    });
  } catch (e) {
    return encodeErrorResponse(req.transactionId, isNbtError(e) ? e.message : 'internal error');
  }
}
