/**
 * How the session reaches the world (docs/engine.md, "Proxies and interfaces"): directly, from
 * one local address (`outgoing_interface`), or through a proxy (`proxy_*`), and whether anything
 * may go around the proxy (`proxy_only`). The Client asks it for its peer connector, the HTTP
 * agents of trackers and web seeds, and its UDP socket; what cannot go through the proxy in
 * proxy-only mode is refused with PROXY_* errors instead of leaking a direct packet.
 */
import type { Connector } from '../net/transport.js';
import { boundTcpConnector } from '../net/tcp.js';
import { bindDatagramSocket, type DatagramSocket } from '../net/udp-socket.js';
import { isIP } from 'node:net';
import type { Clock } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import type { Settings } from '../settings/index.js';
import { DEFAULT_BOOTSTRAP } from '../dht/index.js';
import type { PeerAddress } from '../util/compact.js';
import {
  checkProxyConfig,
  describeProxy,
  httpAgents,
  ProxyConnector,
  resolveBindAddress,
  SocksUdpSocket,
  type HttpAgents,
  type ProxyConfig,
} from '../proxy/index.js';

export class SessionRoute {
  readonly proxy: ProxyConfig | undefined;
  readonly proxyOnly: boolean;
  /** The outgoing bind address (`outgoing_interface` resolved), if any. */
  readonly localAddress: string | undefined;

  constructor(
    s: Settings,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {
    this.localAddress = s.outgoing_interface ? resolveBindAddress(s.outgoing_interface) : undefined;
    if (s.proxy_type !== 'none') {
      if (!s.proxy_hostname)
        throw new NbtError('PROXY_BAD_CONFIG', `proxy_type ${s.proxy_type} needs proxy_hostname`);
      const auth = s.proxy_username || s.proxy_password;
      this.proxy = checkProxyConfig({
        type: s.proxy_type,
        host: s.proxy_hostname,
        port: s.proxy_port || (s.proxy_type === 'socks5' ? 1080 : 8080),
        ...(auth ? { username: s.proxy_username, password: s.proxy_password } : {}),
      });
    }
    if (s.proxy_only && !this.proxy)
      throw new NbtError('PROXY_BAD_CONFIG', 'proxy_only needs a proxy (proxy_type and proxy_hostname)');
    this.proxyOnly = s.proxy_only;
  }

  /** Whether this route changes anything (no proxy, no bind: the defaults apply). */
  get direct(): boolean {
    return !this.proxy && !this.localAddress;
  }

  /** Whether UDP (DHT, uTP, UDP trackers) may be used at all. */
  get udpAllowed(): boolean {
    return !this.proxyOnly || this.proxy?.type === 'socks5';
  }

  /** Whether UDP goes through a SOCKS5 association. */
  get udpProxied(): boolean {
    return this.proxy?.type === 'socks5';
  }

  /** The reason a UDP user is off, as the error to report. */
  noUdpError(what: string): NbtError {
    return new NbtError(
      'PROXY_NO_UDP',
      `${what} is off: proxy_only with ${this.proxy ? describeProxy(this.proxy) : 'no proxy'}, which cannot carry UDP`,
    );
  }

  /** TCP peer dials: through the proxy, from the bound address, or `fallback` (the Network). */
  peerConnector(fallback: Connector): Connector {
    if (this.proxy)
      return new ProxyConnector(this.proxy, {
        clock: this.clock,
        timeoutMs: this.timeoutMs,
        ...(this.localAddress ? { localAddress: this.localAddress } : {}),
      });
    return this.localAddress ? boundTcpConnector(this.localAddress) : fallback;
  }

  /** Agents for HTTP trackers and web seeds; undefined when direct (their own defaults apply). */
  agents(o: { keepAlive?: boolean; maxSockets?: number } = {}): HttpAgents | undefined {
    if (this.direct) return undefined;
    return httpAgents(
      {
        clock: this.clock,
        timeoutMs: this.timeoutMs,
        ...(this.proxy ? { proxy: this.proxy } : {}),
        ...(this.localAddress ? { localAddress: this.localAddress } : {}),
      },
      {
        keepAlive: o.keepAlive ?? false,
        ...(o.maxSockets !== undefined ? { maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets } : {}),
      },
    );
  }

  /**
   * The address the UDP socket binds: the outgoing address when the listen host is a wildcard
   * of the same family (else the listen host).
   */
  udpHost(listenHost: string): string {
    const a = this.localAddress;
    if (!a) return listenHost;
    const wildcard = listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '';
    if (!wildcard) return listenHost;
    return listenHost === '0.0.0.0' && isIP(a) !== 4 ? listenHost : a;
  }

  /**
   * The session's UDP socket: through the SOCKS5 association, or direct (bound). A failed
   * association falls back to a direct socket with a warning, except in proxy-only mode.
   */
  async openUdp(port: number, host: string, warn: (e: Error) => void): Promise<DatagramSocket> {
    if (!this.udpAllowed) throw this.noUdpError('UDP');
    if (this.proxy?.type === 'socks5') {
      const bind = this.udpHost(host);
      try {
        return await SocksUdpSocket.open(this.proxy, {
          clock: this.clock,
          timeoutMs: this.timeoutMs,
          port,
          ...(bind !== '0.0.0.0' && bind !== '::' && isIP(bind) === 4 ? { localAddress: bind } : {}),
          onError: warn,
        });
      } catch (e) {
        if (this.proxyOnly) throw e;
        warn(
          new NbtError('PROXY_UDP_FAILED', `udp through the proxy failed (${errorMessage(e)}); going direct`),
        );
      }
    }
    return bindDatagramSocket(port, this.udpHost(host), { onError: warn });
  }
}

/** DHT bootstrap nodes given by address (host names dropped: resolving one is a direct query). */
export function literalAddresses(list: readonly PeerAddress[] | undefined): PeerAddress[] {
  return (list ?? DEFAULT_BOOTSTRAP).filter((a) => isIP(a.host) !== 0);
}
