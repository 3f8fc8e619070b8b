/** The client's listen socket: binds the first free port of a range. */
import { NbtError } from '../util/errors.js';
import type { Listener, Network, Transport } from '../net/transport.js';

/**
 * Listens through `network` on the first port of `from..to` that is free (0 = any port). The
 * handlers are attached before the promise settles, so no connection is missed.
 */
export async function bindListenSocket(
  network: Network,
  from: number,
  to: number,
  host: string,
  onConnection: (transport: Transport) => void,
  onError: (e: Error) => void,
): Promise<Listener> {
  let lastError: unknown;
  for (let p = from; p <= to; p++) {
    try {
      return await network.listen(host, p, onConnection, onError);
    } catch (e) {
      lastError = e;
    }
  }
  throw new NbtError('CLIENT_LISTEN_FAILED', `cannot listen on ${host}:${from}-${to}: ${String(lastError)}`, {
    cause: lastError,
  });
}
