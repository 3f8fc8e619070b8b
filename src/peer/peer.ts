import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { Socket } from 'node:net';
import { Bitfield } from '../util/bitfield.js';
import type { ExtendedHandshake, ExtensionRegistry } from '../wire/index.js';
import { DisconnectReason, type DisconnectInfo } from './disconnect.js';
import type {
  PeerAcceptOptions,
  PeerConnectOptions,
  PeerEncryption,
  PeerEvents,
  PeerSource,
  PeerState,
} from './types.js';

/**
 * One connection to a remote BitTorrent client (Net::BitTorrent::Peer's successor). Create with
 * `Peer.connect()` (outgoing) or `Peer.accept()` (incoming). `T` is whatever the handshake hook
 * attaches as `torrent`, so this layer does not depend on the engine.
 */
export class Peer<T = unknown> extends EventEmitter<PeerEvents> {
  static connect<T>(options: PeerConnectOptions<T>): Peer<T> {
    void options;
    throw new Error('not implemented yet');
  }

  static accept<T>(socket: Socket, options: PeerAcceptOptions<T>): Peer<T> {
    void socket;
    void options;
    throw new Error('not implemented yet');
  }

  // ---- identity ----
  /** Remote address (as connected to, or the socket's remote address for incoming). */
  readonly host: string = '';
  /** Remote port (for incoming: the socket's source port, not its listen port — see `listenPort`). */
  readonly port: number = 0;
  readonly incoming: boolean = false;
  readonly source: PeerSource = { kind: 'user' };
  /** Remote peer id; undefined before the handshake. */
  peerId: Buffer | undefined;
  /** Remote's reserved bytes from its plaintext handshake; undefined before the handshake. */
  reservedBytes: Buffer | undefined;
  /** Info-hash of the torrent this connection is about (known up front for outgoing). */
  infoHash: Buffer | undefined;
  /** Whatever the handshake hook attached; undefined until the handshake completes. */
  torrent: T | undefined;
  encryption: PeerEncryption = 'none';
  state: PeerState = 'connecting';
  /** Clock time (ms) when the TCP connection was established / accepted. */
  connectedAt: number | undefined;
  /** The remote's extension handshake, once received. */
  extensions: ExtendedHandshake | undefined;
  /** Local and remote extension ids (register more names before the handshake). */
  readonly extensionRegistry!: ExtensionRegistry;
  /** Both sides announced the Fast extension (BEP 6). */
  fastExtension = false;
  /** Both sides announced the extension protocol (BEP 10). */
  extensionProtocol = false;
  /** The remote's DHT port from a PORT message. */
  dhtPort: number | undefined;
  /** The remote's listen port from its extension handshake (`p`), or `port` for outgoing. */
  listenPort: number | undefined;

  // ---- choke/interest ----
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;

  // ---- pieces ----
  /** Pieces the remote reported (size 0 until the piece count is known). */
  bitfield: Bitfield = new Bitfield(0);
  /** Pieces the remote said it allows us to fetch while choked (BEP 6). */
  readonly allowedFastSet = new Set<number>();
  /** Pieces the remote suggested (BEP 6). */
  readonly suggested = new Set<number>();

  // ---- counters ----
  /** Our requests still waiting for a piece or reject. */
  requestsOut = 0;
  /** The remote's requests we have not answered (piece or reject) yet. */
  requestsIn = 0;
  /** Payload bytes (piece blocks) received / sent. */
  downloaded = 0;
  uploaded = 0;
  /** All bytes received / sent on the socket, including protocol overhead and MSE. */
  bytesReceived = 0;
  bytesSent = 0;

  /** Payload download rate, bytes/s. */
  get downloadRate(): number {
    return 0;
  }
  /** Payload upload rate, bytes/s. */
  get uploadRate(): number {
    return 0;
  }
  /** Total (payload + protocol) download rate, bytes/s. */
  get downloadRateTotal(): number {
    return 0;
  }
  /** Total upload rate, bytes/s. */
  get uploadRateTotal(): number {
    return 0;
  }
  /** Bytes waiting in the socket's write buffer. */
  get writeBufferBytes(): number {
    return 0;
  }
  /** True while the write buffer is above the high-water mark; wait for 'drain' before sending more pieces. */
  get congested(): boolean {
    return false;
  }
  /** Decoded client name from the peer id ('libtorrent 2.0.8', 'Transmission 3.00', ...). */
  get clientName(): string {
    return '';
  }
  get closed(): boolean {
    return this.state === 'closed';
  }

  // ---- sending ----
  choke(): void {}
  unchoke(): void {}
  interested(): void {}
  notInterested(): void {}
  have(index: number): void {
    void index;
  }
  /** Sends our bitfield (normally done for you right after the handshake). */
  sendBitfield(bitfield: Bitfield): void {
    void bitfield;
  }
  haveAll(): void {}
  haveNone(): void {}
  request(index: number, begin: number, length: number): void {
    (void index, begin, length);
  }
  cancel(index: number, begin: number, length: number): void {
    (void index, begin, length);
  }
  /** Sends a block; `block` is written as its own chunk, never copied. */
  piece(index: number, begin: number, block: Buffer): void {
    (void index, begin, block);
  }
  reject(index: number, begin: number, length: number): void {
    (void index, begin, length);
  }
  allowedFast(index: number): void {
    void index;
  }
  suggest(index: number): void {
    void index;
  }
  /** Sends a PORT message (our DHT port); named sendPort because `port` is the remote's port. */
  sendPort(dhtPort: number): void {
    void dhtPort;
  }
  /** Sends an extended message by extension name; false when the remote does not support it. */
  extended(name: string, payload: Buffer): boolean {
    (void name, payload);
    return false;
  }
  keepAlive(): void {}

  /** Sets the piece count once metadata is known (magnet); validates a bitfield received earlier. */
  setPieceCount(pieceCount: number): void {
    void pieceCount;
  }

  /** Closes the connection; 'close' is emitted once with this reason. */
  close(
    reason: DisconnectReason = DisconnectReason.CLOSED_BY_US,
    detail?: string | Partial<DisconnectInfo>,
  ): void {
    (void reason, detail);
  }

  /** A ready-to-print dump: address, id, client, direction, flags, encryption, rates; verbose adds the piece map. */
  asString(verbose = false): string {
    void verbose;
    return '';
  }

  override toString(): string {
    return this.asString(false);
  }

  [inspect.custom](): string {
    return this.asString(true);
  }
}
