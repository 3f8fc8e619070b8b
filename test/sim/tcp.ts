/**
 * A simplified TCP over the simulated network: SYN handshake (refused with RST when nobody
 * listens), byte sequence numbers, cumulative ACKs (every second segment, or at once on PSH,
 * a gap or a filled gap) with SACK blocks, Reno congestion control (slow start, congestion
 * avoidance, fast retransmit and SACK-driven recovery, NewReno partial ACKs without SACK, RTO
 * with exponential backoff and go-back-N that skips SACKed data), receive
 * window flow control (pause() shrinks it; zero-window probes), FIN/RST close. No SACK, no
 * Without SACK a drop-tail burst costs one round trip per lost segment, which a long fat
 * path cannot afford; a simulated segment carries every out-of-order range (no option-space
 * limit). No timestamps, no Nagle: writes in one engine step are coalesced into full segments.
 *
 * As a `Transport` it behaves like a net.Socket: write() returns false once the bytes that do
 * not fit the send buffer (max(64 KiB, 2 × cwnd), like Linux autotuning) pass the high-water
 * mark, and 'drain' follows when they have all gone; one 'close', after at most one 'error'.
 */
import { EventEmitter } from 'node:events';
import type { Transport } from '../../src/net/transport.js';
import type { Packet, SimHost } from './network.js';
import type { Cancellable, Simulation } from './scheduler.js';
import { ByteQueue } from './byte-queue.js';
import { Reassembly } from './tcp-reassembly.js';
import { FLAG, TCP_HEADER, errnoError, type TcpSegment, type TcpTuning } from './tcp-types.js';

export { FLAG, TCP_HEADER, defaultTcpTuning, type TcpSegment, type TcpTuning } from './tcp-types.js';

type State = 'syn-sent' | 'syn-received' | 'established' | 'closed';

const key = (localPort: number, ip: string, port: number): string => `${localPort}/${ip}/${port}`;

export class SimStream extends EventEmitter implements Transport {
  readonly kind = 'sim';
  readonly stats = { segmentsSent: 0, retransmits: 0, fastRetransmits: 0, timeouts: 0 };
  private state: State;
  private destroyCalled = false;
  private readonly sim: Simulation;
  private readonly t: TcpTuning;
  // send side
  private readonly out = new ByteQueue();
  private sndUna = 0;
  private sndNxt = 0;
  private sndMax = 0;
  private cwnd: number;
  private ssthresh = Infinity;
  private rwnd = 0;
  private dupAcks = 0;
  private inRecovery = false;
  private recover = 0;
  /** The receiver's out-of-order ranges as last reported, and their total. */
  private sacked: [number, number][] = [];
  private sackedBytes = 0;
  /** In SACK recovery: where the next hole retransmission starts. */
  private rtxNext = 0;
  /** The last transmit() was held back by cwnd (not by data or rwnd): only then cwnd grows. */
  private cwndLimited = false;
  private finQueued = false;
  private finSent = false;
  private finAcked = false;
  private corked = 0;
  private transmitQueued = false;
  private needDrain = false;
  // timers and RTT
  private rto: number;
  private backoff = 1;
  private retries = 0;
  private srtt: number | undefined;
  private rttvar = 0;
  private timedSeq: number | undefined;
  private timedAt = 0;
  private rtoTimer: Cancellable | undefined;
  private synTimer: Cancellable | undefined;
  private synTries = 0;
  private synAt = 0;
  // receive side
  private rcvNxt = 0;
  private readonly ooo = new Reassembly();
  private remoteFinSeq: number | undefined;
  private finReceived = false;
  private unacked = 0;
  private delack: Cancellable | undefined;
  private paused = false;
  private readQueue: Buffer[] = [];
  private readQueued = 0;
  private lastAdvertised = 0;
  private accept: ((t: Transport) => void) | undefined;

  private constructor(
    private readonly host: SimHost,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
    state: State,
    private readonly onRead: ((chunk: Buffer) => void) | undefined,
  ) {
    super();
    this.state = state;
    this.sim = host.sim;
    this.t = host.net.tcp;
    this.cwnd = this.t.initialCwnd * this.t.mss;
    this.rto = this.t.initialRtoMs;
  }

  /** An outgoing stream; the SYN leaves once the caller has attached its listeners. */
  static connect(
    host: SimHost,
    ip: string,
    port: number,
    localPort: number,
    onRead: ((chunk: Buffer) => void) | undefined,
  ): SimStream {
    const s = new SimStream(host, localPort, ip, port, 'syn-sent', onRead);
    host.streams.set(key(localPort, ip, port), s);
    host.sim.after(0, () => s.sendSyn());
    return s;
  }

  /** A segment arrived at `host`: to its stream, to a listener (SYN), or answered with RST. */
  static demux(host: SimHost, pkt: Packet, seg: TcpSegment): void {
    const s = host.streams.get(key(pkt.dstPort, pkt.src, pkt.srcPort));
    if (s) return s.onSegment(seg);
    if (seg.flags & FLAG.RST) return;
    const accept = seg.flags === FLAG.SYN ? host.tcpListeners.get(pkt.dstPort) : undefined;
    if (accept) {
      const n = new SimStream(host, pkt.dstPort, pkt.src, pkt.srcPort, 'syn-received', undefined);
      n.accept = accept;
      n.rwnd = seg.wnd;
      host.streams.set(key(pkt.dstPort, pkt.src, pkt.srcPort), n);
      n.sendSyn();
      return;
    }
    host.net.send({
      src: host.ip,
      srcPort: pkt.dstPort,
      dst: pkt.src,
      dstPort: pkt.srcPort,
      wireBytes: TCP_HEADER,
      tcp: { flags: FLAG.RST | FLAG.ACK, seq: 0, ack: 0, wnd: 0, data: undefined },
    });
  }

  // ---- Transport ------------------------------------------------------------------------------

  get destroyed(): boolean {
    return this.destroyCalled || this.state === 'closed';
  }

  get writableLength(): number {
    const kernel = Math.max(this.t.sendBufferMin, Math.min(2 * this.cwnd, 2 * this.t.maxWindow));
    return Math.max(0, this.out.end - this.sndUna - kernel);
  }

  /** Smoothed round-trip time in ms (undefined before the first sample). */
  get rttMs(): number | undefined {
    return this.srtt;
  }

  get congestionWindow(): number {
    return this.cwnd;
  }

  write(data: Uint8Array): boolean {
    if (this.destroyed || this.finQueued) return false;
    this.out.append(data);
    this.scheduleTransmit();
    const ok = this.writableLength < this.t.highWaterMark;
    if (!ok) this.needDrain = true;
    return ok;
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked > 0 && --this.corked === 0) this.scheduleTransmit();
  }

  end(): void {
    if (this.destroyed || this.finQueued) return;
    this.finQueued = true;
    this.scheduleTransmit();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyCalled = true;
    if (this.state !== 'syn-sent' || this.synTimer) this.emitSegment(FLAG.RST | FLAG.ACK, this.sndNxt);
    this.finish(undefined);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.readQueue.length > 0)
      this.sim.after(0, () => {
        while (!this.paused && this.readQueue.length > 0 && this.state !== 'closed') {
          const c = this.readQueue.shift()!;
          this.readQueued -= c.length;
          this.emitData(c);
        }
        // The window had closed (or nearly): tell the sender it is open again.
        if (this.state === 'established' && this.lastAdvertised < this.advertised / 2) this.sendAck();
      });
  }

  setNoDelay(): void {}

  // ---- handshake ------------------------------------------------------------------------------

  private sendSyn(): void {
    if (this.state !== 'syn-sent' && this.state !== 'syn-received') return;
    this.synAt = this.sim.now();
    const flags = this.state === 'syn-sent' ? FLAG.SYN : FLAG.SYN | FLAG.ACK;
    this.emitSegment(flags, 0);
    this.synTimer?.cancel();
    this.synTimer = this.sim.after(this.t.initialRtoMs * 2 ** this.synTries, () => {
      this.synTimer = undefined;
      if (++this.synTries > this.t.synRetries) {
        if (this.state === 'syn-sent') this.fail('ETIMEDOUT', 'connect');
        else this.finish(undefined);
      } else this.sendSyn();
    });
  }

  private established(): void {
    this.synTimer?.cancel();
    this.synTimer = undefined;
    if (this.synTries === 0) this.sampleRtt(this.sim.now() - this.synAt);
    this.state = 'established';
  }

  // ---- receiving segments ---------------------------------------------------------------------

  private onSegment(seg: TcpSegment): void {
    if (this.state === 'closed') return;
    if (seg.flags & FLAG.RST) {
      this.fail(
        this.state === 'syn-sent' ? 'ECONNREFUSED' : 'ECONNRESET',
        this.state === 'syn-sent' ? 'connect' : 'read',
      );
      return;
    }
    if (this.state === 'syn-sent') {
      if (seg.flags & FLAG.SYN && seg.flags & FLAG.ACK) {
        this.rwnd = seg.wnd;
        this.established();
        this.sendAck();
        this.sim.touch();
        this.emit('connect');
        this.transmit();
      }
      return;
    }
    if (seg.flags & FLAG.SYN) {
      // A retransmitted SYN (our SYN-ACK was lost) or SYN-ACK (our ACK was lost).
      if (this.state === 'syn-received') this.sendSyn();
      else if (seg.flags & FLAG.ACK) this.sendAck();
      return;
    }
    if (this.state === 'syn-received') {
      if (!(seg.flags & FLAG.ACK)) return;
      this.established();
      this.sim.touch();
      this.accept?.(this);
      if (this.destroyed) return;
    }
    if (seg.flags & FLAG.ACK) this.onAck(seg);
    if ((this.state as State) === 'closed') return;
    if (seg.data && seg.data.length > 0) this.onData(seg, seg.data);
    if (seg.flags & FLAG.FIN) {
      this.remoteFinSeq = seg.seq + (seg.data?.length ?? 0);
      if (!this.checkFin()) this.sendAck();
    }
    if (seg.flags & FLAG.PROBE) this.sendAck();
  }

  private onData(seg: TcpSegment, data: Buffer): void {
    const end = seg.seq + data.length;
    if (end <= this.rcvNxt) return this.sendAck(); // old duplicate
    if (seg.seq > this.rcvNxt) {
      // A gap: keep it (inside the window) and send a duplicate ACK at once.
      if (end - this.rcvNxt <= this.t.receiveBuffer) this.ooo.add(seg.seq, data);
      return this.sendAck();
    }
    this.accept1(seg.seq < this.rcvNxt ? data.subarray(this.rcvNxt - seg.seq) : data);
    let filled = false;
    if (this.ooo.size > 0)
      for (const chunk of this.ooo.pull(this.rcvNxt)) {
        this.accept1(chunk);
        filled = true;
      }
    if (this.checkFin()) return;
    this.unacked++;
    if (filled || this.ooo.size > 0 || seg.flags & FLAG.PSH || this.unacked >= 2) this.sendAck();
    else
      this.delack ??= this.sim.after(this.t.delayedAckMs, () => ((this.delack = undefined), this.sendAck()));
  }

  /** In-order bytes: to the reader, or to the read queue while paused. */
  private accept1(chunk: Buffer): void {
    this.rcvNxt += chunk.length;
    if (this.paused) {
      this.readQueue.push(chunk);
      this.readQueued += chunk.length;
    } else this.emitData(chunk);
  }

  /** The peer's FIN is next in sequence: ACK it and close our half too (no half-open). */
  private checkFin(): boolean {
    if (this.finReceived || this.remoteFinSeq === undefined || this.rcvNxt !== this.remoteFinSeq)
      return false;
    this.finReceived = true;
    this.rcvNxt += 1;
    this.sendAck();
    this.end();
    this.closeIfDone();
    return true;
  }

  private onAck(seg: TcpSegment): void {
    const ack = Math.min(seg.ack, this.sndMax);
    const windowChanged = seg.wnd !== this.rwnd;
    this.rwnd = seg.wnd;
    this.sacked = seg.sack ?? [];
    this.sackedBytes = 0;
    for (const [a, b] of this.sacked) this.sackedBytes += b - a;
    if (ack > this.sndUna) {
      const acked = ack - this.sndUna;
      if (this.timedSeq !== undefined && ack >= this.timedSeq) {
        this.sampleRtt(this.sim.now() - this.timedAt);
        this.timedSeq = undefined;
      }
      this.sndUna = ack;
      if (this.sndNxt < ack) this.sndNxt = ack; // after go-back-N the receiver may be ahead
      this.out.dropBefore(Math.min(ack, this.out.end));
      this.retries = 0;
      this.backoff = 1;
      this.dupAcks = 0;
      const mss = this.t.mss;
      if (this.inRecovery) {
        if (ack >= this.recover) {
          this.inRecovery = false;
          this.cwnd = this.ssthresh;
        } else if (this.sacked.length > 0) this.repairHoles();
        else {
          this.retransmit(this.sndUna); // NewReno: a partial ACK reveals the next hole
          this.cwnd = Math.max(mss, this.cwnd - acked + mss);
        }
      } else if (!this.cwndLimited) {
        // An application- or receiver-limited sender does not learn the path's capacity.
      } else if (this.cwnd < this.ssthresh) this.cwnd += Math.min(acked, 2 * mss);
      else this.cwnd += (mss * acked) / this.cwnd;
      this.cwnd = Math.min(this.cwnd, this.t.maxWindow);
      if (this.finSent && ack > this.out.end) this.finAcked = true;
      this.rtoTimer?.cancel();
      this.rtoTimer = undefined;
      this.armRto();
      if (this.finAcked) this.closeIfDone();
      this.maybeDrain();
    } else if (
      ack === this.sndUna &&
      this.sndNxt > this.sndUna &&
      !windowChanged &&
      !seg.data?.length &&
      !(seg.flags & FLAG.FIN)
    ) {
      const mss = this.t.mss;
      if (++this.dupAcks === 3 && !this.inRecovery) {
        this.ssthresh = Math.max((this.sndNxt - this.sndUna) / 2, 2 * mss);
        this.cwnd = this.ssthresh + 3 * mss;
        this.inRecovery = true;
        this.recover = this.sndMax;
        this.rtxNext = this.sndUna;
        this.stats.fastRetransmits++;
        if (this.sacked.length > 0) this.repairHoles();
        else this.retransmit(this.sndUna);
      } else if (this.inRecovery) {
        if (this.sacked.length > 0) this.repairHoles();
        else this.cwnd += mss;
      }
    }
    this.transmit();
  }

  /** SACK recovery: resend up to two segments of the holes below the highest SACKed byte. */
  private repairHoles(): void {
    const mss = this.t.mss;
    let budget = 2;
    this.rtxNext = Math.max(this.rtxNext, this.sndUna);
    for (const [a, b] of this.sacked) {
      while (budget > 0 && this.rtxNext < a) {
        const len = Math.min(mss, a - this.rtxNext);
        this.retransmit(this.rtxNext, len);
        this.rtxNext += len;
        budget--;
      }
      if (budget === 0) return;
      this.rtxNext = Math.max(this.rtxNext, b);
    }
  }

  private sampleRtt(r: number): void {
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(this.t.maxRtoMs, Math.max(this.t.minRtoMs, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  // ---- sending --------------------------------------------------------------------------------

  private scheduleTransmit(): void {
    if (this.transmitQueued) return;
    this.transmitQueued = true;
    this.sim.after(0, () => {
      this.transmitQueued = false;
      this.transmit();
    });
  }

  private transmit(): void {
    if (this.state !== 'established' || this.corked > 0) return;
    const mss = this.t.mss;
    const wnd = Math.min(this.cwnd, this.rwnd);
    this.cwndLimited = false;
    while (this.sndNxt < this.out.end) {
      // After a timeout sndNxt walks back over data the receiver already has: skip it.
      for (const [a, b] of this.sacked) if (this.sndNxt >= a && this.sndNxt < b) this.sndNxt = b;
      if (this.sndNxt >= this.out.end) break;
      // SACKed bytes have left the network: they do not count against the window.
      const inFlight = this.sndNxt - this.sndUna - this.sackedBytes;
      const waiting = this.out.end - this.sndNxt;
      const len = Math.min(mss, waiting, wnd - inFlight);
      if (len <= 0 || (len < mss && len < waiting && inFlight > 0)) {
        this.cwndLimited = this.cwnd <= this.rwnd;
        break; // no silly small segments
      }
      this.sendData(this.sndNxt, len);
      this.sndNxt += len;
    }
    if (this.finQueued && !this.finSent && this.sndNxt === this.out.end) {
      this.finSent = true;
      this.emitSegment(FLAG.FIN | FLAG.ACK, this.out.end);
      this.sndNxt = this.out.end + 1;
    }
    this.sndMax = Math.max(this.sndMax, this.sndNxt);
    this.armRto();
  }

  private sendData(seq: number, len: number): void {
    if (this.timedSeq === undefined) {
      this.timedSeq = seq + len;
      this.timedAt = this.sim.now();
    }
    const flags = FLAG.ACK | (seq + len === this.out.end ? FLAG.PSH : 0);
    this.emitSegment(flags, seq, this.out.slice(seq, len));
  }

  private retransmit(seq: number, upTo = this.t.mss): void {
    this.stats.retransmits++;
    this.host.net.stats.retransmits++;
    this.timedSeq = undefined; // Karn: no RTT sample from a retransmitted segment
    const len = Math.min(upTo, this.out.end - seq);
    if (len > 0) this.sendData(seq, len);
    else if (this.finSent) this.emitSegment(FLAG.FIN | FLAG.ACK, this.out.end);
  }

  private armRto(): void {
    if (this.rtoTimer || this.state !== 'established') return;
    const waiting = this.sndNxt > this.sndUna || (this.out.end > this.sndNxt && this.rwnd < this.t.mss);
    if (!waiting) return;
    this.rtoTimer = this.sim.after(Math.min(this.t.maxRtoMs, this.rto * this.backoff), () => this.onRto());
  }

  private onRto(): void {
    this.rtoTimer = undefined;
    if (this.state !== 'established') return;
    if (++this.retries > this.t.maxRetries) return this.fail('ETIMEDOUT', 'read');
    this.stats.timeouts++;
    this.host.net.stats.timeouts++;
    this.backoff *= 2;
    if (this.sndNxt > this.sndUna) {
      this.ssthresh = Math.max((this.sndNxt - this.sndUna) / 2, 2 * this.t.mss);
      this.cwnd = this.t.mss;
      this.inRecovery = false;
      this.dupAcks = 0;
      this.timedSeq = undefined;
      this.stats.retransmits++;
      this.sndNxt = this.sndUna; // go-back-N
      if (this.finSent && this.sndUna <= this.out.end) this.finSent = false;
    } else this.emitSegment(FLAG.PROBE | FLAG.ACK, this.sndNxt); // zero window: ask again
    this.transmit();
    this.armRto();
  }

  private get advertised(): number {
    return Math.max(0, this.t.receiveBuffer - this.readQueued);
  }

  private sendAck(): void {
    if (this.state !== 'closed') this.emitSegment(FLAG.ACK, this.sndNxt);
  }

  private emitSegment(flags: number, seq: number, data?: Buffer): void {
    const wnd = this.advertised;
    if (flags & FLAG.ACK) {
      this.unacked = 0;
      this.delack?.cancel();
      this.delack = undefined;
      this.lastAdvertised = wnd;
    }
    if (data) this.stats.segmentsSent++;
    this.host.net.send({
      src: this.host.ip,
      srcPort: this.localPort,
      dst: this.remoteAddress,
      dstPort: this.remotePort,
      wireBytes: TCP_HEADER + (data?.length ?? 0),
      tcp: {
        flags,
        seq,
        ack: this.rcvNxt,
        wnd,
        data,
        ...(this.ooo.size > 0 ? { sack: this.ooo.ranges() } : {}),
      },
    });
  }

  // ---- closing --------------------------------------------------------------------------------

  private maybeDrain(): void {
    if (!this.needDrain || this.writableLength > 0 || this.destroyed) return;
    this.needDrain = false;
    this.sim.touch();
    this.emit('drain');
  }

  private closeIfDone(): void {
    if (this.finReceived && this.finAcked) this.finish(undefined);
  }

  private fail(code: string, syscall: string): void {
    this.finish(errnoError(code, syscall, this.remoteAddress, this.remotePort));
  }

  private emitData(chunk: Buffer): void {
    this.sim.touch();
    if (this.onRead) this.onRead(chunk);
    else this.emit('data', chunk);
  }

  /** Tears down and emits 'error' (if any) and 'close' on the next step, like a socket. */
  private finish(err: NodeJS.ErrnoException | undefined): void {
    if (this.state === 'closed') return;
    // A polite close hands over what a paused reader had not taken yet.
    if (!err && !this.destroyCalled)
      for (const c of this.readQueue.splice(0)) {
        this.readQueued -= c.length;
        this.emitData(c);
      }
    this.state = 'closed';
    for (const t of [this.rtoTimer, this.synTimer, this.delack]) t?.cancel();
    const k = key(this.localPort, this.remoteAddress, this.remotePort);
    if (this.host.streams.get(k) === this) this.host.streams.delete(k);
    this.sim.after(0, () => {
      this.sim.touch();
      if (err && this.listenerCount('error') > 0) this.emit('error', err);
      this.emit('close');
    });
  }
}
