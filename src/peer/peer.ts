import { systemClock, type TimerHandle } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import type { Rc4 } from '../mse/index.js';
import {
  ExtensionRegistry,
  WireDecoder,
  encodeHandshake,
  makeReserved,
  internReserved,
  parseExtendedHandshake,
  V2_BIT,
  FAST_MESSAGE_TYPES,
  type ExtendedHandshake,
  type Message,
} from '../wire/index.js';
import { tcpNetwork, TcpTransport } from '../net/tcp.js';
import { Dial, dialPlan, type DialEvents } from '../net/dial.js';
import {
  attachSink,
  TRANSPORT_EVENT,
  type Connector,
  type Transport,
  type TransportEvent,
} from '../net/transport.js';
import { DisconnectReason, POLITE_REASONS, disconnectInfo, type DisconnectInfo } from './disconnect.js';
import { IncomingStage, OutgoingStage, type Established } from './establish.js';
import { reasonForError } from './error-reason.js';
import { IO_GATE, IO_QUEUED, IO_RELEASED, IO_WRITE, SendQueue } from './send-queue.js';
import { TICK, tickQueue, type TickQueue } from './tick-queue.js';
import { DEFAULT_INPUT_BUDGET, InputBudget } from './input-budget.js';
import { DOWN_TOTAL, PeerBase, UP_TOTAL, type PeerIdentity } from './peer-base.js';
import { resolveTimeouts, type ResolvedTimeouts } from './defaults.js';
import {
  handshakeInfoOf,
  ourExtendedHandshake,
  tickInterval,
  type ExtendedHandshakeExtra,
} from './peer-handshake.js';
import type {
  AcceptSocket,
  PeerAcceptOptions,
  PeerCommonOptions,
  PeerConnectOptions,
  PeerEventRecord,
  PeerEvents,
  PeerObserver,
} from './types.js';

/**
 * One connection to a remote BitTorrent client (Net::BitTorrent::Peer's successor). Create with
 * `Peer.connect()` (outgoing) or `Peer.accept()` (incoming). `T` is whatever the handshake hook
 * attaches as `torrent`, so this layer does not depend on the engine. It talks to a Transport
 * (src/net): TCP, or whatever a Connector hands out; a Dial (src/net/dial.ts) owns connecting
 * and the MSE → plaintext retry, so this object stays the same across attempts.
 *
 * Sends are batched: every call queues into a WireEncoder and one flush per microtask turn
 * writes the batch (corked; RC4-encrypted in one pass when MSE chose RC4).
 */
export class Peer<T = unknown> extends PeerBase<T> {
  static connect<T>(options: PeerConnectOptions<T>): Peer<T> {
    const c = options.connector ?? tcpNetwork;
    const connectors: readonly Connector[] = 'connect' in c ? [c] : c;
    const peer = new Peer<T>(options, {
      host: options.host,
      port: options.port,
      incoming: false,
      source: options.source ?? { kind: 'user' },
      infoHash: Buffer.from(options.infoHash),
      transport: connectors[0]?.kind ?? 'none',
    });
    peer.listenPort = options.port;
    peer.altInfoHash = options.altInfoHash;
    const { host, port } = options;
    const plan = dialPlan(connectors, options.encryption ?? 'enabled');
    const sharedReads = options.reuseReadBuffer === true;
    const race = peer.timeouts.race;
    const o = {
      host,
      port,
      plan,
      clock: peer.clock,
      connectTimeout: peer.timeouts.connect,
      sharedReads,
      ...(race > 0 ? { raceAfterMs: race } : {}),
    };
    peer.dial = new Dial(o, peer.dialEvents());
    peer.dial.start();
    return peer;
  }

  /** An incoming connection: a Transport, or (as before) a net.Socket, which is wrapped. */
  static accept<T>(connection: Transport | AcceptSocket, options: PeerAcceptOptions<T>): Peer<T> {
    const t = 'kind' in connection ? connection : new TcpTransport(connection);
    const peer = new Peer<T>(options, {
      host: t.remoteAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''),
      port: t.remotePort,
      incoming: true,
      source: { kind: 'incoming' },
      transport: t.kind,
    });
    peer.stage = new IncomingStage({
      policy: options.encryption ?? 'enabled',
      infoHashes: options.infoHashes,
    });
    peer.use(t);
    peer.transportReady();
    if (t.destroyed) queueMicrotask(() => peer.close(DisconnectReason.SOCKET_ERROR, 'socket already closed'));
    return peer;
  }

  private readonly opts: PeerCommonOptions<T>;
  /** Outgoing: the torrent's other name the reply may carry (PeerConnectOptions.altInfoHash). */
  private altInfoHash: Buffer | undefined;
  private readonly timeouts: Readonly<ResolvedTimeouts>;
  /** Shared between connections (internReserved): never written in place. */
  private ourReserved: Buffer;
  private readonly highWaterMark: number;
  private readonly maxWriteBuffer: number;
  private readonly budget: InputBudget;
  /** The connection in use (undefined while an outgoing attempt is still connecting). */
  private conn: Transport | undefined;
  private connError: NodeJS.ErrnoException | undefined;
  /** Outgoing only: the attempts (TCP+MSE, plaintext retry, other connectors). */
  private dial: Dial | undefined;
  private stage: OutgoingStage | IncomingStage | undefined;
  private readonly decoder: WireDecoder;
  private readonly out: SendQueue;
  private decrypt: Rc4 | null = null;
  private handshakeTimer: TimerHandle | undefined;
  /** Where its keep-alive and timeout checks tick, shared with every peer of the same period. */
  private ticks: TickQueue | undefined;
  private lingerTimer: TimerHandle | undefined;
  private lastReceived = 0;
  private lastSent = 0;
  private lastUseful = 0;
  /** Messages sent before the handshake completed; they go out right after ours (made on the first). */
  private early: Message[] | undefined;
  /** `congested` was reported while pieces waited for the upload gate (see gateReleased). */
  private gateCongested = false;

  private constructor(options: PeerCommonOptions<T>, id: PeerIdentity) {
    super(options.clock ?? systemClock, id, new ExtensionRegistry(options.extensions ?? []));
    if (options.peerId.length !== 20) throw new NbtError('PEER_BAD_OPTIONS', 'peerId must be 20 bytes');
    this.opts = options;
    this.timeouts = resolveTimeouts(options.timeouts);
    this.ourReserved = internReserved(
      makeReserved(options.reserved ?? { extended: true, fast: true, dht: false }),
    );
    this.highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.maxWriteBuffer = options.maxWriteBuffer ?? Math.max(16 * 1024 * 1024, 4 * this.highWaterMark);
    this.budget = new InputBudget(
      options.inputBudget ? { ...DEFAULT_INPUT_BUDGET, ...options.inputBudget } : DEFAULT_INPUT_BUDGET,
    );
    this.decoder = new WireDecoder({ maxRequestLength: options.maxRequestLength });
    this.out = new SendQueue(this);
  }

  /** @internal SendQueueIo: the queue's batch goes out. */
  [IO_WRITE](chunks: Buffer[]): void {
    this.write(chunks);
  }
  /** @internal SendQueueIo: a message entered the encoder. */
  [IO_QUEUED](m: Message): void {
    this.account(m);
  }
  /** @internal SendQueueIo: the session's upload gate (shared), told which peer sends. */
  [IO_GATE](bytes: number): Promise<void> | void {
    return this.opts.bandwidth?.upload?.(bytes, this);
  }
  /** @internal SendQueueIo: the upload gate let held messages through. */
  [IO_RELEASED](): void {
    this.gateReleased();
  }

  /** Stream position just past every byte queued to send so far (ReadCache loans). @internal */
  get queuedEnd(): number {
    return this.bytesSent + this.out.pendingBytes;
  }
  /**
   * No byte before this stream position is referenced by our send path any more; undefined when
   * the transport cannot tell (ReadCache loans). @internal
   */
  get releasedEnd(): number | undefined {
    const conn = this.conn;
    if (!conn || !conn.releasesWritten) return undefined;
    // A destroyed socket writes nothing more, and the send queue dropped what it held.
    if (conn.destroyed) return Number.POSITIVE_INFINITY;
    return this.bytesSent - conn.writableLength;
  }

  /** Bytes waiting in the transport's write buffer (plus our not yet flushed batch). */
  get writeBufferBytes(): number {
    return (this.conn?.writableLength ?? 0) + this.out.pendingBytes;
  }
  /**
   * The upload limit let queued pieces through: if they were what made us congested, say
   * 'drain' (the transport says it only after a write it refused).
   */
  private gateReleased(): void {
    if (this.gateCongested && !this.closed && this.writeBufferBytes <= this.highWaterMark) {
      this.gateCongested = false;
      this.emit('drain');
    }
  }

  /** True while the write buffer is above the high-water mark; wait for 'drain' before sending more pieces. */
  get congested(): boolean {
    const full = this.writeBufferBytes > this.highWaterMark;
    if (full && this.out.pendingBytes > 0) this.gateCongested = true;
    return full;
  }
  /** Sends (again) our extension handshake, e.g. with metadata_size once a magnet's metadata arrived. */
  sendExtendedHandshake(extra: ExtendedHandshakeExtra = {}): void {
    if (!this.extensionProtocol) return;
    const payload = ourExtendedHandshake(this.opts, this.extensionRegistry, this.host, extra);
    this.send({ type: 'extended', id: 0, payload });
  }

  /** Sets the piece count once metadata is known (magnet); validates a bitfield received earlier. */
  setPieceCount(pieceCount: number): void {
    if (this.closed) return;
    try {
      this.pieces.setPieceCount(pieceCount);
    } catch (e) {
      return this.close(DisconnectReason.MALFORMED_PACKET, errorMessage(e));
    }
    this.decoder.setPieceCount(pieceCount);
  }

  /** Closes the connection; 'close' is emitted once (synchronously) with this reason. */
  close(
    reason: DisconnectReason = DisconnectReason.CLOSED_BY_US,
    detail?: string | Partial<DisconnectInfo>,
  ): void {
    if (this.closeInfo) return;
    const info = disconnectInfo(reason, typeof detail === 'string' ? { message: detail } : (detail ?? {}));
    this.closeInfo = info;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    this.handshakeTimer?.cancel();
    this.ticks?.remove(this);
    this.dial?.abort();
    const conn = this.conn;
    if (conn && !conn.destroyed) {
      if (POLITE_REASONS.has(reason) && wasConnected) {
        this.out.flush();
        conn.end();
        this.lingerTimer = this.clock.setTimeout(() => conn.destroy(), 5000);
        conn.once('close', () => this.lingerTimer?.cancel());
      } else conn.destroy();
    }
    this.early = undefined;
    this.out.close();
    this.emit('close', info);
  }

  // ================= connection set-up =================

  /** An outgoing peer's dial hooks (made for it alone: an accepted peer holds none). */
  private dialEvents(): DialEvents {
    return {
      connected: (t, attempt) => this.dialed(t, attempt.mse),
      read: (t, chunk) => {
        if (this.conn === t && !this.closed) this.guarded(chunk, true);
      },
      failed: (timedOut, err) => {
        if (timedOut) return this.close(DisconnectReason.CONNECT_TIMEOUT);
        const errno = err?.code;
        this.close(DisconnectReason.CONNECT_FAILED, {
          ...(errno ? { errno } : {}),
          message: err?.message ?? 'closed',
        });
      },
    };
  }

  /** An outgoing attempt connected: start its handshake (MSE initiator or plaintext). */
  private dialed(t: Transport, mse: boolean): void {
    this.transport = t.kind;
    this.use(t);
    const first = this.connectedAt === undefined;
    const ourHandshake = encodeHandshake({
      reserved: this.ourReserved,
      infoHash: this.infoHash!,
      peerId: this.opts.peerId,
    });
    const required = this.opts.encryption === 'required';
    const stage = new OutgoingStage({
      infoHash: this.infoHash!,
      altInfoHash: this.altInfoHash,
      ourHandshake,
      mse: mse ? (required ? ['rc4'] : ['rc4', 'plaintext']) : false,
    });
    this.stage = stage;
    this.transportReady();
    if (first) this.emit('connect');
    if (!this.closed) this.write([stage.start()]);
  }

  /** The transport is up (connected or accepted): start the handshake timer. */
  private transportReady(): void {
    this.connectedAt = this.clock.now();
    this.lastReceived = this.lastSent = this.connectedAt;
    this.state = this.stage instanceof OutgoingStage && this.stage.usesMse ? 'encrypting' : 'handshaking';
    this.conn?.setNoDelay?.(true);
    this.handshakeTimer?.cancel();
    this.handshakeTimer = this.clock.setTimeout(
      () => this.handshakeFailed(DisconnectReason.TIMEOUT_HANDSHAKE),
      this.timeouts.handshake,
    );
  }

  private use(t: Transport): void {
    this.conn = t;
    this.connError = undefined;
    attachSink(t, this);
  }

  /** @internal The transport's stream events (events of a transport we left are ignored). */
  [TRANSPORT_EVENT](t: Transport, event: TransportEvent, arg?: Buffer | NodeJS.ErrnoException): void {
    if (this.conn !== t) return;
    if (event === 'error') this.connError = arg as NodeJS.ErrnoException;
    else if (this.closed) return;
    else if (event === 'data') this.guarded(arg as Buffer, false);
    else if (event === 'drain') this.emit('drain');
    else this.onConnClose();
  }

  private onConnClose(): void {
    const err = this.connError;
    const errno = err?.code;
    if (this.state !== 'connected') return this.handshakeFailed(DisconnectReason.BY_REMOTE, err);
    if (err)
      return this.close(DisconnectReason.SOCKET_ERROR, { ...(errno ? { errno } : {}), message: err.message });
    this.close(DisconnectReason.BY_REMOTE, errno ? { errno } : {});
  }

  /** An MSE attempt that fails for any reason goes to the dial's next attempt (plaintext under 'enabled'). */
  private handshakeFailed(reason: DisconnectReason, err?: NodeJS.ErrnoException | Error): void {
    const stage = this.stage;
    if (stage instanceof OutgoingStage && stage.encrypting && this.dial?.canRetry('encryption')) {
      this.handshakeTimer?.cancel();
      const old = this.conn!;
      this.conn = undefined;
      old.destroy();
      this.state = 'connecting';
      this.dial.retry('encryption');
      return;
    }
    const errno = (err as NodeJS.ErrnoException | undefined)?.code;
    if (reason === DisconnectReason.BY_REMOTE && err && errno)
      return this.close(DisconnectReason.SOCKET_ERROR, { errno, message: err.message });
    this.close(reason, { ...(errno ? { errno } : {}), ...(err ? { message: err.message } : {}) });
  }

  /** Last line of defence: nothing thrown while handling the remote's bytes may escape into the
   * transport callback (an uncaught exception would take the host application down). */
  private guarded(chunk: Buffer, transient: boolean): void {
    try {
      this.onData(chunk, transient);
    } catch (e) {
      this.listenerFailed('data', e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** `transient`: chunk's memory is reused once this returns (see WireDecoder.push). */
  private onData(chunk: Buffer, transient: boolean): void {
    const n = chunk.length;
    this.bytesReceived += n;
    this.rates.add(DOWN_TOTAL, n);
    if (this.state === 'connected') {
      if (this.decrypt) this.decrypt.process(chunk);
      this.feed(chunk, transient);
    } else {
      let step;
      try {
        // The handshake stages keep what they receive: give them their own copy.
        step = this.stage!.receive(transient ? Buffer.from(chunk) : chunk);
      } catch (e) {
        const reason = reasonForError(e);
        const mse = this.stage instanceof OutgoingStage && this.stage.encrypting;
        return mse ? this.handshakeFailed(reason, e as Error) : this.close(reason, errorMessage(e));
      }
      if (step.send) this.write([step.send]);
      if (this.state === 'encrypting' && !(this.stage instanceof OutgoingStage && this.stage.encrypting))
        this.state = 'handshaking';
      if (step.done) this.established(step.done);
    }
    const gate = this.opts.bandwidth?.download;
    const wait = gate?.(n, this);
    if (wait && !this.closed) {
      const conn = this.conn!;
      conn.pause();
      void wait.then(
        () => !this.closed && conn.resume(),
        () => !this.closed && conn.resume(),
      );
    }
  }

  private established(e: Established): void {
    const h = e.handshake;
    this.handshakeTimer?.cancel();
    // Dropped, not kept cancelled: its handle, closure and Timeout were ~300 bytes per peer.
    this.handshakeTimer = undefined;
    this.stage = undefined;
    this.peerId = h.peerId;
    this.reservedBytes = internReserved(h.reserved);
    this.infoHash = h.infoHash;
    this.encryption = e.encryption;
    this.out.encrypt = e.encrypt;
    this.decrypt = e.decrypt;
    const info = handshakeInfoOf(e, this.ourReserved, this);
    this.fastExtension = info.fast;
    this.extensionProtocol = info.extended;
    if (h.peerId.equals(this.opts.peerId))
      return this.close(DisconnectReason.LOOPBACK, { peerId: h.peerId.toString('hex') });
    let answer;
    try {
      answer = this.opts.onHandshake(info, this);
    } catch (err) {
      return this.listenerFailed('onHandshake', err instanceof Error ? err : new Error(String(err)));
    }
    if (this.closed) return;
    if (typeof answer === 'number')
      return this.close(answer, { infoHash: h.infoHash.toString('hex'), peerId: h.peerId.toString('hex') });
    this.torrent = answer.torrent;
    if (answer.infoHash?.equals(h.infoHash)) this.infoHash = answer.infoHash;
    if (answer.pieceCount !== undefined) this.setPieceCount(answer.pieceCount);
    this.state = 'connected';
    this.lastUseful = this.lastReceived = this.clock.now();
    if (this.incoming && answer.v2) {
      const r = Buffer.from(this.ourReserved);
      r[7]! |= V2_BIT;
      this.ourReserved = internReserved(r);
    }
    if (this.incoming) {
      this.out.queueRaw(
        encodeHandshake({ reserved: this.ourReserved, infoHash: h.infoHash, peerId: this.opts.peerId }),
      );
      // Our handshake ends its uTP packet: Transmission 3 leaves bytes that arrive with the end
      // of a handshake unread until another packet comes (a stall: it never saw our bitfield).
      this.out.flush();
      this.conn?.push?.();
    }
    this.sendExtendedHandshake({
      ...(answer.metadataSize !== undefined ? { metadataSize: answer.metadataSize } : {}),
      ...(answer.extendedHandshake ? { extendedHandshake: answer.extendedHandshake } : {}),
    });
    this.announce(answer.have);
    const early = this.early;
    this.early = undefined;
    if (early) for (const m of early) this.send(m);
    this.ticks = tickQueue(this.clock, tickInterval(this.timeouts));
    this.ticks.add(this);
    this.emit('handshake', info);
    if (!this.closed && e.rest.length) this.feed(e.rest);
    if (!this.closed) this.out.flush();
  }

  /**
   * The owner's one observer of this peer's events (the Client sets it), called before the
   * listeners. @internal
   */
  observer: PeerObserver<T> | undefined;

  protected observe(event: keyof PeerEvents, args: readonly unknown[]): void {
    const o = this.observer;
    if (!o) return;
    if (event === 'message') o.peerMessage(this, args[0] as Message);
    else o.peerEvent(this, { event, args } as PeerEventRecord);
  }

  /** An engine listener or hook threw: close this peer (INTERNAL_ERROR) and report, never rethrow. */
  protected listenerFailed(event: string, error: Error): void {
    // Reported first, so that listeners still see the peer attached to its torrent.
    this.emit('internal-error', error, event);
    this.close(DisconnectReason.INTERNAL_ERROR, `${event} listener threw: ${error.message}`);
  }

  // ================= receiving =================

  private feed(chunk: Buffer, transient = false): void {
    try {
      // A closure per chunk, not a field per connection (idle connections outnumber chunks).
      this.decoder.push(chunk, (m) => this.onMessage(m), transient);
    } catch (e) {
      if (!(e instanceof NbtError) || !e.code.startsWith('WIRE_'))
        return this.listenerFailed('message', e instanceof Error ? e : new Error(String(e)));
      this.close(reasonForError(e), errorMessage(e));
    }
  }

  private onMessage(m: Message): void {
    if (this.closed) return;
    // Only whole messages count as activity: a slowloris trickling one partial message byte by
    // byte must still hit the idle timeout.
    const now = this.clock.now();
    this.lastReceived = now;
    const over = this.budget.charge(m, now);
    if (over !== undefined) return this.close(DisconnectReason.FLOOD, over);
    if (FAST_MESSAGE_TYPES.has(m.type) && !this.fastExtension)
      return this.close(DisconnectReason.MALFORMED_PACKET, `${m.type} without the Fast extension`);
    if (m.type === 'extended') {
      if (!this.onExtended(m.id, m.payload)) return;
    } else {
      if (m.type === 'notInterested') this.lastUseful = this.clock.now();
      this.applyIncoming(m);
    }
    this.emit('message', m);
  }

  /** Returns false when the connection was closed. */
  private onExtended(id: number, payload: Buffer): boolean {
    if (id === 0) {
      let h: ExtendedHandshake;
      try {
        h = parseExtendedHandshake(payload);
      } catch (e) {
        this.close(DisconnectReason.MALFORMED_PACKET, errorMessage(e));
        return false;
      }
      this.extensionRegistry.updateRemote(h.m);
      this.extensions = h;
      if (h.p !== undefined) this.listenPort = h.p;
      this.emit('extended-handshake', h);
    } else {
      const name = this.extensionRegistry.nameOf(id);
      if (name !== undefined) this.emit('extended', name, payload);
    }
    return !this.closed;
  }

  // ================= timers =================

  protected interestLost(): void {
    this.lastUseful = this.clock.now();
  }

  /** @internal The tick queue's call. */
  [TICK](): void {
    if (this.closed) return;
    const now = this.clock.now();
    if (now - this.lastReceived >= this.timeouts.idle) return this.close(DisconnectReason.IDLE_TIMEOUT);
    if (this.amInterested || this.peerInterested) this.lastUseful = now;
    else if (this.timeouts.useless > 0 && now - this.lastUseful >= this.timeouts.useless)
      return this.close(DisconnectReason.USELESS_PEER);
    if (now - this.lastSent >= this.timeouts.keepAlive) this.keepAlive();
    this.rates.compact(); // a silent connection gives its rate buckets back
  }

  // ================= sending =================

  protected send(m: Message): void {
    if (this.closed) return;
    if (this.state !== 'connected') return void (this.early ??= []).push(m);
    // Counted when queued, not when written, so a keep-alive tick never sees a stale time.
    this.lastSent = this.clock.now();
    this.out.send(m);
    // Pieces stop at the high-water mark (see `congested`), but a peer that never reads can still
    // make us queue rejects, haves and keep-alives forever: past the cap it is dropped.
    if (this.writeBufferBytes > this.maxWriteBuffer)
      this.close(DisconnectReason.WRITE_BUFFER_FULL, `${this.writeBufferBytes} bytes unsent`);
  }

  private write(chunks: Buffer[]): void {
    const conn = this.conn;
    if (!conn || conn.destroyed) return;
    let n = 0;
    if (chunks.length > 1) conn.cork();
    for (const c of chunks) {
      conn.write(c);
      n += c.length;
    }
    if (chunks.length > 1) conn.uncork();
    this.bytesSent += n;
    this.rates.add(UP_TOTAL, n);
    this.lastSent = this.clock.now();
  }
}
