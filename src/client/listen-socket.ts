/** The client's listen socket: binds the first free port of a range. */
import { createServer, type Server, type Socket } from 'node:net';
import { NbtError } from '../util/errors.js';

/**
 * Binds a TCP server on the first port of `from..to` that is free (0 = any port). The handlers
 * are attached before the promise settles, so no connection is missed.
 */
export async function bindListenSocket(
  from: number,
  to: number,
  host: string,
  onConnection: (socket: Socket) => void,
  onError: (e: Error) => void,
): Promise<Server> {
  let lastError: unknown;
  for (let p = from; p <= to; p++) {
    const server = createServer({ noDelay: true });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      lastError = e;
      continue;
    }
    server.on('connection', onConnection);
    server.on('error', onError);
    return server;
  }
  throw new NbtError('CLIENT_LISTEN_FAILED', `cannot listen on ${host}:${from}-${to}: ${String(lastError)}`, {
    cause: lastError,
  });
}
