/**
 * node:dgram behind the datagram seam. `bindDatagramSocket` binds one socket and hides IPv4-mapped
 * addresses: on a dual-stack socket ('::') IPv4 peers arrive as plain IPv4 with family 4, and
 * IPv4 destinations are mapped on the way out (the kernel refuses them otherwise).
 * `openUdpEndpoint` is the one-user case: a socket that is one endpoint (a standalone DHT node,
 * a UDP tracker client without a session socket).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { NbtError, errorMessage } from '../util/errors.js';
import type { UdpEndpoint, UdpFamily, UdpPacketHandler, UdpSource } from './udp.js';

/** What UdpMux needs of a socket: node:dgram below, the in-memory network in tests. */
export interface DatagramSocket {
  /** udp4: [4]; udp6 bound to '::' (dual-stack): [4, 6]; udp6 bound to one IPv6 address: [6]. */
  readonly families: readonly UdpFamily[];
  readonly localPort: number;
  readonly localHost: string;
  send(packet: Uint8Array, port: number, host: string, done?: (error: Error | undefined) => void): void;
  /** The one receiver of every datagram. */
  receive(handler: (packet: Buffer, from: UdpSource) => void): void;
  close(): Promise<void>;
  /** Whether an open socket keeps the process alive (node:dgram's ref/unref). */
  setKeepAlive?(on: boolean): void;
}

export interface BindOptions {
  /** Errors the socket reports after binding (ICMP, …); default: ignored. */
  onError?: (e: Error) => void;
  /**
   * SO_RCVBUF / SO_SNDBUF in bytes (0 or absent: the system's default). The kernel caps them at
   * net.core.rmem_max / wmem_max; a refusal leaves the default (never an error).
   */
  receiveBufferSize?: number;
  sendBufferSize?: number;
}

/** Binds a UDP socket: an IPv6 host gives a udp6 socket ('::' also takes IPv4), else udp4. */
export async function bindDatagramSocket(
  port: number,
  host: string,
  o: BindOptions = {},
): Promise<DatagramSocket> {
  const v6 = isIP(host) === 6;
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    socket.close();
    throw new NbtError('UDP_BIND_FAILED', `cannot bind udp ${host}:${port}: ${errorMessage(e)}`, {
      cause: e,
    });
  });
  socket.on('error', (e) => o.onError?.(e));
  setBufferSizes(socket, o);
  return new DgramSocket(socket, v6 ? (host === '::' ? [4, 6] : [6]) : [4]);
}

/**
 * Datagrams that arrive while the event loop is busy (hashing, a GC pause, a loaded machine) wait
 * in the receive buffer; past it the kernel drops them. uTP reads each loss as congestion, so a
 * default ~200 KiB buffer held a libtorrent seed at a fraction of the link (2 % dropped, 7 MiB/s).
 */
function setBufferSizes(socket: Socket, o: BindOptions): void {
  try {
    if (o.receiveBufferSize) socket.setRecvBufferSize(o.receiveBufferSize);
    if (o.sendBufferSize) socket.setSendBufferSize(o.sendBufferSize);
  } catch {
    // A system that refuses the size keeps its default: slower uTP, nothing broken.
  }
}

class DgramSocket implements DatagramSocket {
  readonly localPort: number;
  readonly localHost: string;
  private closed = false;
  private readonly dualStack: boolean;

  constructor(
    private readonly socket: Socket,
    readonly families: readonly UdpFamily[],
  ) {
    const a = socket.address();
    this.localPort = a.port;
    this.localHost = a.address;
    this.dualStack = families.length === 2;
  }

  send(packet: Uint8Array, port: number, host: string, done?: (error: Error | undefined) => void): void {
    if (this.closed) return done?.(new NbtError('UDP_CLOSED', 'udp socket is closed'));
    const to = this.dualStack && isIP(host) === 4 ? `::ffff:${host}` : host;
    try {
      this.socket.send(packet, port, to, (e) => done?.(e ?? undefined));
    } catch (e) {
      // A bad port or address from the network must not throw out of the caller.
      done?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  receive(handler: (packet: Buffer, from: UdpSource) => void): void {
    this.socket.removeAllListeners('message');
    this.socket.on('message', (msg, rinfo) => {
      const mapped =
        rinfo.family === 'IPv6' && rinfo.address.startsWith('::ffff:') && rinfo.address.includes('.');
      const host = mapped ? rinfo.address.slice(7) : rinfo.address;
      handler(msg, { host, port: rinfo.port, family: mapped || rinfo.family === 'IPv4' ? 4 : 6 });
    });
  }

  setKeepAlive(on: boolean): void {
    if (this.closed) return;
    if (on) this.socket.ref();
    else this.socket.unref();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** An endpoint that owns its socket: every datagram of its family goes to its handlers. */
export class SocketEndpoint implements UdpEndpoint {
  readonly family: UdpFamily;
  private readonly handlers = new Set<UdpPacketHandler>();
  private closed = false;

  constructor(
    private readonly socket: DatagramSocket,
    family?: UdpFamily,
  ) {
    this.family = family ?? socket.families[socket.families.length - 1]!;
    socket.receive((packet, from) => {
      if (from.family !== this.family) return;
      for (const h of this.handlers) h(packet, from);
    });
  }

  get localPort(): number {
    return this.closed ? 0 : this.socket.localPort;
  }

  get localHost(): string {
    return this.socket.localHost;
  }

  send(packet: Uint8Array, port: number, host: string, done?: (error: Error | undefined) => void): void {
    this.socket.send(packet, port, host, done);
  }

  onPacket(handler: UdpPacketHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Whether the open socket keeps the process alive (a UDP tracker client's idle socket does not). */
  setKeepAlive(on: boolean): void {
    this.socket.setKeepAlive?.(on);
  }

  close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    return this.socket.close();
  }
}

/** Binds a socket of its own for one user (family: that of `host`). */
export async function openUdpEndpoint(
  port: number,
  host: string,
  o: BindOptions = {},
): Promise<SocketEndpoint> {
  const socket = await bindDatagramSocket(port, host, o);
  return new SocketEndpoint(socket, isIP(host) === 6 ? 6 : 4);
}
