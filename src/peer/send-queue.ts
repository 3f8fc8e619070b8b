import type { Rc4 } from '../mse/index.js';
import { WireEncoder, type Message } from '../wire/index.js';

/** SendQueueIo's methods (symbols: a Peer implements them without adding to its public API). */
export const IO_WRITE: unique symbol = Symbol('SendQueue.write');
export const IO_QUEUED: unique symbol = Symbol('SendQueue.queued');
export const IO_RELEASED: unique symbol = Symbol('SendQueue.released');
export const IO_GATE: unique symbol = Symbol('SendQueue.gate');

/** The queue's owner: one object, not a closure per hook, per connection. */
export interface SendQueueIo {
  /** Writes chunks in order (the Peer corks around them). */
  [IO_WRITE](chunks: Buffer[]): void;
  /** Called as each message enters the encoder (after any bandwidth wait), for counters. */
  [IO_QUEUED](m: Message): void;
  /** The upload gate: a promise delays a piece of `bytes` (and everything after it). */
  [IO_GATE](bytes: number): Promise<void> | void;
  /** The upload gate let waiting messages through (pending bytes fell). */
  [IO_RELEASED](): void;
}

/**
 * Outgoing messages: batched in a WireEncoder and flushed once per microtask turn, piece blocks
 * kept as their own chunks; an optional upload gate delays a piece and everything after it, so
 * order is kept. With RC4 the batch is copied once and encrypted in place (the caller's block
 * buffers must stay untouched).
 */
export class SendQueue {
  encrypt: Rc4 | null = null;
  private readonly encoder = new WireEncoder();
  private scheduled = false;
  private gateWaiting = false;
  /** Made when the upload gate first holds a message back. */
  private deferred: Message[] | undefined;
  /** Piece bytes in `deferred`: queued behind the upload gate, not yet in the encoder. */
  private deferredBytes = 0;
  private closed = false;

  constructor(private readonly io: SendQueueIo) {}

  /** Bytes not yet handed to the transport: the batch, and pieces waiting for the upload gate. */
  get pendingBytes(): number {
    return this.encoder.pendingBytes + this.deferredBytes;
  }

  /** Raw bytes in order with the messages (our handshake for incoming connections). */
  queueRaw(data: Buffer): void {
    this.encoder.queueRaw(data);
    this.schedule();
  }

  send(m: Message): void {
    if (this.closed) return;
    if (this.gateWaiting) {
      this.defer(m);
      return;
    }
    const wait = m.type === 'piece' ? this.io[IO_GATE](m.block.length) : undefined;
    if (wait) {
      this.gateWaiting = true;
      this.defer(m);
      const release = (): void => this.release();
      void wait.then(release, release);
      return;
    }
    this.enqueue(m);
  }

  /** Writes everything queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.closed || this.encoder.empty) return;
    const chunks = this.encoder.flush();
    if (this.encrypt) {
      const all = Buffer.concat(chunks);
      this.encrypt.process(all);
      this.io[IO_WRITE]([all]);
    } else this.io[IO_WRITE](chunks);
  }

  /** Drops everything not yet written; later sends are ignored. */
  close(): void {
    this.closed = true;
    this.deferred = undefined;
    this.deferredBytes = 0;
  }

  private defer(m: Message): void {
    (this.deferred ??= []).push(m);
    if (m.type === 'piece') this.deferredBytes += m.block.length;
  }

  private release(): void {
    this.gateWaiting = false;
    if (this.closed) return;
    const [first, ...rest] = this.deferred ?? [];
    this.deferred = undefined;
    this.deferredBytes = 0;
    if (first) this.enqueue(first);
    for (const m of rest) this.send(m);
    this.io[IO_RELEASED]();
  }

  private enqueue(m: Message): void {
    this.encoder.queue(m);
    this.io[IO_QUEUED](m);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }
}
