/**
 * One uTP connection as a pure state machine (BEP 29; libtorrent's utp_stream and libutp are the
 * reference behaviour). Datagrams and time go in, datagrams, bytes and events come out; the
 * socket (src/utp/socket.ts) owns I/O and timers:
 *
 *   handle(packet, now)   a decoded datagram for this connection
 *   write(bytes) / end()  queue bytes / a FIN after them
 *   pollTransmit(now)     the next datagram to send, until undefined
 *   pollTimeout()         when handleTimeout() is due next (absolute ms), undefined for never
 *   read() / pollEvent()  delivered bytes; 'connected' | 'end' | 'closed'
 *
 * Sending: bytes are cut into full packets (a short one only when nothing is in flight, so no
 * 1-byte packets), within min(LEDBAT window, the peer's advertised window). Acks, SACKs, three
 * duplicate acks and timeouts drive retransmission. Unsent bytes: send-queue.ts; received
 * ones: receive.ts; MTU probing: mtu.ts; LEDBAT and RTT: congestion.ts.
 */
import { NbtError } from '../util/errors.js';
import { Ledbat, RttEstimator } from './congestion.js';
import {
  HEADER_SIZE,
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  encodePacket,
  seqAdd,
  seqDiff,
  seqLess,
  type PacketType,
  type UtpPacket,
} from './packet.js';
import {
  withDefaults,
  type ConnectionTuning,
  type UtpConnectionOptions,
  type UtpEvent,
  type UtpState,
} from './connection-options.js';
import { MtuProbe } from './mtu.js';
import { ReceiveBuffer } from './receive.js';
import { SendQueue } from './send-queue.js';

export type { UtpConnectionOptions, UtpEvent, UtpState } from './connection-options.js';

interface OutPacket {
  seq: number;
  type: PacketType;
  payload: Uint8Array;
  /** Bytes on the wire (header + payload), what counts against the window. */
  size: number;
  sentAt: number;
  transmissions: number;
  needResend: boolean;
  sacked: boolean;
}

const DUP_ACK_THRESHOLD = 3;
/** A peer window larger than this is garbage, not a receive buffer. */
const MAX_PEER_WINDOW = 1 << 30;

export class UtpConnection {
  state: UtpState;
  readonly recvId: number;
  readonly sendId: number;
  /** Stats for the transport's users. */
  readonly stats = { sent: 0, resent: 0, received: 0, timeouts: 0, fastRetransmits: 0 };
  private seqNr: number;
  private synSeq = -1;
  private readonly recv: ReceiveBuffer;
  private readonly out = new Map<number, OutPacket>();
  /** Oldest unacked sequence number (== seqNr when nothing is outstanding). */
  private oldest: number;
  private inFlight = 0;
  /** Outstanding packets marked for (re)sending: the resend scan is skipped when 0. */
  private resendCount = 0;
  private peerWindow: number;
  private readonly queue = new SendQueue();
  private ending = false;
  private finSent = false;
  private needAck = false;
  private dupAcks = 0;
  private lossBoundary: number | undefined;
  private replyMicro = 0;
  private rtoAt: number | undefined;
  private lastSent: number;
  private lingerAt: number | undefined;
  private finalAck: Uint8Array | undefined;
  private readonly created: number;
  private gotData = false;
  private endReported = false;
  private readonly events: UtpEvent[] = [];
  readonly ledbat: Ledbat;
  readonly rtt = new RttEstimator();
  private consecutiveTimeouts = 0;
  private readonly mtuProbe: MtuProbe;
  private readonly o: ConnectionTuning;

  constructor(options: UtpConnectionOptions) {
    this.o = withDefaults(options);
    this.recvId = options.recvId;
    this.sendId = options.sendId;
    this.seqNr = options.seq & 0xffff;
    this.oldest = this.seqNr;
    this.recv = new ReceiveBuffer(this.o.receiveBuffer);
    this.mtuProbe = new MtuProbe(this.o.mtu, this.o.mtuCeiling);
    this.ledbat = new Ledbat({ packetSize: this.mtu });
    this.created = this.lastSent = options.now;
    this.peerWindow = this.mtu;
    if (options.syn) {
      this.state = 'syn-recv';
      this.recv.ackNr = options.syn.seq;
      this.replyMicro = (micros(options.now) - options.syn.timestamp) >>> 0;
      this.peerWindow = Math.min(options.syn.window, MAX_PEER_WINDOW);
      this.needAck = true;
    } else {
      this.state = 'syn-sent';
      this.synSeq = this.seqNr;
      this.enqueue(ST_SYN, new Uint8Array(0));
    }
  }

  // ---- the application side ----------------------------------------------------------------

  /** Bytes written and not yet cut into packets. */
  get writableLength(): number {
    return this.queue.length;
  }

  /** Bytes sent and not acknowledged. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  get congestionWindow(): number {
    return this.ledbat.cwnd;
  }

  get packetSize(): number {
    return this.mtu;
  }

  private get mtu(): number {
    return this.mtuProbe.size;
  }

  write(bytes: Uint8Array): void {
    if (this.state === 'closed' || this.ending) throw new NbtError('UTP_CLOSED', 'write after end');
    this.queue.write(bytes);
  }

  /**
   * The bytes written so far end a packet, which goes without waiting for a full one; later
   * writes start the next. Transmission 3 reads the bytes after its peer's handshake only when
   * another packet arrives, so a Peer ends its handshake's packet here.
   */
  push(): void {
    this.queue.push();
  }

  /** Sends a FIN once the queued bytes are out. */
  end(): void {
    if (this.state !== 'closed') this.ending = true;
  }

  /** Drops the connection; returns the RESET to send (undefined when already closed). */
  reset(now: number): Uint8Array | undefined {
    if (this.state === 'closed') return undefined;
    const p = this.packet(ST_RESET, this.seqNr, new Uint8Array(0), now);
    this.close(undefined);
    return p;
  }

  read(): Buffer | undefined {
    const data = this.recv.read();
    if (data) this.windowOpened(data.length);
    return data;
  }

  /** As read(), into the caller's buffer; returns the bytes copied (0: nothing to read). */
  readInto(target: Uint8Array): number {
    const n = this.recv.readInto(target);
    if (n > 0) this.windowOpened(n);
    return n;
  }

  /** Reading `n` bytes lifted the window past a packet: the peer may be waiting for that. */
  private windowOpened(n: number): void {
    if (this.recv.window >= this.mtu && this.recv.window - n < this.mtu) this.needAck = true;
  }

  pollEvent(): UtpEvent | undefined {
    return this.events.shift();
  }

  // ---- input ------------------------------------------------------------------------------

  handle(p: UtpPacket, now: number): void {
    if (this.state === 'closed') return;
    if (p.type === ST_RESET) return this.close(new NbtError('UTP_RESET', 'connection reset by peer'));
    if (p.type === ST_SYN) {
      // Our SYN-ACK was lost: the SYN comes again, with the same sequence number.
      if (this.state === 'syn-recv' && p.seq === this.recv.ackNr) this.needAck = true;
      return;
    }
    if (p.window > MAX_PEER_WINDOW) return;
    // Acks of packets never sent, or from before anything outstanding: not our peer.
    if (seqDiff(p.ack, seqAdd(this.seqNr, -1)) > 0 || seqDiff(p.ack, seqAdd(this.oldest, -1)) < -4096) return;
    if (this.state === 'syn-sent') {
      if (p.ack !== this.synSeq) return;
      this.recv.ackNr = seqAdd(p.seq, -1);
      this.state = 'connected';
      this.events.push({ type: 'connected' });
    }
    this.stats.received++;
    this.replyMicro = (micros(now) - p.timestamp) >>> 0;
    if (p.timestampDiff !== 0) this.ledbat.delaySample(p.timestampDiff, now);
    this.peerWindow = p.window;
    this.onAck(p, now);
    if (p.type === ST_DATA || p.type === ST_FIN) {
      if (this.state === 'syn-recv') {
        this.state = 'connected';
        this.gotData = true;
      }
      this.recv.receive(p.seq, p.payload, p.type === ST_FIN);
      this.needAck = true;
      if (this.recv.gotFin && !this.endReported) {
        this.endReported = true;
        this.events.push({ type: 'end' });
      }
    }
    this.checkDone(now);
  }

  /** True once an accepted connection has seen data (no longer half-open). */
  get established(): boolean {
    return this.state === 'connected' && (this.synSeq >= 0 || this.gotData);
  }

  private onAck(p: UtpPacket, now: number): void {
    const before = this.inFlight;
    let acked = 0;
    const progress = seqDiff(p.ack, seqAdd(this.oldest, -1));
    for (let i = 0; i < progress; i++) {
      const pkt = this.out.get(this.oldest);
      this.oldest = seqAdd(this.oldest, 1);
      if (!pkt) continue;
      this.out.delete(pkt.seq);
      if (!pkt.sacked) acked += this.ackedPacket(pkt, now);
    }
    if (p.sack) acked += this.onSack(p.ack, p.sack, now);
    if (progress > 0) {
      this.dupAcks = 0;
      this.consecutiveTimeouts = 0;
      this.rtt.backoff = 0;
      this.rtoAt = this.out.size > 0 ? now + this.rtt.rto : undefined;
    } else if (p.type === ST_STATE && this.out.size > 0 && !p.sack) {
      if (++this.dupAcks === DUP_ACK_THRESHOLD) this.lost(this.out.get(this.oldest), true);
    }
    if (acked > 0) this.ledbat.onAck(acked, before);
  }

  /** Accounts for a packet the peer has (by cumulative ack or SACK); returns its window bytes. */
  private ackedPacket(pkt: OutPacket, now: number): number {
    if (pkt.transmissions === 1) this.rtt.sample(now - pkt.sentAt);
    this.mtuProbe.acked(pkt.seq, pkt.size);
    if (pkt.needResend) {
      pkt.needResend = false;
      this.resendCount--;
      return 0;
    }
    this.inFlight -= pkt.size;
    return pkt.size;
  }

  private onSack(ack: number, mask: Uint8Array, now: number): number {
    let acked = 0;
    let highest = -1;
    // Bits past what we sent are inert: do not walk a 255-byte mask for nothing.
    const bits = Math.min(mask.length * 8, seqDiff(this.seqNr, ack) - 2);
    for (let bit = 0; bit < bits; bit++) {
      if ((mask[bit >> 3]! & (1 << (bit & 7))) === 0) continue;
      const pkt = this.out.get(seqAdd(ack, bit + 2));
      if (!pkt) continue;
      highest = bit;
      if (pkt.sacked) continue;
      pkt.sacked = true;
      acked += this.ackedPacket(pkt, now);
    }
    // A hole with three or more packets acked after it is lost (as TCP's fast retransmit).
    let after = 0;
    for (let bit = highest; bit >= -1; bit--) {
      const pkt = this.out.get(seqAdd(ack, bit + 2));
      if (!pkt) continue;
      if (pkt.sacked) after++;
      // A resend lost again is resent once it had an RTT to arrive (not only by the timeout).
      else if (after >= DUP_ACK_THRESHOLD && (pkt.transmissions === 1 || now - pkt.sentAt > this.rttOr(500)))
        this.lost(pkt, true);
    }
    return acked;
  }

  /** Marks a packet for resending; cuts the window once per window of packets. */
  private lost(pkt: OutPacket | undefined, fast: boolean): void {
    if (!pkt || pkt.sacked || pkt.needResend) return;
    pkt.needResend = true;
    this.resendCount++;
    this.inFlight -= pkt.size;
    if (fast) this.stats.fastRetransmits++;
    // A lost probe says the path's MTU may be smaller: not congestion.
    if (this.mtuProbe.lost(pkt.seq, pkt.size)) return;
    if (fast && (this.lossBoundary === undefined || seqLess(this.lossBoundary, pkt.seq))) {
      this.ledbat.onLoss();
      this.lossBoundary = seqAdd(this.seqNr, -1);
    }
  }

  // ---- output -----------------------------------------------------------------------------

  pollTransmit(now: number): Uint8Array | undefined {
    if (this.state === 'closed') {
      const last = this.finalAck;
      this.finalAck = undefined;
      return last;
    }
    const window = Math.min(this.ledbat.cwnd, this.peerWindow);
    if (this.resendCount > 0) {
      for (const pkt of this.out.values()) {
        if (!pkt.needResend) continue;
        if (this.inFlight > 0 && this.inFlight + pkt.size > window) break;
        if (pkt.transmissions > 0) this.stats.resent++;
        return this.transmit(pkt, now);
      }
    }
    if (this.state === 'syn-sent') return this.ackIfNeeded(now);
    const queued = this.queue.length;
    if (queued > 0) {
      // Room for a selective ack in the header while we hold reordered packets.
      const max = this.mtu - HEADER_SIZE - (this.recv.hasGaps ? 34 : 0);
      const probe = this.mtuProbe.next();
      const pushed = this.queue.pushedBytes;
      let size = probe !== undefined && queued >= probe - HEADER_SIZE ? probe - HEADER_SIZE : max;
      if (pushed > 0 && pushed < size) size = pushed;
      const full = queued >= size;
      const fits = this.inFlight === 0 || this.inFlight + size + HEADER_SIZE <= window;
      if (fits && (full || this.inFlight === 0) && this.peerWindow > 0) {
        const pkt = this.enqueue(ST_DATA, this.queue.take(Math.min(size, queued)));
        if (size !== max && size !== pushed && full) this.mtuProbe.sent(pkt.seq);
        return this.transmit(pkt, now);
      }
    }
    if (this.ending && !this.finSent && this.queue.length === 0) {
      this.finSent = true;
      return this.transmit(this.enqueue(ST_FIN, new Uint8Array(0)), now);
    }
    return this.ackIfNeeded(now);
  }

  pollTimeout(): number | undefined {
    if (this.state === 'closed') return undefined;
    let at = this.rtoAt;
    const min = (t: number | undefined): void => {
      if (t !== undefined && (at === undefined || t < at)) at = t;
    };
    if (this.state === 'syn-recv') min(this.created + this.o.halfOpenTimeout);
    if (this.state === 'connected') min(this.lastSent + this.o.keepAliveInterval);
    min(this.lingerAt);
    // A zero window with data waiting: probe it after an RTO.
    if (this.rtoAt === undefined && this.peerWindow < this.mtu && this.queue.length > 0)
      min(this.lastSent + this.rtt.rto);
    return at;
  }

  handleTimeout(now: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'syn-recv' && now >= this.created + this.o.halfOpenTimeout)
      return this.close(new NbtError('UTP_TIMEOUT', 'no data after SYN'));
    if (this.lingerAt !== undefined && now >= this.lingerAt) return this.close(undefined);
    if (this.rtoAt !== undefined && now >= this.rtoAt) {
      this.stats.timeouts++;
      const limit = this.state === 'syn-sent' ? this.o.synResends : this.o.maxTimeouts;
      if (++this.consecutiveTimeouts > limit)
        return this.close(
          new NbtError(
            this.state === 'syn-sent' ? 'UTP_CONNECT_TIMEOUT' : 'UTP_TIMEOUT',
            this.state === 'syn-sent' ? 'uTP connect timed out' : 'uTP peer stopped acking',
          ),
        );
      // SYNs go every second (libtorrent gives up after ~3 s, then TCP is tried).
      if (this.state !== 'syn-sent') this.rtt.backoff++;
      this.ledbat.onTimeout();
      for (const pkt of this.out.values()) this.lost(pkt, false);
      this.lossBoundary = seqAdd(this.seqNr, -1);
      this.rtoAt = now + this.rtt.rto;
      // Probe a window that was zero (its update may have been lost).
      if (this.peerWindow < this.mtu) this.peerWindow = this.mtu;
    } else if (this.rtoAt === undefined && this.peerWindow < this.mtu && this.queue.length > 0) {
      if (now >= this.lastSent + this.rtt.rto) this.peerWindow = this.mtu;
    }
    if (this.state === 'connected' && now >= this.lastSent + this.o.keepAliveInterval) this.needAck = true;
  }

  // ---- internals ----------------------------------------------------------------------------

  private rttOr(fallback: number): number {
    return this.rtt.srtt ?? fallback;
  }

  private enqueue(type: PacketType, payload: Uint8Array): OutPacket {
    const pkt: OutPacket = {
      seq: this.seqNr,
      type,
      payload,
      size: HEADER_SIZE + payload.length,
      sentAt: 0,
      transmissions: 0,
      needResend: true,
      sacked: false,
    };
    this.resendCount++;
    this.out.set(pkt.seq, pkt);
    this.seqNr = seqAdd(this.seqNr, 1);
    return pkt;
  }

  private transmit(pkt: OutPacket, now: number): Uint8Array {
    pkt.needResend = false;
    this.resendCount--;
    pkt.sentAt = now;
    pkt.transmissions++;
    this.inFlight += pkt.size;
    this.rtoAt ??= now + this.rtt.rto;
    this.stats.sent++;
    return this.packet(pkt.type, pkt.seq, pkt.payload, now);
  }

  private ackIfNeeded(now: number): Uint8Array | undefined {
    if (!this.needAck || this.state === 'syn-sent') return undefined;
    return this.packet(ST_STATE, this.seqNr, new Uint8Array(0), now);
  }

  /** Encodes a packet with the current ack state (every packet carries it). */
  private packet(type: PacketType, seq: number, payload: Uint8Array, now: number): Uint8Array {
    this.needAck = false;
    this.lastSent = now;
    const p: UtpPacket = {
      type,
      connectionId: type === ST_SYN ? this.recvId : this.sendId,
      timestamp: micros(now),
      timestampDiff: this.replyMicro,
      window: this.recv.window,
      seq,
      ack: type === ST_SYN ? 0 : this.recv.ackNr,
      payload,
    };
    const sack = type === ST_SYN ? undefined : this.recv.sack();
    if (sack) p.sack = sack;
    return encodePacket(p);
  }

  private checkDone(now: number): void {
    if (!this.finSent || this.out.size > 0) return;
    if (this.recv.gotFin) {
      // The ack of the peer's FIN still has to go out.
      if (this.needAck) this.finalAck = this.packet(ST_STATE, this.seqNr, new Uint8Array(0), now);
      this.close(undefined);
    } else this.lingerAt ??= now + 10_000;
  }

  private close(error: NbtError | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.out.clear();
    this.inFlight = 0;
    this.resendCount = 0;
    this.events.push(error ? { type: 'closed', error } : { type: 'closed' });
  }
}

function micros(ms: number): number {
  return Math.floor(ms * 1000) >>> 0;
}
