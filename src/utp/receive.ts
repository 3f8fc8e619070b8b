/**
 * The receive half of a uTP connection: in-order delivery, a bounded reorder buffer, the
 * selective-ACK bitmask we send, the FIN's place in the sequence, and the window we advertise.
 */
import { seqAdd, seqDiff } from './packet.js';

/** Packets further ahead than this are dropped (the sender resends them later). */
const MAX_REORDER_DISTANCE = 4096;
/** In-order bytes accepted beyond the advertised window (a packet in flight when it closed). */
const OVERSHOOT_BYTES = 64 * 1024;
/** Bytes of SACK bitmask we send: 256 packets past the hole, as libtorrent. */
const SACK_BYTES = 32;

export type ReceiveResult = 'delivered' | 'buffered' | 'duplicate' | 'dropped';

export class ReceiveBuffer {
  /** The last sequence number received in order. */
  ackNr = 0;
  /** Sequence number of the peer's FIN, once seen. */
  finSeq: number | undefined;
  /** True once everything up to the FIN was delivered. */
  gotFin = false;
  private readonly reorder = new Map<number, Uint8Array>();
  private reorderBytes = 0;
  private readonly delivered: Uint8Array[] = [];
  private deliveredBytes = 0;

  constructor(private readonly capacity: number) {}

  /** Bytes buffered (reordered or not yet read). */
  get buffered(): number {
    return this.reorderBytes + this.deliveredBytes;
  }

  /** The receive window we advertise. */
  get window(): number {
    return Math.max(0, this.capacity - this.buffered);
  }

  get hasGaps(): boolean {
    return this.reorder.size > 0;
  }

  /** A DATA packet's payload (copied when kept) or a FIN (`fin`, no payload). */
  receive(seq: number, payload: Uint8Array, fin: boolean): ReceiveResult {
    const d = seqDiff(seq, seqAdd(this.ackNr, 1));
    if (d < 0) return 'duplicate';
    if (this.finSeq !== undefined && seqDiff(seq, this.finSeq) > 0) return 'dropped';
    if (fin) {
      // A second FIN at another place is a confused peer: the first one stands.
      if (this.finSeq !== undefined && this.finSeq !== seq) return 'dropped';
      this.finSeq = seq;
    }
    if (d === 0) {
      // A peer that ignores our window (we are paused) cannot grow the buffer without bound.
      if (this.buffered + payload.length > this.capacity + OVERSHOOT_BYTES) return 'dropped';
      this.deliver(payload, fin);
      this.drain();
      return 'delivered';
    }
    if (d >= MAX_REORDER_DISTANCE || this.reorder.has(seq))
      return this.reorder.has(seq) ? 'duplicate' : 'dropped';
    if (payload.length > 0 && this.reorderBytes + payload.length > this.capacity) return 'dropped';
    this.reorder.set(seq, keep(payload));
    this.reorderBytes += payload.length;
    return 'buffered';
  }

  /** Everything delivered and not read yet, in one buffer (undefined when none). */
  read(): Buffer | undefined {
    if (this.delivered.length === 0) return undefined;
    const out =
      this.delivered.length === 1
        ? toBuffer(this.delivered[0]!)
        : Buffer.concat(this.delivered, this.deliveredBytes);
    this.delivered.length = 0;
    this.deliveredBytes = 0;
    return out;
  }

  /**
   * Copies delivered bytes into `target` (as many as fit) and returns how many; what does not
   * fit stays for the next call. For readers that reuse one buffer (no allocation per batch).
   */
  readInto(target: Uint8Array): number {
    let n = 0;
    let i = 0;
    for (; i < this.delivered.length && n < target.length; i++) {
      const d = this.delivered[i]!;
      const k = Math.min(d.length, target.length - n);
      target.set(k === d.length ? d : d.subarray(0, k), n);
      n += k;
      if (k < d.length) {
        this.delivered[i] = d.subarray(k);
        break;
      }
    }
    this.delivered.splice(0, i);
    this.deliveredBytes -= n;
    return n;
  }

  /** The SACK bitmask for the packets held past the hole (undefined when there is no hole). */
  sack(): Uint8Array | undefined {
    if (this.reorder.size === 0) return undefined;
    let highest = 0;
    for (const seq of this.reorder.keys()) highest = Math.max(highest, seqDiff(seq, this.ackNr) - 2);
    const bytes = Math.min(SACK_BYTES, (Math.floor(highest / 32) + 1) * 4);
    const mask = new Uint8Array(bytes);
    for (const seq of this.reorder.keys()) {
      const bit = seqDiff(seq, this.ackNr) - 2;
      if (bit >= 0 && bit < bytes * 8) mask[bit >> 3]! |= 1 << (bit & 7);
    }
    return mask;
  }

  private deliver(payload: Uint8Array, fin: boolean): void {
    this.ackNr = seqAdd(this.ackNr, 1);
    if (fin) {
      this.gotFin = true;
      return;
    }
    if (payload.length > 0) {
      this.delivered.push(keep(payload));
      this.deliveredBytes += payload.length;
    }
  }

  private drain(): void {
    for (;;) {
      if (this.gotFin) return;
      const next = seqAdd(this.ackNr, 1);
      const held = this.reorder.get(next);
      if (held === undefined) return;
      this.reorder.delete(next);
      this.reorderBytes -= held.length;
      this.deliver(held, next === this.finSeq);
    }
  }
}

/**
 * A payload is kept as a view of its datagram (each datagram is its own allocation; copying every
 * packet's bytes was a third of the receive path's garbage). A small payload in a larger buffer
 * (many extensions, a tiny packet) is copied, so what is held stays close to what is counted.
 */
function keep(payload: Uint8Array): Uint8Array {
  return payload.byteLength * 2 >= payload.buffer.byteLength ? payload : Buffer.from(payload);
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
