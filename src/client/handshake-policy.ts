/**
 * Who may connect: the client's answer to every handshake (incoming or outgoing) — the torrent
 * the peer joins, or the disconnect reason it is refused with, checked in a fixed order.
 */
import { DisconnectReason } from '../peer/disconnect.js';
import type { HandshakeInfo, PeerAttach } from '../peer/types.js';
import type { Peer } from '../peer/index.js';
import { peerPriority } from '../peer/priority.js';
import type { PeerAddress } from '../util/compact.js';
import type { BDict } from '../bencode/index.js';
import type { Torrent } from '../torrent/torrent.js';
import type { ConnectionLimits } from './options.js';
import type { IpFilter } from './ip-filter.js';
import { normalizeHost, type ConnectionTable } from './connection-table.js';

export interface HandshakePolicy {
  peerId: Buffer;
  limits: ConnectionLimits;
  ipFilter: IpFilter;
  connections: ConnectionTable;
  torrent(infoHashHex: string): Torrent | undefined;
  /** Extra keys for our extension handshake to peers of this torrent. */
  handshakeKeys(torrent: Torrent): BDict | undefined;
  /** Our address as peers see it (BEP 40 ranks against it), undefined while unknown. */
  self(): PeerAddress | undefined;
  /** Closes a connection to make room for a better-ranked newcomer. */
  evict(peer: Peer<unknown>): void;
}

/** Accept or refuse a peer whose handshake arrived. */
export function decideHandshake(
  policy: HandshakePolicy,
  info: HandshakeInfo,
): PeerAttach<Torrent> | DisconnectReason {
  const torrent = policy.torrent(info.infoHash.toString('hex'));
  if (!torrent) return DisconnectReason.NO_SUCH_TORRENT;
  if (info.peerId.equals(policy.peerId)) return DisconnectReason.LOOPBACK;
  if (torrent.isBanned(info.host)) return DisconnectReason.BANNED;
  if (!policy.ipFilter.allows(info.host)) return DisconnectReason.IP_FILTERED;
  if (torrent.state === 'checking') return DisconnectReason.HASHCHECKING;
  if (!torrent.acceptsPeers) return DisconnectReason.TORRENT_STOPPED;
  // The same peer id in the same direction is a plain duplicate. In the other direction it is
  // a simultaneous dial: both are accepted and the duplicate rule keeps one (duplicates.ts).
  const existing = torrent.peerById(info.peerId);
  if (existing && existing.incoming === info.incoming) return DisconnectReason.PREEXISTING;
  // A connection about to be replaced does not count against the limits.
  const replacing = existing ? 1 : 0;
  // A full torrent keeps the peers BEP 40 ranks highest: a newcomer that outranks the lowest
  // connection takes its place, so every peer of the swarm agrees whom to keep.
  let evict: Peer<unknown> | undefined;
  if (torrent.peerCount - replacing >= policy.limits.maxPeersPerTorrent) {
    evict = replacing ? undefined : outranked(policy.self(), torrent, info);
    if (!evict) return DisconnectReason.TOO_MANY;
  }
  // Per host, only established connections count: a half-open attempt of ours to the same
  // address must not hide a loopback or be mistaken for a second connection. Connections the
  // other way to this host in this torrent may be this peer's simultaneous dial: they do not
  // count either (the client resolves the pair once attached).
  const host = normalizeHost(info.host);
  let twins = 0;
  for (const p of torrent.peers) if (p.incoming !== info.incoming && normalizeHost(p.host) === host) twins++;
  if (policy.connections.attachedCount(host) - twins >= policy.limits.maxPerHost)
    return DisconnectReason.TOO_MANY;
  if (evict) policy.evict(evict);
  const keys = policy.handshakeKeys(torrent);
  // A magnet without metadata yet: piece count unknown, nothing to announce or serve.
  const known = torrent.hasMetadata;
  return {
    torrent,
    ...(known
      ? {
          pieceCount: torrent.metainfo.pieceCount,
          have: torrent.advertisedHave,
          metadataSize: torrent.metainfo.info.length,
        }
      : {}),
    ...(keys ? { extendedHandshake: keys } : {}),
    ...(torrent.infoHashes.v2 ? { v2: true } : {}),
    infoHash: torrent.infoHash,
  };
}

/** The address BEP 40 ranks a connected peer by: its listen port when known. */
function rankedAddress(p: Peer<unknown>): PeerAddress {
  return { host: normalizeHost(p.host), port: p.listenPort ?? p.port };
}

/** The lowest-ranked connection of `torrent` if the newcomer outranks it (BEP 40), else undefined. */
export function outranked(
  self: PeerAddress | undefined,
  torrent: Pick<Torrent, 'peers'>,
  info: Pick<HandshakeInfo, 'host' | 'port'>,
): Peer<unknown> | undefined {
  if (!self) return undefined;
  let lowest: { peer: Peer<unknown>; rank: number } | undefined;
  for (const p of torrent.peers) {
    const rank = peerPriority(self, rankedAddress(p));
    if (!lowest || rank < lowest.rank) lowest = { peer: p, rank };
  }
  const rank = peerPriority(self, { host: normalizeHost(info.host), port: info.port });
  return lowest && rank > lowest.rank ? lowest.peer : undefined;
}
