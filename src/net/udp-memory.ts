/**
 * An in-memory datagram network for tests: sockets bound by host and port, datagrams copied and
 * delivered on a microtask (no sockets, no timers). `memoryEndpointPair()` gives two connected
 * endpoints; `network.bind()` gives a DatagramSocket a UdpMux can share.
 */
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';
import type { DatagramSocket } from './udp-socket.js';
import { SocketEndpoint } from './udp-socket.js';
import type { UdpFamily, UdpSource } from './udp.js';

export class MemoryUdpNetwork {
  private readonly sockets = new Map<string, MemoryDatagramSocket>();
  private nextPort = 40_000;
  /** Datagrams sent to an address nobody is bound to. */
  undeliverable = 0;

  /** Binds a socket (port 0: the next free one). Wildcard hosts ('0.0.0.0', '::') take any address. */
  bind(host = '127.0.0.1', port = 0): MemoryDatagramSocket {
    let p = port;
    if (p === 0) while (this.sockets.has(key(host, (p = this.nextPort++))));
    if (this.sockets.has(key(host, p)))
      throw new NbtError('UDP_BIND_FAILED', `memory udp ${host}:${p} is in use`);
    const s = new MemoryDatagramSocket(this, host, p);
    this.sockets.set(key(host, p), s);
    return s;
  }

  /** A one-user endpoint on its own memory socket. */
  endpoint(host = '127.0.0.1', port = 0): SocketEndpoint {
    return new SocketEndpoint(this.bind(host, port));
  }

  /** @internal */
  deliver(packet: Uint8Array, from: UdpSource, host: string, port: number): void {
    const family: UdpFamily = isIP(host) === 6 ? 6 : 4;
    const to =
      this.sockets.get(key(host, port)) ?? this.sockets.get(key(family === 6 ? '::' : '0.0.0.0', port));
    if (!to) {
      this.undeliverable++;
      return;
    }
    const copy = Buffer.from(packet);
    queueMicrotask(() => to.arrive(copy, from));
  }

  /** @internal */
  unbind(s: MemoryDatagramSocket): void {
    if (this.sockets.get(key(s.localHost, s.localPort)) === s)
      this.sockets.delete(key(s.localHost, s.localPort));
  }
}

export class MemoryDatagramSocket implements DatagramSocket {
  readonly families: readonly UdpFamily[];
  private handler: ((packet: Buffer, from: UdpSource) => void) | undefined;
  private closed = false;

  constructor(
    private readonly network: MemoryUdpNetwork,
    readonly localHost: string,
    readonly localPort: number,
  ) {
    this.families = [isIP(localHost) === 6 ? 6 : 4];
  }

  send(packet: Uint8Array, port: number, host: string, done?: (error: Error | undefined) => void): void {
    if (this.closed) return done?.(new NbtError('UDP_CLOSED', 'udp socket is closed'));
    const family = this.families[0]!;
    if (isIP(host) !== family) return done?.(new NbtError('UDP_BAD_ADDRESS', `cannot send to ${host}`));
    const self =
      this.localHost === '0.0.0.0' ? '127.0.0.1' : this.localHost === '::' ? '::1' : this.localHost;
    this.network.deliver(packet, { host: self, port: this.localPort, family }, host, port);
    done?.(undefined);
  }

  receive(handler: (packet: Buffer, from: UdpSource) => void): void {
    this.handler = handler;
  }

  /** @internal */
  arrive(packet: Buffer, from: UdpSource): void {
    if (!this.closed) this.handler?.(packet, from);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.network.unbind(this);
    }
    return Promise.resolve();
  }
}

/** Two endpoints on a fresh network (127.0.0.1), each able to reach the other. */
export function memoryEndpointPair(): [SocketEndpoint, SocketEndpoint, MemoryUdpNetwork] {
  const net = new MemoryUdpNetwork();
  return [net.endpoint(), net.endpoint(), net];
}

function key(host: string, port: number): string {
  return `${host}|${port}`;
}
