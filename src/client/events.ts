/** Typed events of a Client. */
import type { Peer } from '../peer/index.js';
import type { DisconnectInfo } from '../peer/disconnect.js';
import type { Torrent } from '../torrent/torrent.js';
import type { FileErrorInfo, TorrentState } from '../torrent/types.js';
import type { WebSeedErrorInfo } from '../torrent/web-seed.js';
import type { AnnounceInfo, TrackerErrorInfo } from '../tracker/index.js';
import type { SettingName } from '../settings/index.js';
import type { Alert } from './alerts.js';
import type { PeerAddress } from '../util/compact.js';
import type { PortMapping, PortMappingFailure } from '../portmap/types.js';

/** A listener threw: which emitter, for which event, and what it threw. */
export interface ListenerErrorInfo {
  emitter: 'client' | 'torrent' | 'peer';
  event: string;
  error: Error;
  torrent?: Torrent;
  peer?: Peer<unknown>;
}

export interface ClientEvents {
  /** Every alert record (src/client/alerts.ts) of the categories in `alert_categories`. */
  alert: [alert: Alert];
  /**
   * A listener of the Client, of a Torrent or of a Peer threw. The engine carried on (a
   * throwing Peer listener closes that peer with INTERNAL_ERROR, see peer-error).
   */
  'listener-error': [info: ListenerErrorInfo];
  /** applySettings changed these settings. */
  'settings-changed': [names: SettingName[]];
  /** The listen socket is bound. */
  listening: [port: number];
  'torrent-added': [torrent: Torrent];
  'torrent-removed': [torrent: Torrent];
  /** A peer completed its handshake and joined a torrent. */
  'peer-connect': [torrent: Torrent, peer: Peer<unknown>];
  /**
   * Any connection we made or accepted closed, with the reason; `torrent` is undefined when it
   * never joined one (refused handshake, failed connect).
   */
  'peer-disconnect': [peer: Peer<unknown>, info: DisconnectInfo, torrent: Torrent | undefined];
  'piece-hash-pass': [torrent: Torrent, index: number];
  'piece-hash-fail': [torrent: Torrent, index: number, peers: string[]];
  'check-progress': [torrent: Torrent, checked: number, total: number];
  'torrent-state': [torrent: Torrent, state: TorrentState, previous: TorrentState];
  /** Every wanted piece of the torrent is verified and on disk. */
  'torrent-done': [torrent: Torrent];
  'torrent-error': [torrent: Torrent, error: Error];
  'file-error': [torrent: Torrent, info: FileErrorInfo];
  banned: [torrent: Torrent, host: string];
  /**
   * A local service discovery announce (BEP 14) from the LAN named this torrent: the sender's
   * address and listen port (also added to the torrent's candidates with source 'lsd').
   */
  'lsd-peer': [torrent: Torrent, peer: PeerAddress];
  'resume-saved': [torrent: Torrent];
  /**
   * A listen port was mapped on the gateway (UPnP or NAT-PMP), or its mapping renewed
   * (`renewal`): the external port and address peers can reach us on.
   */
  'port-mapped': [mapping: PortMapping, renewal: boolean];
  /** A port mapping (or its renewal) failed; it is tried again later. */
  'port-mapping-error': [failure: PortMappingFailure];
  /** A tracker answered an announce of the torrent. */
  'tracker-announce': [torrent: Torrent, info: AnnounceInfo];
  'tracker-warning': [torrent: Torrent, info: { url: string; message: string }];
  /** An announce or scrape failed, with a stable code and the reason. */
  'tracker-error': [torrent: Torrent, info: TrackerErrorInfo];
  /** A web seed of the torrent failed: it rests and retries (`retryInMs`) or was `dropped`. */
  'web-seed-error': [torrent: Torrent, info: WebSeedErrorInfo];
  /**
   * An engine listener or hook threw while handling this peer (a bug, not the peer's fault): the
   * peer was closed with INTERNAL_ERROR and the process keeps running.
   */
  'peer-error': [peer: Peer<unknown>, error: Error, torrent: Torrent | undefined];
  /** A client-level problem that did not stop the client (e.g. a resume file that could not be written). */
  warning: [error: Error];
}
