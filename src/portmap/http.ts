/**
 * One small HTTP exchange with a gateway: a deadline from the Clock for the whole exchange, a
 * bound on the answer's size, no redirects, no keep-alive. Gives the local address the socket
 * used (the address a UPnP mapping must point at).
 */
import { request } from 'node:http';
import type { Clock } from '../util/clock.js';
import { NbtError } from '../util/errors.js';

export interface GatewayHttpRequest {
  clock: Clock;
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  maxBytes: number;
}

export interface GatewayHttpAnswer {
  status: number;
  body: string;
  localAddress: string;
}

export function gatewayHttp(r: GatewayHttpRequest): Promise<GatewayHttpAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (e: Error | undefined, a?: GatewayHttpAnswer): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(a!);
    };
    const req = request(r.url, {
      method: r.method,
      agent: false,
      headers: {
        Connection: 'close',
        ...(r.body ? { 'Content-Length': String(r.body.length) } : {}),
        ...r.headers,
      },
    });
    const timer = r.clock.setTimeout(
      () =>
        finish(new NbtError('PORTMAP_HTTP_TIMEOUT', `${r.method} ${r.url}: no answer in ${r.timeoutMs} ms`)),
      r.timeoutMs,
    );
    req.on('error', (e) => finish(new NbtError('PORTMAP_HTTP', `${r.method} ${r.url}: ${e.message}`)));
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > r.maxBytes)
        return finish(new NbtError('PORTMAP_HTTP_TOO_LARGE', `${r.url}: answer of ${declared} bytes`));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > r.maxBytes)
          return finish(new NbtError('PORTMAP_HTTP_TOO_LARGE', `${r.url}: answer over ${r.maxBytes} bytes`));
        chunks.push(c);
      });
      res.on('error', (e) => finish(new NbtError('PORTMAP_HTTP', `${r.url}: ${e.message}`)));
      res.on('end', () =>
        finish(undefined, {
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          localAddress: res.socket?.localAddress ?? req.socket?.localAddress ?? '',
        }),
      );
    });
    req.end(r.body);
  });
}
