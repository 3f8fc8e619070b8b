/** A scripted peer on a raw socket, speaking the wire protocol through src/wire (plaintext only). */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  HANDSHAKE_LENGTH,
  WireDecoder,
  encodeHandshake,
  encodeMessage,
  makeReserved,
  parseHandshake,
  type Handshake,
  type Message,
} from '../../../src/wire/index.js';

export class RawPeer {
  readonly messages: Message[] = [];
  handshake: Handshake | undefined;
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);
  private readonly decoder = new WireDecoder({ maxRequestLength: 128 * 1024 });
  private waiters: (() => void)[] = [];
  onMessage: ((m: Message) => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.wake());
  }

  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () => {
        s.off('error', reject);
        resolve(new RawPeer(s));
      });
      s.once('error', reject);
    });
  }

  /** A listening scripted peer: `onPeer` gets each accepted connection. */
  static async listen(
    onPeer: (p: RawPeer) => void,
    host = '127.0.0.1',
  ): Promise<{ server: Server; port: number }> {
    const server = createServer((s) => onPeer(new RawPeer(s)));
    await new Promise<void>((r) => server.listen(0, host, () => r()));
    return { server, port: (server.address() as { port: number }).port };
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  sendHandshake(infoHash: Buffer, peerId: Buffer = randomPeerId(), fast = true, extended = false): void {
    this.socket.write(encodeHandshake({ reserved: makeReserved({ fast, extended }), infoHash, peerId }));
  }

  send(m: Message): void {
    if (!this.socket.destroyed) this.socket.write(encodeMessage(m));
  }

  /** Waits until the remote's handshake arrived, a message matches, or the socket closed. */
  async waitFor(pred: (r: RawPeer) => boolean, ms = 5000): Promise<boolean> {
    const t0 = Date.now();
    while (!pred(this)) {
      if (this.isClosed || Date.now() - t0 > ms) return pred(this);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onData(d: Buffer): void {
    if (!this.handshake) {
      this.buf = Buffer.concat([this.buf, d]);
      if (this.buf.length < HANDSHAKE_LENGTH) return;
      try {
        this.handshake = parseHandshake(this.buf);
      } catch {
        // Not a plaintext handshake (an MSE attempt, garbage): hang up, as a plaintext-only
        // peer would; an 'enabled' client then retries in plaintext.
        this.socket.destroy();
        return;
      }
      d = this.buf.subarray(HANDSHAKE_LENGTH);
      this.buf = Buffer.alloc(0);
    }
    try {
      for (const m of this.decoder.push(d)) {
        this.messages.push(m);
        this.onMessage?.(m);
      }
    } catch {
      this.socket.destroy();
    }
    this.wake();
  }
}

export function randomPeerId(): Buffer {
  return Buffer.concat([Buffer.from('-RW0001-'), randomBytes(12)]);
}
