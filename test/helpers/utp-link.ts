/**
 * Two uTP connections back to back over a simulated link, in virtual time: one-way delay,
 * seeded loss, duplication and reordering (jitter), and an optional bottleneck (rate in bytes/s
 * and a drop-tail queue). Drives the pure state machines the way the socket does.
 */
import { UtpConnection, type UtpConnectionOptions } from '../../src/utp/connection.js';
import { decodePacket } from '../../src/utp/packet.js';
import { prng } from './prng.js';

export interface LinkOptions {
  seed?: number;
  /** One-way delay, ms. */
  delay?: number;
  loss?: number;
  duplicate?: number;
  /** Extra random delay up to this many ms (reorders packets). */
  jitter?: number;
  /** Bottleneck rate, bytes/s (unlimited when absent), and its queue in bytes. */
  rate?: number;
  queueBytes?: number;
}

interface InTransit {
  at: number;
  to: 0 | 1;
  bytes: Uint8Array;
}

/** A one-direction bottleneck shared by every flow that crosses it (see `Bottleneck`). */
export class Bottleneck {
  private busyUntil = 0;
  private queued: { until: number; size: number }[] = [];
  dropped = 0;
  delivered = 0;
  constructor(
    readonly rate: number,
    readonly queueBytes: number,
  ) {}

  /** When a packet of `size` bytes entering at `now` leaves the bottleneck, or undefined if dropped. */
  admit(now: number, size: number): number | undefined {
    this.queued = this.queued.filter((q) => q.until > now);
    const backlog = this.queued.reduce((s, q) => s + q.size, 0);
    if (backlog + size > this.queueBytes) {
      this.dropped++;
      return undefined;
    }
    const start = Math.max(now, this.busyUntil);
    this.busyUntil = start + (size * 1000) / this.rate;
    this.queued.push({ until: this.busyUntil, size });
    this.delivered += size;
    return this.busyUntil;
  }
}

export class UtpLink {
  now = 0;
  readonly a: UtpConnection;
  readonly received: [Buffer[], Buffer[]] = [[], []];
  readonly events: [string[], string[]] = [[], []];
  private transit: InTransit[] = [];
  private readonly rnd: () => number;
  readonly forward: Bottleneck | undefined;
  datagrams = 0;

  constructor(
    readonly o: LinkOptions = {},
    conn: Partial<UtpConnectionOptions> = {},
    forward?: Bottleneck,
  ) {
    this.rnd = prng(o.seed ?? 1);
    this.forward = forward ?? (o.rate ? new Bottleneck(o.rate, o.queueBytes ?? 64 * 1024) : undefined);
    this.a = new UtpConnection({ recvId: 100, sendId: 101, seq: 65530, now: 0, ...conn });
    // The SYN reaches the acceptor through the link like any packet: it is created on arrival.
    const syn = this.a.pollTransmit(0)!;
    this.send(0, syn);
    this.bConn = conn;
  }

  private bConn: Partial<UtpConnectionOptions>;
  private bMade: UtpConnection | undefined;

  get acceptor(): UtpConnection | undefined {
    return this.bMade;
  }

  private send(from: 0 | 1, bytes: Uint8Array): void {
    this.datagrams++;
    if (this.rnd() < (this.o.loss ?? 0)) return;
    let at = this.now + (this.o.delay ?? 10) + this.rnd() * (this.o.jitter ?? 0);
    if (from === 0 && this.forward) {
      const out = this.forward.admit(this.now, bytes.length + 28);
      if (out === undefined) return;
      at = out + (this.o.delay ?? 10) + this.rnd() * (this.o.jitter ?? 0);
    }
    const to = from === 0 ? 1 : 0;
    this.transit.push({ at, to, bytes });
    if (this.rnd() < (this.o.duplicate ?? 0)) this.transit.push({ at: at + this.rnd() * 5, to, bytes });
  }

  conn(i: 0 | 1): UtpConnection | undefined {
    return i === 0 ? this.a : this.bMade;
  }

  /** Sends everything both sides have to send now. */
  flush(): void {
    for (const i of [0, 1] as const) {
      const c = this.conn(i);
      if (!c) continue;
      for (let p = c.pollTransmit(this.now); p; p = c.pollTransmit(this.now)) this.send(i, p);
      for (let d = c.read(); d; d = c.read()) this.received[i].push(d);
      for (let e = c.pollEvent(); e; e = c.pollEvent())
        this.events[i].push(e.type === 'closed' && e.error ? `closed:${e.error.code}` : e.type);
    }
  }

  /** Runs until `until` (virtual ms) or `done()` holds. */
  run(until: number, done: () => boolean = () => false): void {
    this.flush();
    while (this.now < until && !done()) {
      let next = until;
      for (const t of this.transit) next = Math.min(next, t.at);
      for (const i of [0, 1] as const) {
        const at = this.conn(i)?.pollTimeout();
        if (at !== undefined) next = Math.min(next, Math.max(at, this.now));
      }
      this.now = next;
      const due = this.transit.filter((t) => t.at <= this.now);
      this.transit = this.transit.filter((t) => t.at > this.now);
      due.sort((x, y) => x.at - y.at);
      for (const t of due) this.deliver(t);
      for (const i of [0, 1] as const) {
        const c = this.conn(i);
        const at = c?.pollTimeout();
        if (c && at !== undefined && at <= this.now) c.handleTimeout(this.now);
      }
      this.flush();
    }
  }

  private deliver(t: InTransit): void {
    const p = decodePacket(t.bytes);
    if (t.to === 1 && !this.bMade) {
      if (p.type !== 4) return;
      this.bMade = new UtpConnection({
        recvId: (p.connectionId + 1) & 0xffff,
        sendId: p.connectionId,
        seq: 1234,
        now: this.now,
        syn: p,
        ...this.bConn,
      });
      return;
    }
    this.conn(t.to)?.handle(p, this.now);
  }

  bytes(i: 0 | 1): Buffer {
    return Buffer.concat(this.received[i]);
  }
}
