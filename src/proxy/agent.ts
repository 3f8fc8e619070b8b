/**
 * node:http / node:https agents for the HTTP users (HTTP trackers, web seeds): direct, bound to
 * a local address, or tunnelled through a proxy (SOCKS5 or HTTP CONNECT; TLS runs inside the
 * tunnel, end to end with the server). Through a proxy the host name goes to the proxy: no local
 * DNS query is made.
 */
import * as http from 'node:http';
import type * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Clock } from '../util/clock.js';
import { httpsModule, tlsModule } from '../util/lazy-require.js';
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

/** The request's host, without an IPv6 literal's brackets. */
function hostOf(options: http.ClientRequestArgs): string {
  return (options.hostname ?? options.host ?? '').replace(/^\[(.*)\]$/, '$1');
}

function tunnelTo(route: HttpRoute & { proxy: ProxyConfig }, options: http.ClientRequestArgs) {
  const host = hostOf(options);
  const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
  return openTunnel(route.proxy, host, port, {
    clock: route.clock,
    timeoutMs: route.timeoutMs ?? 30_000,
    ...(route.localAddress ? { localAddress: route.localAddress } : {}),
  }).ready;
}

/**
 * Opens the tunnel and gives node:http `wrap(tunnel)`: the tunnel itself, or TLS inside it. A
 * tunnel comes paused (its first bytes may have been pushed back); node:http attaches its
 * listeners on the next tick and never resumes a paused socket itself, so we do, after it.
 */
function tunnelConnection(
  route: HttpRoute & { proxy: ProxyConfig },
  options: http.ClientRequestArgs,
  callback: Callback | undefined,
  wrap: (tunnel: Duplex) => Duplex,
): undefined {
  tunnelTo(route, options).then(
    (tunnel) => {
      callback?.(null, wrap(tunnel));
      process.nextTick(() => tunnel.resume());
    },
    (e: Error) => callback?.(e, undefined as unknown as Duplex),
  );
  return undefined;
}

class TunnelHttpAgent extends http.Agent {
  constructor(
    private readonly route: HttpRoute & { proxy: ProxyConfig },
    o: http.AgentOptions,
  ) {
    super(o);
  }
  override createConnection(options: http.ClientRequestArgs, callback?: Callback): undefined {
    return tunnelConnection(this.route, options, callback, (tunnel) => tunnel);
  }
}

type TunnelHttpsAgentClass = new (
  route: HttpRoute & { proxy: ProxyConfig },
  o: https.AgentOptions,
) => https.Agent;
let TunnelHttpsAgent: TunnelHttpsAgentClass | undefined;

/** Defined on first use: its base class is node:https's, loaded lazily (util/lazy-require.ts). */
function tunnelHttpsAgent(): TunnelHttpsAgentClass {
  return (TunnelHttpsAgent ??= class extends httpsModule().Agent {
    constructor(
      private readonly route: HttpRoute & { proxy: ProxyConfig },
      o: https.AgentOptions,
    ) {
      super(o);
    }
    override createConnection(options: https.RequestOptions, callback?: Callback): undefined {
      return tunnelConnection(this.route, options, callback, (socket) => {
        const host = hostOf(options);
        return tlsModule().connect({
          ...(options as object),
          socket,
          ...(options.servername !== undefined || /^[\d.:]+$/.test(host) ? {} : { servername: host }),
        });
      });
    }
  });
}

/** One agent per scheme for `route`; `o` passes keep-alive and socket limits on. */
export function httpAgents(route: HttpRoute, o: http.AgentOptions = {}): HttpAgents {
  const opts = { ...o, ...(route.localAddress && !route.proxy ? { localAddress: route.localAddress } : {}) };
  // The HTTPS agent is made when an https: URL first needs it (node:https loads then).
  let secure: https.Agent | undefined;
  if (route.proxy) {
    const r = { ...route, proxy: route.proxy };
    return {
      http: new TunnelHttpAgent(r, opts),
      get https() {
        return (secure ??= new (tunnelHttpsAgent())(r, opts));
      },
    };
  }
  return {
    http: new http.Agent(opts),
    get https() {
      return (secure ??= new (httpsModule().Agent)(opts));
    },
  };
}
