/**
 * Hook points for what plugs into the engine later: BEP 10 extensions (ut_metadata, ut_pex, …)
 * and session-wide services (tracker announcers, the DHT node, local discovery). The client
 * registers extension names with every Peer, routes their messages, and tells services about
 * torrents; services feed peers back with `torrent.addPeers(addresses, source)`.
 */
import type { BDict } from '../bencode/index.js';
import type { Peer } from '../peer/index.js';
import type { DisconnectInfo } from '../peer/disconnect.js';
import type { ExtendedHandshake } from '../wire/index.js';
import type { Torrent } from './torrent.js';
import type { TorrentEventRecord } from './types.js';

export interface EngineExtension {
  /** The BEP 10 name we announce in our extension handshake's `m` (e.g. 'ut_pex'). */
  readonly name: string;
  /** Extra keys for our extension handshake to peers of this torrent (e.g. metadata_size). */
  handshakeKeys?(torrent: Torrent): BDict | undefined;
  /** Whether peers of this torrent see the extension in our handshake (default: yes). */
  offeredFor?(torrent: Torrent): boolean;
  /** A peer joined a torrent. */
  peerAttached?(torrent: Torrent, peer: Peer<unknown>): void;
  /** The peer's extension handshake arrived (it may or may not support this extension). */
  peerHandshake?(torrent: Torrent, peer: Peer<unknown>, handshake: ExtendedHandshake): void;
  /** An extended message for this extension arrived from the peer. */
  message?(torrent: Torrent, peer: Peer<unknown>, payload: Buffer): void;
  /** The peer left. */
  peerDetached?(torrent: Torrent, peer: Peer<unknown>, info: DisconnectInfo): void;
}

export interface ClientService {
  readonly name: string;
  /** A torrent was added (it starts right after). */
  torrentAdded?(torrent: Torrent): void;
  /** A torrent was removed. */
  torrentRemoved?(torrent: Torrent): void;
  /**
   * Every event of every torrent in the session, before the torrent's own listeners (one hook
   * for all torrents instead of listeners on each). A throw is reported as a listener error.
   */
  torrentEvent?(torrent: Torrent, e: TorrentEventRecord): void;
  /** The client is closing: stop, and release sockets and timers. */
  close?(): Promise<void> | void;
}
