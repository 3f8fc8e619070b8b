/**
 * A TCP connection to `host:port` through a proxy: SOCKS5 CONNECT (with RFC 1929 auth, by the
 * `socks` library) or HTTP CONNECT (./http-connect.ts). The connection to the proxy itself may
 * be bound to a local address. Host names go to the proxy unresolved, so no DNS query leaves
 * from here.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { socksClient } from './socks-lib.js';
import type { Clock } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import { describeProxy, type ProxyConfig } from './config.js';
import { ConnectResponseParser, encodeConnectRequest } from './http-connect.js';

export interface TunnelOptions {
  clock: Clock;
  /** The whole setup: TCP to the proxy and its answer (ms). */
  timeoutMs: number;
  /** Local address the connection to the proxy binds. */
  localAddress?: string;
}

/** A tunnel being opened: `ready` settles once; `abort()` stops it (ready rejects PROXY_ABORTED). */
export interface PendingTunnel {
  readonly ready: Promise<Socket>;
  abort(): void;
}

/** Maps what went wrong while talking to a proxy onto a stable code. */
function proxyError(proxy: ProxyConfig, e: unknown): NbtError {
  if (e instanceof NbtError) return e;
  const m = errorMessage(e);
  const code = /authentication/i.test(m)
    ? 'PROXY_AUTH_FAILED'
    : /Socks5 proxy rejected|rejected connection|refused/i.test(m)
      ? 'PROXY_REFUSED'
      : 'PROXY_FAILED';
  return new NbtError(code, `proxy ${describeProxy(proxy)}: ${m}`, { cause: e });
}

export function openTunnel(proxy: ProxyConfig, host: string, port: number, o: TunnelOptions): PendingTunnel {
  return open(proxy, host, port, o, 'connect');
}

/**
 * SOCKS5 UDP ASSOCIATE: the control connection (the association lives as long as it stays
 * open) and the relay address datagrams go to. `host:port` is where our datagrams come from.
 */
export function openUdpAssociation(
  proxy: ProxyConfig,
  host: string,
  port: number,
  o: TunnelOptions,
): Promise<{ control: Socket; relay: { host: string; port: number } }> {
  if (proxy.type !== 'socks5')
    return Promise.reject(new NbtError('PROXY_NO_UDP', `an ${proxy.type} proxy cannot carry UDP`));
  let relay: { host: string; port: number } | undefined;
  return open(proxy, host, port, o, 'associate', (r) => (relay = r)).ready.then((control) => {
    const r = relay!;
    // Some servers answer 0.0.0.0 for "the address you reached me on".
    const relayHost =
      r.host === '0.0.0.0' || r.host === '::' ? (control.remoteAddress ?? proxy.host) : r.host;
    return { control, relay: { host: relayHost, port: r.port } };
  });
}

function open(
  proxy: ProxyConfig,
  host: string,
  port: number,
  o: TunnelOptions,
  command: 'connect' | 'associate',
  onRemote?: (r: { host: string; port: number }) => void,
): PendingTunnel {
  const socket = netConnect({
    host: proxy.host,
    port: proxy.port,
    noDelay: true,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });
  let settled = false;
  let abort!: () => void;
  const ready = new Promise<Socket>((resolve, reject) => {
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      socket.destroy();
      reject(proxyError(proxy, e));
    };
    const succeed = (s: Socket): void => {
      if (settled) return void s.destroy();
      settled = true;
      timer.cancel();
      s.removeListener('error', fail);
      s.removeListener('close', onClose);
      resolve(s);
    };
    const onClose = (): void => fail(new NbtError('PROXY_FAILED', 'proxy closed the connection'));
    abort = () => fail(new NbtError('PROXY_ABORTED', 'proxy connection aborted'));
    const timer = o.clock.setTimeout(
      () =>
        fail(
          new NbtError('PROXY_TIMEOUT', `proxy ${describeProxy(proxy)} did not answer in ${o.timeoutMs} ms`),
        ),
      o.timeoutMs,
    );
    socket.on('error', fail);
    socket.on('close', onClose);
    socket.once('connect', () => {
      if (proxy.type === 'socks5') {
        // The instance API: createConnection() only does CONNECT.
        const client = new (socksClient())({
          command,
          destination: { host, port },
          proxy: {
            host: proxy.host,
            port: proxy.port,
            type: 5,
            ...(proxy.username !== undefined
              ? { userId: proxy.username, password: proxy.password ?? '' }
              : {}),
          },
          // Our own Clock-driven timeout governs; the library's is only a backstop.
          timeout: o.timeoutMs + 1000,
        });
        client.once('established', (r) => {
          if (r.remoteHost) onRemote?.({ host: r.remoteHost.host, port: r.remoteHost.port });
          succeed(r.socket);
        });
        client.once('error', (e: Error) => fail(e));
        client.connect(socket);
        return;
      }
      const parser = new ConnectResponseParser();
      const onData = (chunk: Buffer): void => {
        let v;
        try {
          v = parser.push(chunk);
        } catch (e) {
          return fail(e);
        }
        if (!v.done) return;
        socket.removeListener('data', onData);
        socket.pause();
        if (v.rest.length > 0) socket.unshift(v.rest);
        succeed(socket);
      };
      socket.on('data', onData);
      try {
        socket.write(
          encodeConnectRequest(
            host,
            port,
            proxy.username !== undefined
              ? { username: proxy.username, password: proxy.password ?? '' }
              : undefined,
          ),
        );
      } catch (e) {
        fail(e);
      }
    });
  });
  return { ready, abort: () => abort() };
}
