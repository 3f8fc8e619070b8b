import type { Rc4 } from '../mse/index.js';
import { WireEncoder, type Message } from '../wire/index.js';

export interface SendQueueIo {
  /** Writes chunks in order (the Peer corks around them). */
  write(chunks: Buffer[]): void;
  /** Called as each message enters the encoder (after any bandwidth wait), for counters. */
  queued(m: Message): void;
  uploadGate?: (bytes: number) => Promise<void> | void;
  /** The upload gate let waiting messages through (pending bytes fell). */
  released?(): void;
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
  private deferred: Message[] = [];
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
    const wait = m.type === 'piece' ? this.io.uploadGate?.(m.block.length) : undefined;
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
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed || this.encoder.empty) return;
    const chunks = this.encoder.flush();
    if (this.encrypt) {
      const all = Buffer.concat(chunks);
      this.encrypt.process(all);
      this.io.write([all]);
    } else this.io.write(chunks);
  };

  /** Drops everything not yet written; later sends are ignored. */
  close(): void {
    this.closed = true;
    this.deferred = [];
    this.deferredBytes = 0;
  }

  private defer(m: Message): void {
    this.deferred.push(m);
    if (m.type === 'piece') this.deferredBytes += m.block.length;
  }

  private release(): void {
    this.gateWaiting = false;
    if (this.closed) return;
    const [first, ...rest] = this.deferred;
    this.deferred = [];
    this.deferredBytes = 0;
    if (first) this.enqueue(first);
    for (const m of rest) this.send(m);
    this.io.released?.();
  }

  private enqueue(m: Message): void {
    this.encoder.queue(m);
    this.io.queued(m);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }
}
