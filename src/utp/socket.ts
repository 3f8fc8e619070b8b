/**
 * The session's uTP endpoint: it takes the 'utp' route of the shared UDP socket (UdpMux),
 * keeps the connection table by (address, port, connection id), answers SYNs within a bounded
 * half-open budget, and is the `Connector` for outgoing uTP. Each connection is a pure
 * UtpConnection; this module owns the I/O and the one Clock timer per connection.
 *
 * Hostile input: undecodable datagrams are counted and dropped; a packet for no connection
 * gets a RESET (never for a RESET); SYNs beyond the half-open limit are dropped before any
 * state is allocated, so a SYN flood costs one table entry per admitted SYN and no more.
 */
import { isIP } from 'node:net';
import type { Clock, TimerHandle } from '../util/clock.js';
import { NbtError, isNbtError } from '../util/errors.js';
import type { Connector, Transport } from '../net/transport.js';
import type { UdpEndpoint, UdpFamily, UdpSource } from '../net/udp.js';
import { UtpConnection, type UtpConnectionOptions } from './connection.js';
import { decodePacket, encodePacket, ST_RESET, ST_SYN, type UtpPacket } from './packet.js';
import { UtpTransport, type UtpTransportHost } from './transport.js';

export interface UtpSocketOptions {
  clock: Clock;
  /** The shared socket's endpoint for a family (undefined when it does not serve it). */
  endpoint(family: UdpFamily): UdpEndpoint | undefined;
  /** Incoming connections; without it, SYNs are answered with RESET. */
  onConnection?: (t: Transport) => void;
  /** Accepted connections that have not seen data yet (default 32). */
  maxHalfOpen?: number;
  /** All uTP connections (default 2000). */
  maxConnections?: number;
  /** 0 ≤ x < 1; ids and initial sequence numbers (Math.random by default). */
  random?: () => number;
  /**
   * Runs a function after the datagrams that arrived together were handled (default
   * setImmediate: libuv reads a batch per poll, so one ack answers many packets). Tests may pass
   * queueMicrotask.
   */
  defer?: (fn: () => void) => void;
  /** Per-connection tuning (buffers, MTU, timeouts). */
  connection?: Partial<Omit<UtpConnectionOptions, 'recvId' | 'sendId' | 'seq' | 'syn' | 'now'>>;
}

export interface UtpSocketStats {
  connections: number;
  halfOpen: number;
  malformed: number;
  /** Packets for no known connection (answered with RESET unless they were one). */
  unknown: number;
  synsDropped: number;
}

interface Entry {
  key: string;
  conn: UtpConnection;
  transport: UtpTransport;
  family: UdpFamily;
  endpoint?: UdpEndpoint | undefined;
  timer: TimerHandle | undefined;
  timerAt: number;
  queued: boolean;
  halfOpen: boolean;
}

/** One batch of reads (32 datagrams of libuv's) fits at once. */
const READ_BUFFER_BYTES = 64 * 1024;
const IPV4_MTU_CEILING = 1500 - 20 - 8;
const IPV6_MTU_CEILING = 1500 - 40 - 8;

export class UtpSocket implements Connector, UtpTransportHost {
  readonly kind = 'utp';
  private readonly table = new Map<string, Entry>();
  private readonly byTransport = new Map<UtpTransport, Entry>();
  private readonly removers: (() => void)[] = [];
  private halfOpenCount = 0;
  private closed = false;
  private readonly counters = { malformed: 0, unknown: 0, synsDropped: 0 };
  private readonly random: () => number;
  private readonly defer: (fn: () => void) => void;
  /** Shared by the connections that read into a reused buffer (one is driven at a time). */
  private readBuffer: Buffer | undefined;
  /** Connections that received datagrams since the last flush. */
  private readonly dirty = new Set<Entry>();

  constructor(private readonly o: UtpSocketOptions) {
    this.random = o.random ?? Math.random;
    this.defer = o.defer ?? ((fn) => void setImmediate(fn));
    const seen = new Set<UdpEndpoint>();
    for (const family of [4, 6] as const) {
      const ep = o.endpoint(family);
      if (ep && !seen.has(ep) && seen.add(ep))
        this.removers.push(ep.onPacket((packet, from) => this.onDatagram(packet, from)));
    }
  }

  get stats(): UtpSocketStats {
    return { connections: this.table.size, halfOpen: this.halfOpenCount, ...this.counters };
  }

  /** Opens an outgoing uTP connection (Connector). A hostname fails at once: uTP needs an address. */
  connect(host: string, port: number, options?: { onRead?: (chunk: Buffer) => void }): Transport {
    const v = isIP(host);
    const family: UdpFamily = v === 6 ? 6 : 4;
    const ep = this.o.endpoint(family);
    const now = this.o.clock.now();
    let recvId = this.randomId();
    for (let i = 0; i < 16 && this.table.has(keyOf(host, port, recvId)); i++) recvId = this.randomId();
    const conn = new UtpConnection({
      ...this.options(family),
      recvId,
      sendId: (recvId + 1) & 0xffff,
      seq: this.randomId(),
      now,
    });
    const onRead = options?.onRead;
    const transport = onRead
      ? new UtpTransport(
          conn,
          host,
          port,
          this,
          onRead,
          (this.readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)),
        )
      : new UtpTransport(conn, host, port, this);
    const failure =
      this.closed || !ep
        ? new NbtError('UTP_UNAVAILABLE', 'no uTP socket for this address family')
        : v === 0
          ? new NbtError('UTP_BAD_ADDRESS', `uTP needs an IP address, not ${host}`)
          : this.table.size >= (this.o.maxConnections ?? 2000)
            ? new NbtError('UTP_TOO_MANY', 'too many uTP connections')
            : undefined;
    if (failure) {
      // As a failed TCP connect: 'error' then 'close', after the caller attached its listeners.
      queueMicrotask(() => {
        transport.emit('error', failure);
        transport.destroy();
      });
      return transport;
    }
    this.add(keyOf(host, port, recvId), conn, transport, family, false);
    return transport;
  }

  /** Resets every connection and leaves the UDP socket to its other users. */
  /**
   * Resets every connection and resolves once those RESETs left (at most `flushMs` later):
   * unlike TCP, nothing tells the peers when our process exits, and a peer still holding the
   * old connection would refuse our next one (one connection per host).
   */
  close(flushMs = 500): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const off of this.removers) off();
    let pending = 0;
    let finish: () => void = () => undefined;
    const flushed = new Promise<void>((resolve) => (finish = resolve));
    const sent = (): void => {
      if (--pending === 0) finish();
    };
    for (const e of [...this.table.values()]) {
      // A connection that just closed may still owe the ack of the peer's FIN (its service was
      // deferred to the end of the batch): without it, the peer keeps retransmitting its FIN
      // and holds the connection; the others are reset.
      const last = this.lastWords(e.conn);
      if (last) {
        pending++;
        e.endpoint ??= this.o.endpoint(e.family);
        if (e.endpoint) e.endpoint.send(last, e.transport.remotePort, e.transport.remoteAddress, sent);
        else sent();
      }
      e.transport.destroy();
    }
    if (pending === 0) return Promise.resolve();
    const timer = this.o.clock.setTimeout(finish, flushMs);
    return flushed.then(() => timer.cancel());
  }

  // ---- UtpTransportHost ---------------------------------------------------------------------

  schedule(t: UtpTransport): void {
    const e = this.byTransport.get(t);
    if (!e || e.queued) return;
    e.queued = true;
    queueMicrotask(() => {
      e.queued = false;
      this.service(e);
    });
  }

  abort(t: UtpTransport): void {
    const e = this.byTransport.get(t);
    if (!e) return;
    const last = this.lastWords(e.conn);
    if (last) this.send(e, last);
    this.remove(e);
  }

  /** What a connection being forgotten sends: a closed one its final ack, any other a RESET. */
  private lastWords(conn: UtpConnection): Uint8Array | undefined {
    const now = this.o.clock.now();
    return conn.state === 'closed' ? conn.pollTransmit(now) : conn.reset(now);
  }

  // ---- input --------------------------------------------------------------------------------

  private onDatagram(datagram: Buffer, from: UdpSource): void {
    if (this.closed) return;
    let p: UtpPacket;
    try {
      p = decodePacket(datagram);
    } catch (err) {
      if (!isNbtError(err)) throw err;
      this.counters.malformed++;
      return;
    }
    const now = this.o.clock.now();
    if (p.type === ST_SYN) return this.onSyn(p, from, now);
    const e = this.table.get(keyOf(from.host, from.port, p.connectionId)) ?? this.resetTarget(p, from);
    if (!e) {
      this.counters.unknown++;
      if (p.type !== ST_RESET) this.reply(from, { ...p, type: ST_RESET, payload: new Uint8Array(0) }, now);
      return;
    }
    e.conn.handle(p, now);
    this.serviceSoon(e);
  }

  /** Acks and deliveries wait for the rest of the batch (delayed acks, fewer 'data' events). */
  private serviceSoon(e: Entry): void {
    if (this.dirty.size === 0)
      this.defer(() => {
        const entries = [...this.dirty];
        this.dirty.clear();
        for (const d of entries) if (this.table.get(d.key) === d) this.service(d);
      });
    this.dirty.add(e);
  }

  /** Clients differ in which of our ids a RESET carries: accept the send id too, never another's. */
  private resetTarget(p: UtpPacket, from: UdpSource): Entry | undefined {
    if (p.type !== ST_RESET) return undefined;
    for (const id of [p.connectionId - 1, p.connectionId + 1]) {
      const e = this.table.get(keyOf(from.host, from.port, id & 0xffff));
      if (e && e.conn.sendId === p.connectionId) return e;
    }
    return undefined;
  }

  private onSyn(p: UtpPacket, from: UdpSource, now: number): void {
    const recvId = (p.connectionId + 1) & 0xffff;
    const key = keyOf(from.host, from.port, recvId);
    const known = this.table.get(key);
    if (known) {
      known.conn.handle(p, now);
      this.service(known);
      return;
    }
    const onConnection = this.o.onConnection;
    if (!onConnection) {
      this.reply(
        from,
        { ...p, type: ST_RESET, connectionId: p.connectionId, payload: new Uint8Array(0) },
        now,
      );
      return;
    }
    if (
      this.halfOpenCount >= (this.o.maxHalfOpen ?? 32) ||
      this.table.size >= (this.o.maxConnections ?? 2000)
    ) {
      this.counters.synsDropped++;
      return;
    }
    const conn = new UtpConnection({
      ...this.options(from.family),
      recvId,
      sendId: p.connectionId,
      seq: this.randomId(),
      syn: p,
      now,
    });
    const transport = new UtpTransport(conn, from.host, from.port, this);
    const e = this.add(key, conn, transport, from.family, true);
    this.service(e);
    onConnection(transport);
  }

  // ---- driving connections ------------------------------------------------------------------

  private service(e: Entry): void {
    const { conn } = e;
    const now = this.o.clock.now();
    for (let d = conn.pollTransmit(now); d; d = conn.pollTransmit(now)) this.send(e, d);
    if (e.halfOpen && conn.established) {
      e.halfOpen = false;
      this.halfOpenCount--;
    }
    e.transport.drive();
    // Reading may have opened the window (a window update to send).
    for (let d = conn.pollTransmit(now); d; d = conn.pollTransmit(now)) this.send(e, d);
    if (conn.state === 'closed') {
      e.transport.drive();
      this.remove(e);
      return;
    }
    this.arm(e);
  }

  /** One timer per connection, re-armed only when the deadline moves earlier (cheap per packet). */
  private arm(e: Entry): void {
    const at = e.conn.pollTimeout();
    if (at === undefined || (e.timer && e.timerAt <= at)) return;
    e.timer?.cancel();
    e.timerAt = at;
    e.timer = this.o.clock.setTimeout(
      () => {
        e.timer = undefined;
        if (!this.table.has(e.key)) return;
        const now = this.o.clock.now();
        const due = e.conn.pollTimeout();
        if (due !== undefined && due <= now) e.conn.handleTimeout(now);
        this.service(e);
      },
      Math.max(0, at - this.o.clock.now()),
    );
  }

  private add(
    key: string,
    conn: UtpConnection,
    transport: UtpTransport,
    family: UdpFamily,
    halfOpen: boolean,
  ): Entry {
    const e: Entry = { key, conn, transport, family, timer: undefined, timerAt: 0, queued: false, halfOpen };
    this.table.set(key, e);
    this.byTransport.set(transport, e);
    if (halfOpen) this.halfOpenCount++;
    if (!halfOpen) this.schedule(transport);
    return e;
  }

  private remove(e: Entry): void {
    if (this.table.get(e.key) !== e) return;
    this.table.delete(e.key);
    this.byTransport.delete(e.transport);
    e.timer?.cancel();
    if (e.halfOpen) this.halfOpenCount--;
  }

  private send(e: Entry, datagram: Uint8Array): void {
    e.endpoint ??= this.o.endpoint(e.family);
    e.endpoint?.send(datagram, e.transport.remotePort, e.transport.remoteAddress);
  }

  private reply(to: UdpSource, p: UtpPacket, now: number): void {
    const reset: UtpPacket = { ...p, timestamp: Math.floor(now * 1000) >>> 0, timestampDiff: 0, window: 0 };
    delete reset.sack;
    this.o.endpoint(to.family)?.send(encodePacket(reset), to.port, to.host);
  }

  private options(family: UdpFamily): Partial<UtpConnectionOptions> {
    return { mtuCeiling: family === 6 ? IPV6_MTU_CEILING : IPV4_MTU_CEILING, ...this.o.connection };
  }

  private randomId(): number {
    return Math.floor(this.random() * 0x10000) & 0xffff;
  }
}

function keyOf(host: string, port: number, id: number): string {
  return `${host}|${port}|${id}`;
}
