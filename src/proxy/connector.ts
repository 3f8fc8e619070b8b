/**
 * Peer connections through a proxy as a `Connector` (src/net/transport.ts): `connect()` returns
 * at once a transport that emits 'connect' when the proxy has opened the tunnel, or 'error' +
 * 'close' when it could not. Once up, every call and event maps onto the tunnel's socket.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Connector, Transport } from '../net/transport.js';
import type { Clock } from '../util/clock.js';
import type { ProxyConfig } from './config.js';
import { openTunnel, type PendingTunnel } from './tunnel.js';

export interface ProxyConnectorOptions {
  clock: Clock;
  /** Proxy setup deadline (the Dial's connect timeout applies on top). */
  timeoutMs?: number;
  localAddress?: string;
}

export class TunnelTransport extends EventEmitter implements Transport {
  readonly kind: string;
  private socket: Socket | undefined;
  private pending: PendingTunnel | undefined;
  private closed = false;
  private paused = false;

  constructor(
    proxy: ProxyConfig,
    readonly remoteAddress: string,
    readonly remotePort: number,
    o: ProxyConnectorOptions,
  ) {
    super();
    this.kind = proxy.type === 'socks5' ? 'socks5' : 'http-proxy';
    this.pending = openTunnel(proxy, remoteAddress, remotePort, {
      clock: o.clock,
      timeoutMs: o.timeoutMs ?? 30_000,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    this.pending.ready.then(
      (s) => this.attach(s),
      (e: Error) => {
        this.pending = undefined;
        if (this.closed) return;
        this.closed = true;
        this.emit('error', e);
        this.emit('close');
      },
    );
  }

  private attach(s: Socket): void {
    this.pending = undefined;
    if (this.closed) return void s.destroy();
    this.socket = s;
    s.on('data', (c: Buffer) => this.emit('data', c));
    s.on('drain', () => this.emit('drain'));
    s.on('error', (e) => this.emit('error', e));
    s.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
    if (this.paused) s.pause();
    else s.resume();
    this.emit('connect');
  }

  get destroyed(): boolean {
    return this.closed || (this.socket?.destroyed ?? false);
  }
  get writableLength(): number {
    return this.socket?.writableLength ?? 0;
  }
  write(data: Uint8Array): boolean {
    return this.socket ? this.socket.write(data) : false;
  }
  cork(): void {
    this.socket?.cork();
  }
  uncork(): void {
    this.socket?.uncork();
  }
  end(): void {
    if (this.socket) this.socket.end();
    else this.destroy();
  }
  destroy(): void {
    if (this.socket) return void this.socket.destroy();
    if (this.closed) return;
    this.closed = true;
    this.pending?.abort();
    // Same contract as a socket destroyed while connecting: one 'close', later.
    queueMicrotask(() => this.emit('close'));
  }
  pause(): void {
    this.paused = true;
    this.socket?.pause();
  }
  resume(): void {
    this.paused = false;
    this.socket?.resume();
  }
  setNoDelay(on: boolean): void {
    this.socket?.setNoDelay(on);
  }
}

/** Dials every peer through `proxy` (SOCKS5 or HTTP CONNECT). */
export class ProxyConnector implements Connector {
  readonly kind: string;

  constructor(
    readonly proxy: ProxyConfig,
    private readonly o: ProxyConnectorOptions,
  ) {
    this.kind = proxy.type === 'socks5' ? 'socks5' : 'http-proxy';
  }

  connect(host: string, port: number): Transport {
    return new TunnelTransport(this.proxy, host, port, this.o);
  }
}
