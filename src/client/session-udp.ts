/**
 * The session's UDP socket: bound by Client.listen() on the TCP listen port (libtorrent,
 * Transmission and qBittorrent all use one port number for both) and shared through a UdpMux by
 * the DHT and the UDP tracker client (and, next, uTP). Each gets its endpoint from here.
 */
import { isIP } from 'node:net';
import { NbtError, errorMessage } from '../util/errors.js';
import type { UdpEndpoint, UdpFamily, UdpRoute } from '../net/udp.js';
import { UdpMux, type UdpMuxStats } from '../net/udp-mux.js';
import { bindDatagramSocket, type BindOptions, type DatagramSocket } from '../net/udp-socket.js';

/** Opens the socket under the mux (a direct node:dgram socket, or a proxy's UDP association). */
export type OpenDatagramSocket = (
  port: number,
  host: string,
  warn: (e: Error) => void,
  /** Socket buffer sizes (a direct socket uses them; a proxy's association may not). */
  buffers: Pick<BindOptions, 'receiveBufferSize' | 'sendBufferSize'>,
) => Promise<DatagramSocket>;

/** What the services see of the session's UDP socket. */
export interface SharedUdp {
  /** The address the session binds (the Client's `host` option). */
  readonly host: string;
  /** The family the session binds: 6 for an IPv6 address other than '::', else 4. */
  readonly family: UdpFamily;
  /** Settles once the socket is bound (at Client.listen()); rejects if the client closes first. */
  readonly bound: Promise<void>;
  /** The endpoint for a route and family; undefined before binding or when the socket lacks that family. */
  endpoint(route: UdpRoute, family: UdpFamily): UdpEndpoint | undefined;
}

export class SessionUdp implements SharedUdp {
  readonly family: UdpFamily;
  readonly bound: Promise<void>;
  private mux: UdpMux | undefined;
  private readonly endpoints = new Map<string, UdpEndpoint>();
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  private closed = false;

  constructor(
    readonly host: string,
    private readonly warn: (e: Error) => void,
    private readonly open: OpenDatagramSocket = (port, h, onError, buffers) =>
      bindDatagramSocket(port, h, { onError, ...buffers }),
  ) {
    this.family = isIP(host) === 6 && host !== '::' ? 6 : 4;
    this.bound = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // Nobody may be waiting (no DHT): a close before listen() must not be an unhandled rejection.
    this.bound.catch(() => undefined);
  }

  /** The bound port (undefined before listen()). */
  get port(): number | undefined {
    return this.mux?.localPort || undefined;
  }

  /** Datagrams received, per route, and dropped (undefined before listen()). */
  get stats(): UdpMuxStats | undefined {
    return this.mux?.stats;
  }

  /**
   * Binds `port` (the TCP listen port). If another program holds that UDP port the session still
   * works, on another port, with a warning: peers learn our DHT port from PORT messages.
   */
  async bind(
    port: number,
    host: string,
    buffers: Pick<BindOptions, 'receiveBufferSize' | 'sendBufferSize'> = {},
  ): Promise<number> {
    if (this.mux) return this.mux.localPort;
    const onError = (e: Error): void => this.warn(e);
    let mux: UdpMux;
    try {
      try {
        mux = new UdpMux(await this.open(port, host, onError, buffers), { onError });
      } catch (e) {
        // A proxy that refused is not a busy port: another port would not help.
        if (port === 0 || (e instanceof NbtError && e.code.startsWith('PROXY_'))) throw e;
        this.warn(
          new NbtError('CLIENT_UDP_PORT', `udp port ${port} unavailable (${errorMessage(e)}); using another`),
        );
        mux = new UdpMux(await this.open(0, host, onError, buffers), { onError });
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.settle.reject(err);
      throw err;
    }
    if (this.closed) {
      await mux.close();
      throw new NbtError('CLIENT_CLOSED', 'client is closed');
    }
    this.mux = mux;
    this.settle.resolve();
    return mux.localPort;
  }

  endpoint(route: UdpRoute, family: UdpFamily): UdpEndpoint | undefined {
    const key = `${route}/${family}`;
    let e = this.endpoints.get(key);
    if (!e && this.mux) {
      e = this.mux.endpoint(route, family);
      if (e) this.endpoints.set(key, e);
    }
    return e;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settle.reject(new NbtError('CLIENT_CLOSED', 'client is closed'));
    this.endpoints.clear();
    await this.mux?.close();
  }
}
