/** TCP as a Transport (src/net/transport.ts): node:net behind the interface the Peer talks to. */
import { connect as netConnect, createServer, type Socket } from 'node:net';
import {
  TRANSPORT_EVENT,
  type Connector,
  type Listener,
  type Network,
  type Transport,
  type TransportSink,
} from './transport.js';

/** Size of the shared read buffer: larger reads mean fewer system calls on fast links. */
const READ_BUFFER_BYTES = 256 * 1024;
let readBuffer: Buffer | undefined;

function sharedReadBuffer(): Buffer {
  readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  return readBuffer;
}

/**
 * A `net.Socket` as a Transport. Every method and event maps one-to-one onto the socket
 * (listeners are attached to the socket itself), so the wrapper costs one call per operation.
 */
export class TcpTransport implements Transport {
  readonly kind = 'tcp';
  readonly releasesWritten = true;
  /** @internal Where setSink() sends the socket's events. */
  sink: TransportSink | undefined = undefined;

  constructor(readonly socket: Socket) {}

  /** The socket's listeners are shared by every connection; each finds its transport on the socket. */
  setSink(sink: TransportSink): void {
    this.sink = sink;
    (this.socket as TaggedSocket)[TRANSPORT] = this;
    this.socket.on('data', onSocketData);
    this.socket.on('error', onSocketError);
    this.socket.on('drain', onSocketDrain);
    this.socket.on('close', onSocketClose);
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }
  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }
  get destroyed(): boolean {
    return this.socket.destroyed;
  }
  get writableLength(): number {
    return this.socket.writableLength;
  }
  write(data: Uint8Array): boolean {
    return this.socket.write(data);
  }
  cork(): void {
    this.socket.cork();
  }
  uncork(): void {
    this.socket.uncork();
  }
  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  setNoDelay(on: boolean): void {
    this.socket.setNoDelay(on);
  }
  on(event: 'connect', listener: () => void): this;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'drain', listener: () => void): this;
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: string, listener: (...args: never[]) => void): this {
    this.socket.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
  once(event: 'connect' | 'drain' | 'close', listener: () => void): this {
    this.socket.once(event, listener);
    return this;
  }
}

const TRANSPORT = Symbol('TcpTransport');
type TaggedSocket = Socket & { [TRANSPORT]?: TcpTransport };

// Listeners are called with the socket as `this` (EventEmitter's contract).
function onSocketData(this: Socket, chunk: Buffer): void {
  const t = (this as TaggedSocket)[TRANSPORT];
  t?.sink?.[TRANSPORT_EVENT](t, 'data', chunk);
}
function onSocketError(this: Socket, e: NodeJS.ErrnoException): void {
  const t = (this as TaggedSocket)[TRANSPORT];
  t?.sink?.[TRANSPORT_EVENT](t, 'error', e);
}
function onSocketDrain(this: Socket): void {
  const t = (this as TaggedSocket)[TRANSPORT];
  t?.sink?.[TRANSPORT_EVENT](t, 'drain');
}
function onSocketClose(this: Socket): void {
  const t = (this as TaggedSocket)[TRANSPORT];
  t?.sink?.[TRANSPORT_EVENT](t, 'close');
}

function tcpConnect(
  host: string,
  port: number,
  onRead: ((chunk: Buffer) => void) | undefined,
  localAddress: string | undefined,
): TcpTransport {
  const bind = localAddress ? { localAddress } : {};
  // noDelay: requests and HAVEs are small writes; Nagle would hold them for the peer's delayed
  // ACK and leave the request pipeline empty (the listen side sets the same).
  if (!onRead) return new TcpTransport(netConnect({ host, port, noDelay: true, ...bind }));
  // Reads land in one process-wide buffer instead of a fresh 64 KiB one each time: less
  // garbage and fewer, larger reads. Each chunk is handled synchronously, so sharing is safe.
  const buffer = sharedReadBuffer();
  const socket = netConnect({
    host,
    port,
    noDelay: true,
    ...bind,
    onread: {
      buffer,
      callback: (n) => {
        onRead(buffer.subarray(0, n));
        return true;
      },
    },
  });
  return new TcpTransport(socket);
}

/** TCP dials from one local address (the session's outgoing interface). */
export function boundTcpConnector(localAddress: string): Connector {
  return {
    kind: 'tcp',
    connect: (host, port, options) => tcpConnect(host, port, options?.onRead, localAddress),
  };
}

/** Real TCP: outgoing connections and listening sockets through node:net. */
export const tcpNetwork: Network = {
  kind: 'tcp',
  connect(host, port, options) {
    return tcpConnect(host, port, options?.onRead, undefined);
  },
  listen(host, port, onConnection, onError) {
    const server = createServer({ noDelay: true });
    // Attached before the promise settles, so no connection is missed.
    server.on('connection', (socket) => onConnection(new TcpTransport(socket)));
    return new Promise<Listener>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        // Later server errors (accept failing) are reported, never thrown.
        server.on('error', (e) => onError?.(e));
        resolve({
          port: (server.address() as { port: number }).port,
          close: () => new Promise<void>((r) => server.close(() => r())),
        });
      });
    });
  },
};
