/**
 * node:http / node:https agents for the HTTP users (HTTP trackers, web seeds): direct, bound to
 * a local address, or tunnelled through a proxy (SOCKS5 or HTTP CONNECT; TLS runs inside the
 * tunnel, end to end with the server). Through a proxy the host name goes to the proxy: no local
 * DNS query is made.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Clock } from '../util/clock.js';
import type { ProxyConfig } from './config.js';
import { openTunnel } from './tunnel.js';

export interface HttpRoute {
  clock: Clock;
  proxy?: ProxyConfig;
  /** Local address outgoing connections bind (to the proxy, or to the server). */
  localAddress?: string;
  /** Proxy setup deadline (ms, default 30 s). */
  timeoutMs?: number;
}

export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

type Callback = (err: Error | null, stream: Duplex) => void;

function tunnelTo(route: HttpRoute & { proxy: ProxyConfig }, options: http.ClientRequestArgs) {
  const host = (options.hostname ?? options.host ?? '').replace(/^\[(.*)\]$/, '$1');
  const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
  return openTunnel(route.proxy, host, port, {
    clock: route.clock,
    timeoutMs: route.timeoutMs ?? 30_000,
    ...(route.localAddress ? { localAddress: route.localAddress } : {}),
  }).ready;
}

/**
 * A tunnel comes paused (its first bytes may have been pushed back); node:http attaches its
 * listeners on the next tick and never resumes a paused socket itself, so we do, after it.
 */
function handOver(s: Duplex): void {
  process.nextTick(() => s.resume());
}

class TunnelHttpAgent extends http.Agent {
  constructor(
    private readonly route: HttpRoute & { proxy: ProxyConfig },
    o: http.AgentOptions,
  ) {
    super(o);
  }
  override createConnection(options: http.ClientRequestArgs, callback?: Callback): undefined {
    tunnelTo(this.route, options).then(
      (s) => {
        callback?.(null, s);
        handOver(s);
      },
      (e: Error) => callback?.(e, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

class TunnelHttpsAgent extends https.Agent {
  constructor(
    private readonly route: HttpRoute & { proxy: ProxyConfig },
    o: https.AgentOptions,
  ) {
    super(o);
  }
  override createConnection(options: https.RequestOptions, callback?: Callback): undefined {
    tunnelTo(this.route, options).then(
      (socket) => {
        const host = (options.hostname ?? options.host ?? '').replace(/^\[(.*)\]$/, '$1');
        const tls = tlsConnect({
          ...(options as object),
          socket,
          ...(options.servername !== undefined || /^[\d.:]+$/.test(host) ? {} : { servername: host }),
        });
        callback?.(null, tls);
        handOver(socket);
      },
      (e: Error) => callback?.(e, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** One agent per scheme for `route`; `o` passes keep-alive and socket limits on. */
export function httpAgents(route: HttpRoute, o: http.AgentOptions = {}): HttpAgents {
  const opts = { ...o, ...(route.localAddress && !route.proxy ? { localAddress: route.localAddress } : {}) };
  if (route.proxy) {
    const r = { ...route, proxy: route.proxy };
    return { http: new TunnelHttpAgent(r, opts), https: new TunnelHttpsAgent(r, opts) };
  }
  return { http: new http.Agent(opts), https: new https.Agent(opts) };
}
