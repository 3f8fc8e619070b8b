/** A torrent's peer addresses: where a closed peer's address goes, and the addresses worth keeping. */
import type { Peer } from '../peer/index.js';
import { DisconnectReason, type DisconnectInfo } from '../peer/disconnect.js';
import type { PeerAddress } from '../util/compact.js';
import type { CandidateList } from './candidates.js';

/** After these a peer's address is not dialled again. */
const FINAL_REASONS: readonly DisconnectReason[] = [
  DisconnectReason.SEED,
  DisconnectReason.LOOPBACK,
  DisconnectReason.CORRUPT_DATA,
  DisconnectReason.BANNED,
];

/**
 * Returns a closed peer's listen address (`port`, the one it was marked connected under; none
 * when it was never known) to the candidates; it is retried later unless `mayRetry` is false
 * (torrent removed, host banned) or the close reason is final.
 */
export function releaseAddress(
  candidates: CandidateList,
  peer: Peer<unknown>,
  port: number | undefined,
  info: DisconnectInfo,
  now: () => number,
  mayRetry: boolean,
): void {
  if (port === undefined) return;
  const retry = mayRetry && !FINAL_REASONS.includes(info.reason);
  candidates.release({ host: peer.host, port }, peer.source, now(), retry);
}

/**
 * The port a peer accepts connections on: the one we dialled, or for an incoming peer the one
 * its extended handshake names (undefined until then). An incoming connection's source port is
 * not an address: kept as one, every such connection left an entry behind that its close,
 * which knows only the listen port, never removed.
 */
export function listenPortOf(peer: Peer<unknown>): number | undefined {
  return peer.listenPort ?? (peer.incoming ? undefined : peer.port);
}

/** Addresses worth reconnecting to later: connected peers' listen addresses and candidates. */
export function knownAddresses(candidates: CandidateList, peers: Iterable<Peer<unknown>>): PeerAddress[] {
  const out = candidates.addresses();
  for (const p of peers) {
    const port = p.incoming ? p.listenPort : p.port;
    if (port) out.push({ host: p.host, port });
  }
  return out;
}
