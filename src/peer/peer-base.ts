import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { Bitfield } from '../util/bitfield.js';
import type { Clock } from '../util/clock.js';
import type { ExtendedHandshake, ExtensionRegistry, HashRef, Message } from '../wire/index.js';
import type { DisconnectInfo } from './disconnect.js';
import { clientNameFromPeerId } from './client-id.js';
import { formatPeer } from './format.js';
import { RateMeters } from './rate.js';
import { RemotePieces } from './remote-pieces.js';
import type { PeerEncryption, PeerEvents, PeerSource, PeerState } from './types.js';

const MAX_HINTS = 1_000;
/** The meters of PeerBase.rates. */
export const DOWN = 0;
export const UP = 1;
export const DOWN_TOTAL = 2;
export const UP_TOTAL = 3;
/** The hint sets of a peer that sent none (shared, never changed). */
const NO_PIECES: ReadonlySet<number> = new Set();

export interface PeerIdentity {
  host: string;
  port: number;
  incoming: boolean;
  source: PeerSource;
  infoHash?: Buffer;
  transport: string;
}

/**
 * The observable state of a peer connection — identity, choke/interest flags, the remote's
 * pieces, counters and rates — and the send methods, which only update flags and hand the
 * message to `send`. The I/O (transport, MSE, handshake, timers) lives in the Peer subclass.
 */
export abstract class PeerBase<T> extends EventEmitter<PeerEvents> {
  // ---- identity ----
  /** Remote address (as connected to, or the socket's remote address for incoming). */
  readonly host: string;
  /** Remote port (for incoming: the socket's source port, not its listen port — see `listenPort`). */
  readonly port: number;
  readonly incoming: boolean;
  readonly source: PeerSource;
  /** The transport's kind: 'tcp', 'utp', 'sim', … (outgoing: the first connector's until an attempt connects). */
  transport: string;
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
  readonly extensionRegistry: ExtensionRegistry;
  /** Both sides announced the Fast extension (BEP 6). */
  fastExtension = false;
  /** Both sides announced the extension protocol (BEP 10). */
  extensionProtocol = false;
  /** The remote's DHT port from a PORT message. */
  dhtPort: number | undefined;
  /** The remote's listen port from its extension handshake (`p`), or `port` for outgoing. */
  listenPort: number | undefined;
  /** Set once closed: why. */
  closeInfo: DisconnectInfo | undefined;

  // ---- choke/interest ----
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;

  /** Most requests the remote queues (`reqq` of its extension handshake), once known. */
  get maxRequests(): number | undefined {
    return this.extensions?.reqq;
  }

  // ---- pieces ----
  /** Pieces the remote reported (size 0 until the piece count is known). */
  get bitfield(): Bitfield {
    return this.pieces.bitfield;
  }
  /** Pieces the remote said it allows us to fetch while choked (BEP 6). */
  get allowedFastSet(): ReadonlySet<number> {
    return this.fastPieces ?? NO_PIECES;
  }
  /** Pieces the remote suggested (BEP 6). */
  get suggested(): ReadonlySet<number> {
    return this.suggestions ?? NO_PIECES;
  }
  // Made on the first hint: most connections never get one (an empty Set costs ~150 bytes).
  private fastPieces: Set<number> | undefined;
  private suggestions: Set<number> | undefined;

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

  protected readonly clock: Clock;
  protected readonly pieces = new RemotePieces();
  /** Payload and total rates each way (meters DOWN, UP, DOWN_TOTAL, UP_TOTAL). */
  protected readonly rates: RateMeters;

  protected constructor(clock: Clock, id: PeerIdentity, registry: ExtensionRegistry) {
    super();
    this.clock = clock;
    this.host = id.host;
    this.port = id.port;
    this.incoming = id.incoming;
    this.source = id.source;
    this.infoHash = id.infoHash;
    this.transport = id.transport;
    this.extensionRegistry = registry;
    this.rates = new RateMeters(clock, 4);
  }

  /** Called before the listeners of every event (the subclass hands it to its observer). */
  protected abstract observe(eventName: keyof PeerEvents, args: readonly unknown[]): void;
  /** Queues a message (the subclass decides when and how it is written). */
  protected abstract send(m: Message): void;
  /** A listener threw (an engine bug): the subclass closes the connection and reports it. */
  protected abstract listenerFailed(event: string, error: Error): void;

  /**
   * Calls every listener even when one throws: a throwing listener must neither skip the others
   * (e.g. the client's connection accounting on 'close') nor escape into a socket callback, where
   * it would be an uncaught exception in the host application. Failures go to listenerFailed().
   */
  override emit<K extends keyof PeerEvents>(eventName: K, ...args: PeerEvents[K]): boolean {
    const listeners = this.rawListeners(eventName) as ((...a: unknown[]) => unknown)[];
    try {
      this.observe(eventName, args);
    } catch (e) {
      if (eventName !== 'internal-error')
        this.listenerFailed(String(eventName), e instanceof Error ? e : new Error(String(e)));
    }
    for (const l of listeners) {
      try {
        l.apply(this, args);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        if (eventName === 'internal-error') continue; // never loop on a failing reporter
        this.listenerFailed(String(eventName), error);
      }
    }
    return listeners.length > 0;
  }
  /** Called when we stop being interested (the useless-peer clock restarts). */
  protected abstract interestLost(): void;

  /** Payload download rate, bytes/s. */
  get downloadRate(): number {
    return this.rates.rate(DOWN);
  }
  /** Payload upload rate, bytes/s. */
  get uploadRate(): number {
    return this.rates.rate(UP);
  }
  /** Total (payload + protocol) download rate, bytes/s. */
  get downloadRateTotal(): number {
    return this.rates.rate(DOWN_TOTAL);
  }
  /** Total upload rate, bytes/s. */
  get uploadRateTotal(): number {
    return this.rates.rate(UP_TOTAL);
  }
  /** Decoded client name from the peer id ('libtorrent 2.0.8', 'Transmission 3.00', ...). */
  get clientName(): string {
    return clientNameFromPeerId(this.peerId);
  }
  get closed(): boolean {
    return this.state === 'closed';
  }

  // ---- sending (no-ops once closed; queued until the handshake completes) ----
  /** Idempotent: does nothing when we already choke the peer. */
  choke(): void {
    if (this.amChoking) return;
    this.amChoking = true;
    this.send({ type: 'choke' });
  }
  unchoke(): void {
    if (!this.amChoking) return;
    this.amChoking = false;
    this.send({ type: 'unchoke' });
  }
  interested(): void {
    if (this.amInterested) return;
    this.amInterested = true;
    this.send({ type: 'interested' });
  }
  notInterested(): void {
    if (!this.amInterested) return;
    this.amInterested = false;
    this.interestLost();
    this.send({ type: 'notInterested' });
  }
  have(index: number): void {
    this.send({ type: 'have', index });
  }
  /** Sends our bitfield (normally done for you right after the handshake). */
  sendBitfield(bitfield: Bitfield): void {
    this.send({ type: 'bitfield', bits: bitfield.bytes });
  }
  haveAll(): void {
    this.send({ type: 'haveAll' });
  }
  haveNone(): void {
    this.send({ type: 'haveNone' });
  }
  request(index: number, begin: number, length: number): void {
    this.send({ type: 'request', index, begin, length });
  }
  cancel(index: number, begin: number, length: number): void {
    this.send({ type: 'cancel', index, begin, length });
  }
  /** Sends a block; `block` is written as its own chunk, never copied (do not modify it afterwards). */
  piece(index: number, begin: number, block: Buffer): void {
    this.send({ type: 'piece', index, begin, block });
  }
  reject(index: number, begin: number, length: number): void {
    this.send({ type: 'reject', index, begin, length });
  }
  allowedFast(index: number): void {
    this.send({ type: 'allowedFast', index });
  }
  suggest(index: number): void {
    this.send({ type: 'suggest', index });
  }
  /** Sends a PORT message (our DHT port); named sendPort because `port` is the remote's port. */
  sendPort(dhtPort: number): void {
    this.send({ type: 'port', port: dhtPort });
  }
  keepAlive(): void {
    this.send({ type: 'keepAlive' });
  }
  /** BEP 52: asks for hashes of a file's Merkle tree (answered by `hashes` or `hashReject`). */
  requestHashes(ref: HashRef): void {
    this.send({ ...hashRef(ref), type: 'hashRequest' });
  }
  /** BEP 52: answers a hash request (`hashes`: base-layer hashes then uncles, 32 bytes each). */
  sendHashes(ref: HashRef, hashes: Buffer): void {
    this.send({ ...hashRef(ref), type: 'hashes', hashes });
  }
  /** BEP 52: refuses a hash request. */
  rejectHashes(ref: HashRef): void {
    this.send({ ...hashRef(ref), type: 'hashReject' });
  }
  /** Sends an extended message by extension name; false when the remote does not support it. */
  extended(name: string, payload: Buffer): boolean {
    const id = this.extensionRegistry.remoteId(name);
    if (id === undefined || this.closed) return false;
    this.send({ type: 'extended', id, payload });
    return true;
  }

  /** Our pieces right after the handshake: have-all / have-none with Fast, else a bitfield (if any). */
  protected announce(have: Bitfield | undefined): void {
    if (this.fastExtension) {
      if (have && have.size > 0 && have.complete) this.haveAll();
      else if (!have || have.empty) this.haveNone();
      else this.sendBitfield(have);
    } else if (have && !have.empty) this.sendBitfield(have);
  }

  /** State changes for a received message (everything but extended messages). */
  protected applyIncoming(m: Message): void {
    switch (m.type) {
      case 'choke':
        this.peerChoking = true;
        if (!this.fastExtension) this.requestsOut = 0;
        break;
      case 'unchoke':
        this.peerChoking = false;
        break;
      case 'interested':
        this.peerInterested = true;
        break;
      case 'notInterested':
        this.peerInterested = false;
        break;
      case 'have':
      case 'bitfield':
      case 'haveAll':
      case 'haveNone':
        this.pieces.apply(m);
        break;
      case 'request':
        this.requestsIn++;
        break;
      case 'cancel':
        if (!this.fastExtension && this.requestsIn > 0) this.requestsIn--;
        break;
      case 'piece':
        this.downloaded += m.block.length;
        this.rates.add(DOWN, m.block.length);
        if (this.requestsOut > 0) this.requestsOut--;
        break;
      case 'reject':
        if (this.requestsOut > 0) this.requestsOut--;
        break;
      case 'allowedFast':
        this.fastPieces ??= new Set();
        if (this.fastPieces.size < MAX_HINTS) this.fastPieces.add(m.index);
        break;
      case 'suggest':
        this.suggestions ??= new Set();
        if (this.suggestions.size < MAX_HINTS) this.suggestions.add(m.index);
        break;
      case 'port':
        this.dhtPort = m.port;
        break;
      case 'extended':
      case 'keepAlive':
        break;
    }
  }

  /** Counters, as each message enters the encoder. */
  protected account(m: Message): void {
    switch (m.type) {
      case 'piece':
        this.uploaded += m.block.length;
        this.rates.add(UP, m.block.length);
        if (this.requestsIn > 0) this.requestsIn--;
        break;
      case 'reject':
        if (this.requestsIn > 0) this.requestsIn--;
        break;
      case 'request':
        this.requestsOut++;
        break;
      case 'cancel':
        if (!this.fastExtension && this.requestsOut > 0) this.requestsOut--;
        break;
      case 'choke':
        if (!this.fastExtension) this.requestsIn = 0;
        break;
    }
  }

  /** A ready-to-print dump: address, id, client, direction, flags, encryption, rates; verbose adds the piece map. */
  asString(verbose = false): string {
    return formatPeer(this, verbose, this.clock.now());
  }

  override toString(): string {
    return this.asString(false);
  }

  [inspect.custom](): string {
    return this.asString(true);
  }
}

/** Only the request fields (a received message may be passed as the reference). */
function hashRef(r: HashRef): HashRef {
  return {
    piecesRoot: r.piecesRoot,
    baseLayer: r.baseLayer,
    index: r.index,
    length: r.length,
    proofLayers: r.proofLayers,
  };
}
