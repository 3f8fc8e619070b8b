/**
 * An embeddable BitTorrent tracker: HTTP (announce, scrape) and UDP (BEP 15) on configurable
 * ports over one shared SwarmStore.
 *
 *   const t = new TrackerServer({ http: { port: 6969 }, udp: { port: 6969 } });
 *   await t.listen(); … await t.close();
 */
import { createServer, type Server } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../../util/clock.js';
import { ConnectionIds } from './connection-id.js';
import { handleTrackerHttp } from './http-handler.js';
import { handleTrackerUdp } from './udp-handler.js';
import { SwarmStore, type SwarmOptions } from './swarm.js';

export interface TrackerServerOptions extends SwarmOptions {
  /** HTTP listener; port 0 picks a free port. Omit or false for none. */
  http?: { port: number; host?: string } | false;
  /** UDP listener; port 0 picks a free port. Omit or false for none. */
  udp?: { port: number; host?: string } | false;
  /** Default bind address for both (default '0.0.0.0'). */
  host?: string;
  clock?: Clock;
  /** Honour the HTTP `ip` parameter (default false). */
  trustIpParam?: boolean;
}

export interface TrackerServerEvents {
  /** A request was handled (for logging). */
  request: [info: { protocol: 'http' | 'udp'; from: string; port: number }];
  error: [error: Error];
}

const MAX_URL_LENGTH = 8192;

export class TrackerServer extends EventEmitter<TrackerServerEvents> {
  readonly store: SwarmStore;
  private readonly o: TrackerServerOptions;
  private readonly clock: Clock;
  private readonly ids = new ConnectionIds();
  private httpServer: Server | undefined;
  private udpSocket: Socket | undefined;
  private sweep: TimerHandle | undefined;

  constructor(o: TrackerServerOptions = {}) {
    super();
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.store = new SwarmStore(o);
  }

  get httpPort(): number | undefined {
    const a = this.httpServer?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  get udpPort(): number | undefined {
    return this.udpSocket ? this.udpSocket.address().port : undefined;
  }

  /** Announce URLs for a client on the same machine (or `host`). */
  announceUrls(host = '127.0.0.1'): { http?: string; udp?: string } {
    const h = isIPv6(host) ? `[${host}]` : host;
    return {
      ...(this.httpPort !== undefined ? { http: `http://${h}:${this.httpPort}/announce` } : {}),
      ...(this.udpPort !== undefined ? { udp: `udp://${h}:${this.udpPort}/announce` } : {}),
    };
  }

  async listen(): Promise<void> {
    const host = this.o.host ?? '0.0.0.0';
    if (this.o.http) {
      const { port, host: h = host } = this.o.http;
      const server = createServer({ maxHeaderSize: MAX_URL_LENGTH * 2 }, (req, res) => {
        const url = req.url ?? '/';
        const from = req.socket.remoteAddress ?? '';
        this.emit('request', { protocol: 'http', from, port: req.socket.remotePort ?? 0 });
        const reply =
          req.method !== 'GET' || url.length > MAX_URL_LENGTH
            ? { status: 400, body: Buffer.from('bad request') }
            : handleTrackerHttp(this.store, url, from, this.clock.now(), {
                trustIpParam: this.o.trustIpParam ?? false,
              });
        res.writeHead(reply.status, {
          'content-type': 'text/plain',
          'content-length': reply.body.length,
          connection: 'close',
        });
        res.end(reply.body);
      });
      server.headersTimeout = 10_000;
      server.requestTimeout = 15_000;
      server.on('clientError', (_e, socket) => socket.destroy());
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, h, () => (server.off('error', reject), resolve()));
      });
      server.on('error', (e) => this.emitError(e));
      this.httpServer = server;
    }
    if (this.o.udp) {
      const { port, host: h = host } = this.o.udp;
      const socket = createSocket(isIPv6(h) ? 'udp6' : 'udp4');
      socket.on('message', (msg, rinfo) => {
        const reply = handleTrackerUdp(
          this.store,
          this.ids,
          msg,
          rinfo.address,
          rinfo.port,
          this.clock.now(),
        );
        this.emit('request', { protocol: 'udp', from: rinfo.address, port: rinfo.port });
        if (reply) socket.send(reply, rinfo.port, rinfo.address, () => undefined);
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, h, () => (socket.off('error', reject), resolve()));
      });
      socket.on('error', (e) => this.emitError(e));
      this.udpSocket = socket;
    }
    const sweepMs = Math.max(1000, Math.min(60_000, this.store.intervalS * 1000));
    this.sweep = this.clock.setInterval(() => this.store.expire(this.clock.now()), sweepMs);
  }

  async close(): Promise<void> {
    this.sweep?.cancel();
    this.sweep = undefined;
    const http = this.httpServer;
    const udp = this.udpSocket;
    this.httpServer = undefined;
    this.udpSocket = undefined;
    await Promise.all([
      http &&
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        }),
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
    ]);
  }

  private emitError(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
