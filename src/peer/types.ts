import type { Socket } from 'node:net';
import type { Clock } from '../util/clock.js';
import type { Connector } from '../net/transport.js';
import type { Bitfield } from '../util/bitfield.js';
import type { BDict } from '../bencode/index.js';
import type { ExtendedHandshake, ReservedFlags, Message } from '../wire/index.js';
import type { DisconnectInfo, DisconnectReason } from './disconnect.js';
import type { InputBudgetLimits } from './input-budget.js';
import type { Peer } from './peer.js';
import type { EventRecord } from '../util/typed-emitter.js';

/** How we treat Message Stream Encryption (MSE/PE). */
export type EncryptionPolicy = 'disabled' | 'enabled' | 'required';

/**
 * What the connection ended up using: 'none' = plain BitTorrent handshake, 'rc4' = MSE with RC4,
 * 'plaintext-negotiated' = an MSE handshake that selected plaintext for the payload.
 */
export type PeerEncryption = 'none' | 'rc4' | 'plaintext-negotiated';

export type PeerSourceKind = 'incoming' | 'tracker' | 'dht' | 'pex' | 'lsd' | 'user' | 'resume' | 'magnet';

/** Where we learned about this peer (`url` = the tracker's announce URL, for example). */
export interface PeerSource {
  kind: PeerSourceKind;
  url?: string;
}

export type PeerState = 'connecting' | 'encrypting' | 'handshaking' | 'connected' | 'closed';

/** What the `onHandshake` hook sees once the remote's plaintext handshake has arrived. */
export interface HandshakeInfo {
  infoHash: Buffer;
  peerId: Buffer;
  /** The remote's 8 reserved bytes. */
  reserved: Buffer;
  host: string;
  port: number;
  incoming: boolean;
  encryption: PeerEncryption;
  /** Features both sides announced (ours AND theirs). */
  fast: boolean;
  extended: boolean;
  dht: boolean;
}

/** The hook's answer when it accepts the peer. */
export interface PeerAttach<T> {
  /** Whatever object the caller wants `peer.torrent` to be (the engine's Torrent). */
  torrent: T;
  /**
   * Pieces in the torrent; undefined while the metadata is unknown (magnet links). Set it later
   * with `peer.setPieceCount(n)`.
   */
  pieceCount?: number;
  /**
   * Our pieces, sent right after the handshake as have-all / have-none (Fast) or bitfield.
   * Omitted: nothing (or have-none with Fast) is sent.
   */
  have?: Bitfield;
  /** BEP 9 metadata_size for our extension handshake (when we have the info dictionary). */
  metadataSize?: number;
  /** More keys for our extension handshake (e.g. upload_only). */
  extendedHandshake?: BDict;
  /** BEP 52: the torrent has a v2 hash; an incoming peer's reply handshake sets the v2 bit. */
  v2?: boolean;
  /**
   * The torrent's own copy of its info-hash: kept instead of one per connection when it is the
   * one the peer sent (a hybrid's other hash is not).
   */
  infoHash?: Buffer;
}

/**
 * Accepts the peer (attach) or refuses it with a reason (NO_SUCH_TORRENT, LOOPBACK, TOO_MANY, ...).
 * `peer` is the connection asking, so that one hook can serve every connection.
 */
export type HandshakeHook<T> = (info: HandshakeInfo, peer: Peer<unknown>) => PeerAttach<T> | DisconnectReason;

/**
 * Optional bandwidth gate: called with a byte count before that many bytes are sent (upload) or
 * after they were received (download); a returned promise delays further sending / reading
 * until it settles. A token bucket's `take(bytes)` fits. `peer` is the connection the bytes
 * are for, so that one gate can serve every connection.
 */
export type BandwidthGate = (bytes: number, peer: Peer<unknown>) => Promise<void> | void;

export interface PeerTimeouts {
  /** Connecting, per attempt (CONNECT_TIMEOUT). Default 15 s. */
  connect?: number;
  /** From connect/accept until the remote's handshake is complete (TIMEOUT_HANDSHAKE). Default 30 s. */
  handshake?: number;
  /** Send a keep-alive when we have sent nothing for this long. Default 120 s. */
  keepAlive?: number;
  /** Close when nothing was received for this long (IDLE_TIMEOUT). Default 180 s. */
  idle?: number;
  /** Close when neither side is interested for this long (USELESS_PEER). Default 180 s; 0 disables. */
  useless?: number;
  /**
   * With several connectors (uTP, then TCP): start the next one too when the first has not
   * connected after this long; the first to connect wins. Default 500 ms; 0 = strictly in turn.
   */
  race?: number;
}

export interface PeerCommonOptions<T> {
  /** Our 20-byte peer id. */
  peerId: Buffer;
  onHandshake: HandshakeHook<T>;
  /** Default 'enabled'. */
  encryption?: EncryptionPolicy;
  clock?: Clock;
  /** Feature bits we announce. Default { extended: true, fast: true, dht: false }. */
  reserved?: ReservedFlags;
  /** Local BEP 10 extensions by name (ids assigned in order from 1), e.g. ['ut_metadata', 'ut_pex']. */
  extensions?: Iterable<string>;
  /** `v` in our extension handshake. Default 'net-bittorrent <version>'. */
  clientVersion?: string;
  /** `p` in our extension handshake: our listen port. */
  listenPort?: number;
  /** `reqq` in our extension handshake. Default 500. */
  maxIncomingRequests?: number;
  /** Largest request length we accept from the remote (and piece block we accept). Default 16 KiB. */
  maxRequestLength?: number;
  timeouts?: PeerTimeouts;
  /** Socket write-buffer bytes above which `congested` is true (wait for 'drain'). Default 1 MiB. */
  highWaterMark?: number;
  /**
   * Hard cap on write-buffer bytes: a peer that does not read what we send is closed with
   * WRITE_BUFFER_FULL above it. Default 16 MiB (at least 4 × highWaterMark).
   */
  maxWriteBuffer?: number;
  /**
   * Flood protection: what the remote may make us process per window (keep-alives, extension
   * handshakes, control messages, extended bytes); over it the peer is closed with FLOOD.
   * Default DEFAULT_INPUT_BUDGET; partial limits override it.
   */
  inputBudget?: Partial<InputBudgetLimits>;
  bandwidth?: { upload?: BandwidthGate; download?: BandwidthGate };
  /**
   * Outgoing connections read into one process-wide buffer instead of a fresh one per read
   * (less garbage, fewer and larger reads). Piece blocks in 'message' events are then views
   * into that buffer, valid only until the listener returns: copy a block to keep it. Other
   * messages are unaffected. The engine turns this on; default false.
   */
  reuseReadBuffer?: boolean;
}

export interface PeerConnectOptions<T> extends PeerCommonOptions<T> {
  host: string;
  port: number;
  /** The torrent we want from this peer. */
  infoHash: Buffer;
  /**
   * Another name of the torrent the remote's handshake may answer with: a hybrid's truncated v2
   * hash, which a BEP 52 peer replies with when we set the v2 bit (libtorrent does).
   */
  altInfoHash?: Buffer;
  source?: PeerSource;
  /**
   * Where the connection comes from: a Connector (a Network such as the Client's), or several
   * tried in order — one that cannot connect hands over to the next. Default: TCP.
   */
  connector?: Connector | readonly Connector[];
}

export interface PeerAcceptOptions<T> extends PeerCommonOptions<T> {
  /** Info-hashes we serve, for matching an incoming MSE SKEY. */
  infoHashes: () => Iterable<Buffer>;
}

/** Typed events of a Peer. */
export interface PeerEvents {
  /** Connected (outgoing only, once even across attempts), before MSE and the handshake. */
  connect: [];
  /** The remote's handshake arrived and the hook accepted it; our handshake has been sent. */
  handshake: [info: HandshakeInfo];
  /** The remote's BEP 10 extension handshake (also when it sends another one later). */
  'extended-handshake': [handshake: ExtendedHandshake];
  /** Every decoded message, after the Peer updated its own state (flags, bitfield, counters). */
  message: [message: Message];
  /** An extended message for one of our registered extensions, by name. */
  extended: [name: string, payload: Buffer];
  /** The transport's write buffer fell below the high-water mark. */
  drain: [];
  /** Exactly once. */
  close: [info: DisconnectInfo];
  /**
   * A listener of this peer (engine code) or the handshake hook threw. The peer is closed with
   * INTERNAL_ERROR; the error is reported here instead of being rethrown from a socket callback.
   */
  'internal-error': [error: Error, event: string];
}

/** One peer event as its owner sees it (name and arguments, narrowed by `event`). */
export type PeerEventRecord = EventRecord<PeerEvents>;

/**
 * The owner's one observer of its peers' events (the Client's connection handling), called
 * before a peer's listeners: what listeners on every connection would do, without their
 * closures and event maps. A throw counts as a listener's (the peer closes, INTERNAL_ERROR).
 */
export interface PeerObserver<T> {
  /** Every event but `message`. */
  peerEvent(peer: Peer<T>, e: PeerEventRecord): void;
  /** Every decoded message (the hot path: no record per message). */
  peerMessage(peer: Peer<T>, m: Message): void;
}

/** What `Peer.accept` takes besides a Transport: a net.Socket (wrapped as a TcpTransport). */
export type AcceptSocket = Socket;
