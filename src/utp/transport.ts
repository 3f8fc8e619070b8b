/**
 * A uTP connection as a Transport (src/net/transport.ts), so a Peer cannot tell it from TCP.
 * The socket (src/utp/socket.ts) feeds it datagrams and time; this object turns the state
 * machine's output into the stream events net.Socket has ('connect', 'data', 'drain', 'error',
 * 'close') and its flow control into write()'s return value and the advertised window.
 */
import { EventEmitter } from 'node:events';
import type { NbtError } from '../util/errors.js';
import type { Transport } from '../net/transport.js';
import type { UtpConnection } from './connection.js';

/** What the transport needs from its socket. */
export interface UtpTransportHost {
  /** Runs the connection soon (after the current turn): transmit, deliver, re-arm timers. */
  schedule(t: UtpTransport): void;
  /** Sends the RESET and forgets the connection (destroy()). */
  abort(t: UtpTransport): void;
}

/** write() returns false above this many queued bytes (or twice the window, if larger). */
const HIGH_WATER_BYTES = 128 * 1024;

export class UtpTransport extends EventEmitter implements Transport {
  readonly kind = 'utp';
  private closedFlag = false;
  private paused = false;
  private needDrain = false;
  private closeEmitted = false;
  /** The peer's FIN came: once everything before it is read, the stream is over for the user. */
  private remoteEnded = false;

  constructor(
    readonly connection: UtpConnection,
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly host: UtpTransportHost,
    /**
     * Outgoing connections of a Peer that reuses its read buffer (Connector.connect's onRead):
     * bytes are copied into `readBuffer` and handed on, valid only during the call, instead of
     * a fresh buffer per 'data' event.
     */
    private readonly onRead?: (chunk: Buffer) => void,
    private readonly readBuffer?: Buffer,
  ) {
    super();
  }

  get destroyed(): boolean {
    return this.closedFlag;
  }

  get writableLength(): number {
    return this.connection.writableLength;
  }

  private get highWater(): number {
    return Math.max(HIGH_WATER_BYTES, 2 * this.connection.congestionWindow);
  }

  write(data: Uint8Array): boolean {
    if (this.closedFlag || this.connection.state === 'closed') return false;
    try {
      this.connection.write(data);
    } catch {
      return false; // after end(): as net.Socket, the bytes go nowhere
    }
    this.host.schedule(this);
    if (this.connection.writableLength < this.highWater) return true;
    this.needDrain = true;
    return false;
  }

  cork(): void {
    // Writes are cut into packets only when the socket runs the connection (a later turn).
  }

  uncork(): void {}

  push(): void {
    if (this.closedFlag || this.connection.state === 'closed') return;
    this.connection.push();
    this.host.schedule(this);
  }

  end(): void {
    if (this.closedFlag) return;
    this.connection.end();
    this.host.schedule(this);
  }

  destroy(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.host.abort(this);
    this.emitClose();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.host.schedule(this);
  }

  setNoDelay(): void {}

  /** @internal The socket ran the connection: deliver bytes and events. */
  drive(): void {
    const c = this.connection;
    if (!this.paused && !this.closedFlag) {
      if (this.onRead && this.readBuffer) {
        for (let n = c.readInto(this.readBuffer); n > 0; n = c.readInto(this.readBuffer)) {
          this.onRead(this.readBuffer.subarray(0, n));
          if (this.paused || this.closedFlag) break;
        }
      } else {
        for (let data = c.read(); data; data = c.read()) {
          this.emit('data', data);
          if (this.paused || this.closedFlag) break;
        }
      }
    }
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      if (e.type === 'connected') this.emit('connect');
      // The peer's FIN: like net.Socket without allowHalfOpen, we finish and close too.
      else if (e.type === 'end') {
        c.end();
        this.remoteEnded = true;
      } else this.finish(e.error);
    }
    // Both sides finished: the user is done with this stream now, as with TCP, whose LAST_ACK
    // the kernel handles out of sight. The socket keeps the connection to deliver what is queued
    // and to retransmit our FIN until it is acked or times out; a peer that went away without
    // acking it (its process exited) must not hold a connection slot here meanwhile.
    if (this.remoteEnded && !this.paused && !this.closedFlag) this.finish(undefined);
    if (this.needDrain && c.writableLength < this.highWater && !this.closedFlag) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private finish(error: NbtError | undefined): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (error) this.emit('error', Object.assign(error, { errno: undefined }) as NodeJS.ErrnoException);
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    // As net.Socket: 'close' comes on a later turn, after whatever the caller does next.
    queueMicrotask(() => this.emit('close'));
  }
}
