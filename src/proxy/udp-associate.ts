/**
 * The session's UDP socket through a SOCKS5 UDP ASSOCIATE relay, as a `DatagramSocket`
 * (src/net/udp-socket.ts): the UdpMux on top, and so the DHT, UDP trackers and uTP, never know.
 * Every datagram goes to the relay wrapped in the RFC 1928 header (./socks5-udp.ts); only
 * datagrams from the relay are taken (anything else is dropped: in a proxied session nothing
 * may talk to us around the proxy). The association ends with its TCP control connection;
 * sends fail with PROXY_UDP_CLOSED from then on.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import type { DatagramSocket } from '../net/udp-socket.js';
import type { UdpFamily, UdpSource } from '../net/udp.js';
import type { Clock } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import type { ProxyConfig } from './config.js';
import { decodeSocksUdp, encodeSocksUdp } from './socks5-udp.js';
import { openUdpAssociation } from './tunnel.js';

export interface SocksUdpOptions {
  clock: Clock;
  timeoutMs?: number;
  /** Local address of the UDP socket and of the control connection (default any). */
  localAddress?: string;
  /** Local UDP port (0 = any). */
  port?: number;
  /** The association broke, or a socket error: reported, never thrown. */
  onError?: (e: Error) => void;
}

export interface SocksUdpStats {
  sent: number;
  received: number;
  /** Datagrams not from the relay, or not decodable. */
  dropped: number;
}

export class SocksUdpSocket implements DatagramSocket {
  readonly families: readonly UdpFamily[] = [4];
  private closed = false;
  private broken: Error | undefined;
  readonly stats: SocksUdpStats = { sent: 0, received: 0, dropped: 0 };

  private constructor(
    private readonly socket: UdpSocket,
    private readonly control: Socket,
    /** Where datagrams go (the relay's address as the proxy named it). */
    readonly relay: { host: string; port: number },
    private readonly onError: ((e: Error) => void) | undefined,
  ) {
    control.on('error', (e) => (this.broken ??= e));
    control.on('close', () => {
      if (this.closed) return;
      const e = new NbtError(
        'PROXY_UDP_CLOSED',
        `socks5 udp association ended${this.broken ? `: ${errorMessage(this.broken)}` : ''}`,
      );
      this.broken = e;
      onError?.(e);
    });
    // The control connection carries nothing after the reply; keep it read so it can close.
    control.on('data', () => undefined);
    control.resume();
  }

  /** Binds a local UDP socket and asks the proxy for a relay. */
  static async open(proxy: ProxyConfig, o: SocksUdpOptions): Promise<SocksUdpSocket> {
    const socket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(o.port ?? 0, o.localAddress ?? '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((e: unknown) => {
      socket.close();
      throw new NbtError('UDP_BIND_FAILED', `cannot bind udp for the proxy: ${errorMessage(e)}`, {
        cause: e,
      });
    });
    socket.on('error', (e) => o.onError?.(e));
    try {
      const { control, relay } = await openUdpAssociation(proxy, '0.0.0.0', socket.address().port, {
        clock: o.clock,
        timeoutMs: o.timeoutMs ?? 30_000,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      });
      return new SocksUdpSocket(socket, control, relay, o.onError);
    } catch (e) {
      socket.close();
      throw e;
    }
  }

  get localPort(): number {
    return this.closed ? 0 : this.socket.address().port;
  }

  get localHost(): string {
    return this.socket.address().address;
  }

  send(packet: Uint8Array, port: number, host: string, done?: (error: Error | undefined) => void): void {
    if (this.closed) return done?.(new NbtError('UDP_CLOSED', 'udp socket is closed'));
    if (this.broken) return done?.(this.broken);
    let framed: Buffer;
    try {
      framed = encodeSocksUdp(host, port, packet);
    } catch (e) {
      return done?.(e instanceof Error ? e : new Error(String(e)));
    }
    this.stats.sent++;
    try {
      this.socket.send(framed, this.relay.port, this.relay.host, (e) => done?.(e ?? undefined));
    } catch (e) {
      done?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  receive(handler: (packet: Buffer, from: UdpSource) => void): void {
    this.socket.removeAllListeners('message');
    this.socket.on('message', (msg, rinfo) => {
      const fromRelay = rinfo.port === this.relay.port && sameHost(rinfo.address, this.relay.host);
      if (!fromRelay) return void this.stats.dropped++;
      let d;
      try {
        d = decodeSocksUdp(msg);
      } catch {
        return void this.stats.dropped++;
      }
      // Domain-named sources cannot be told apart from others by address: not ours to route.
      if (d.host.includes(':') || !/^\d+\.\d+\.\d+\.\d+$/.test(d.host)) return void this.stats.dropped++;
      this.stats.received++;
      handler(d.payload, { host: d.host, port: d.port, family: 4 });
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
    this.control.destroy();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function sameHost(a: string, b: string): boolean {
  const strip = (h: string): string => (h.startsWith('::ffff:') ? h.slice(7) : h);
  return strip(a) === strip(b);
}
