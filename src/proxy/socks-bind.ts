/**
 * SOCKS5 BIND (RFC 1928 CMD=2): the proxy listens on a port of its own for one incoming TCP
 * connection and relays it to us. The first reply says where it listens (what to tell the peer
 * that should connect to us); the second, who connected, and from then on the control
 * connection is that peer's stream. One BIND accepts one connection: a listener through a
 * proxy needs a new BIND per peer, and a new port each time (libtorrent 1.x did this for its
 * SOCKS5 "listen socket" and dropped it in 1.2). The proxy checks the connecting address
 * against the one we name (RFC 1928: DST.ADDR is the expected peer). Time from the Clock.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { socksClient } from './socks-lib.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import { describeProxy, type ProxyConfig } from './config.js';

export interface SocksBindOptions {
  clock: Clock;
  /** TCP to the proxy and its first reply (ms). */
  timeoutMs: number;
  /** How long the proxy's port waits for the peer after the first reply (ms). */
  acceptTimeoutMs: number;
  /** Local address the connection to the proxy binds. */
  localAddress?: string;
}

export interface SocksBind {
  /** Where the proxy listens for the peer (0.0.0.0 replaced by the proxy's address). */
  readonly bound: Promise<{ host: string; port: number }>;
  /** The peer's connection, relayed, and its address as the proxy saw it. */
  readonly accepted: Promise<{ socket: Socket; remote: { host: string; port: number } }>;
  /** Stops waiting (both promises reject PROXY_ABORTED if still pending). */
  abort(): void;
}

/**
 * A BIND through `proxy` (SOCKS5 only) for a connection from `peer` (the address the proxy
 * should expect; 0.0.0.0:0 for anyone, if the proxy allows that).
 */
export function openSocksBind(
  proxy: ProxyConfig,
  peer: { host: string; port: number },
  o: SocksBindOptions,
): SocksBind {
  if (proxy.type !== 'socks5') {
    const e = new NbtError('PROXY_NO_BIND', `an ${proxy.type} proxy cannot accept connections for us`);
    const bound = Promise.reject(e);
    const accepted = Promise.reject(e);
    bound.catch(() => undefined);
    accepted.catch(() => undefined);
    return { bound, accepted, abort: () => undefined };
  }
  const socket = netConnect({
    host: proxy.host,
    port: proxy.port,
    noDelay: true,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  });
  let done = false;
  let timer: TimerHandle | undefined;
  let resolveBound!: (b: { host: string; port: number }) => void;
  let rejectBound!: (e: Error) => void;
  let resolveAccepted!: (a: { socket: Socket; remote: { host: string; port: number } }) => void;
  let rejectAccepted!: (e: Error) => void;
  const bound = new Promise<{ host: string; port: number }>((res, rej) => {
    resolveBound = res;
    rejectBound = rej;
  });
  const accepted = new Promise<{ socket: Socket; remote: { host: string; port: number } }>((res, rej) => {
    resolveAccepted = res;
    rejectAccepted = rej;
  });
  // A caller that only awaits one of them must not see the other as an unhandled rejection.
  bound.catch(() => undefined);
  accepted.catch(() => undefined);
  const fail = (e: unknown): void => {
    if (done) return;
    done = true;
    timer?.cancel();
    socket.destroy();
    const err =
      e instanceof NbtError
        ? e
        : new NbtError(
            /authentication/i.test(errorMessage(e)) ? 'PROXY_AUTH_FAILED' : 'PROXY_BIND_FAILED',
            `proxy ${describeProxy(proxy)} BIND: ${errorMessage(e)}`,
            { cause: e },
          );
    rejectBound(err);
    rejectAccepted(err);
  };
  const arm = (ms: number, what: string): void => {
    timer?.cancel();
    timer = o.clock.setTimeout(
      () => fail(new NbtError('PROXY_TIMEOUT', `proxy ${describeProxy(proxy)}: ${what}`)),
      ms,
    );
  };
  const onClose = (): void => fail(new NbtError('PROXY_FAILED', 'proxy closed the connection'));
  arm(o.timeoutMs, `no BIND reply in ${o.timeoutMs} ms`);
  socket.on('error', fail);
  socket.on('close', onClose);
  socket.once('connect', () => {
    const client = new (socksClient())({
      command: 'bind',
      destination: peer,
      proxy: {
        host: proxy.host,
        port: proxy.port,
        type: 5,
        ...(proxy.username !== undefined ? { userId: proxy.username, password: proxy.password ?? '' } : {}),
      },
      // Our Clock-driven deadlines govern; the library's is only a backstop for the first reply.
      timeout: o.timeoutMs + 1000,
    });
    client.once('bound', (r) => {
      if (done) return;
      const h = r.remoteHost;
      if (!h) return fail(new NbtError('PROXY_BIND_FAILED', 'BIND reply without an address'));
      // 0.0.0.0: "the address you reached me on".
      const host = h.host === '0.0.0.0' || h.host === '::' ? (socket.remoteAddress ?? proxy.host) : h.host;
      arm(o.acceptTimeoutMs, `no connection to the bound port in ${o.acceptTimeoutMs} ms`);
      resolveBound({ host: host.replace(/^::ffff:/, ''), port: h.port });
    });
    client.once('established', (r) => {
      if (done) return void r.socket.destroy();
      done = true;
      timer?.cancel();
      r.socket.removeListener('error', fail);
      r.socket.removeListener('close', onClose);
      const remote = r.remoteHost
        ? { host: r.remoteHost.host, port: r.remoteHost.port }
        : { host: '', port: 0 };
      resolveAccepted({ socket: r.socket, remote });
    });
    client.once('error', (e: Error) => fail(e));
    client.connect(socket);
  });
  return { bound, accepted, abort: () => fail(new NbtError('PROXY_ABORTED', 'proxy BIND aborted')) };
}
