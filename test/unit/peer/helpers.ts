/** Loopback plumbing for Peer tests: servers, raw scripted sockets, event waits. */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { Peer, type PeerAcceptOptions, type DisconnectInfo } from '../../../src/peer/index.js';
import { encodeHandshake, makeReserved, type ReservedFlags } from '../../../src/wire/index.js';

export const INFO_HASH = Buffer.alloc(20, 0x11);
export const OTHER_HASH = Buffer.alloc(20, 0x22);
export const ID_A = Buffer.from('-NB0100-aaaaaaaaaaaa');
export const ID_B = Buffer.from('-LT2080-bbbbbbbbbbbb');

/** Items arrive in order; `next()` hands each out once. */
class AsyncQueue<X> {
  private items: X[] = [];
  private waiters: ((x: X) => void)[] = [];
  push(x: X): void {
    const w = this.waiters.shift();
    if (w) w(x);
    else this.items.push(x);
  }
  next(ms = 5000): Promise<X> {
    const x = this.items.shift();
    if (x !== undefined) return Promise.resolve(x);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing arrived within ${ms} ms`)), ms);
      this.waiters.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }
}

export interface Listening {
  server: Server;
  port: number;
  /** Sockets accepted so far, in order. */
  sockets: Socket[];
  next(): Promise<Socket>;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1; `onSocket` may take over each accepted socket. */
export function listen(onSocket?: (s: Socket) => void): Promise<Listening> {
  const sockets: Socket[] = [];
  const queue = new AsyncQueue<Socket>();
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    onSocket?.(s);
    queue.push(s);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        port: (server.address() as { port: number }).port,
        sockets,
        next: () => queue.next(),
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      }),
    ),
  );
}

/** A scripted remote: a raw client socket with a byte collector. */
export interface Raw {
  socket: Socket;
  received(): Buffer;
  waitBytes(n: number, ms?: number): Promise<Buffer>;
  closed: Promise<void>;
}

export function wrapRaw(socket: Socket): Raw {
  let data = Buffer.alloc(0);
  const waiters: (() => void)[] = [];
  socket.on('data', (c: Buffer) => {
    data = Buffer.concat([data, c]);
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    socket,
    received: () => data,
    closed,
    waitBytes(n, ms = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${data.length} of ${n} bytes after ${ms} ms`)),
          ms,
        );
        const check = (): void => {
          if (data.length >= n) {
            clearTimeout(timer);
            resolve(data);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

export function rawConnect(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(wrapRaw(s)));
    s.once('error', reject);
  });
}

export function handshakeBytes(
  infoHash = INFO_HASH,
  peerId = ID_B,
  flags: ReservedFlags = { extended: true, fast: true },
): Buffer {
  return encodeHandshake({ reserved: makeReserved(flags), infoHash, peerId });
}

/** Resolves with the first emission of `event`; rejects after `ms`. */
export function once<A extends unknown[]>(em: EventEmitter, event: string, ms = 5000): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    em.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as A);
    });
  });
}

export function closeInfo(peer: Peer<unknown>, ms = 5000): Promise<DisconnectInfo> {
  if (peer.closeInfo) return Promise.resolve(peer.closeInfo);
  return once<[DisconnectInfo]>(peer, 'close', ms).then(([i]) => i);
}

/** A server whose sockets become accepted Peers. */
export async function peerServer<T>(
  options: PeerAcceptOptions<T>,
): Promise<Listening & { peers: Peer<T>[]; nextPeer(): Promise<Peer<T>> }> {
  const peers: Peer<T>[] = [];
  const queue = new AsyncQueue<Peer<T>>();
  const l = await listen((s) => {
    const p = Peer.accept(s, options);
    peers.push(p);
    queue.push(p);
  });
  return {
    ...l,
    peers,
    nextPeer: () => queue.next(),
    close: async () => {
      for (const p of peers) p.close();
      await l.close();
    },
  };
}
