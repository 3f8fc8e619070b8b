/**
 * HTTP CONNECT tunnels (RFC 9110 §9.3.6): the request we send and the proxy's response head.
 * Pure: bytes in, a verdict out. A response head is bounded (MAX_HEAD_BYTES); bytes after it
 * belong to the tunnel and are handed back.
 */
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';

/** Longest response head accepted from a proxy. */
export const MAX_HEAD_BYTES = 8 * 1024;

/** `CONNECT host:port HTTP/1.1` with Host and, given credentials, Basic auth. */
export function encodeConnectRequest(
  host: string,
  port: number,
  auth?: { username: string; password: string },
): Buffer {
  if (/[\s\r\n]/.test(host) || host.length === 0 || host.length > 255)
    throw new NbtError('PROXY_BAD_ADDRESS', `bad host for CONNECT: ${host.slice(0, 60)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new NbtError('PROXY_BAD_ADDRESS', `bad port for CONNECT: ${port}`);
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (auth)
    lines.push(
      `Proxy-Authorization: Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
    );
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

export type ConnectVerdict =
  /** More bytes are needed. */
  | { done: false }
  /** The tunnel is open; `rest` are the first tunnel bytes (often empty). */
  | { done: true; rest: Buffer };

/** Reads the proxy's response head; throws PROXY_REFUSED (non-2xx) or PROXY_BAD_RESPONSE. */
export class ConnectResponseParser {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): ConnectVerdict {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const all = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.size);
    this.chunks = [all];
    const end = all.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) {
      if (this.size > MAX_HEAD_BYTES)
        throw new NbtError('PROXY_BAD_RESPONSE', `proxy response head longer than ${MAX_HEAD_BYTES} bytes`);
      return { done: false };
    }
    if (end > MAX_HEAD_BYTES)
      throw new NbtError('PROXY_BAD_RESPONSE', `proxy response head longer than ${MAX_HEAD_BYTES} bytes`);
    const statusLine = all.toString('latin1', 0, all.indexOf('\r\n', 0, 'latin1'));
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw new NbtError('PROXY_BAD_RESPONSE', `not an HTTP response: ${statusLine.slice(0, 80)}`);
    const status = Number(m[1]);
    if (status < 200 || status > 299)
      throw new NbtError(
        // 407 is the standard answer; some proxies (tinyproxy) send 401.
        status === 407 || status === 401 ? 'PROXY_AUTH_FAILED' : 'PROXY_REFUSED',
        `proxy answered CONNECT with ${status} ${(m[2] ?? '').slice(0, 80)}`.trim(),
      );
    return { done: true, rest: all.subarray(end + 4) };
  }
}
