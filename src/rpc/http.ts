/** HTTP helpers the RPC servers share: bounded body reading and plain answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reads the whole body, or stops at `max` bytes ('too-large'; the rest is not read). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return resolve('too-large');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        resolve('too-large');
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Answers without reading the body (drained, so the connection can be reused). */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
): void {
  req.resume();
  send(res, status, type, body);
}

/** Answers 413 and closes the connection (the rest of the body is not read). */
export function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  send(res, 413, 'text/plain', 'request body too large');
  req.destroy();
}

export function isLoopback(address: string): boolean {
  const a = address.replace(/^::ffff:/i, '');
  return a === '::1' || /^127\./.test(a);
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * qBittorrent's CSRF rule, shared by its API and the web UI: Origin and Referer, when sent, must
 * name the Host the request went to.
 */
export function crossSite(req: IncomingMessage): boolean {
  const target = hostOf(`http://${(req.headers.host ?? '').toLowerCase()}`);
  for (const h of [req.headers.origin, req.headers.referer]) {
    if (h === undefined || h === '') continue;
    if (hostOf(h) !== target) return true;
  }
  return false;
}
