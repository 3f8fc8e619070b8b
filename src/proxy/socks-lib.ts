/**
 * The `socks` package, loaded on first use: it (and its ip-address dependency) took ~75 ms of
 * CPU at every start, though only sessions with a SOCKS5 proxy need it.
 */
import { lazyRequire } from '../util/lazy-require.js';

const socks = lazyRequire<typeof import('socks')>('socks');

/** The SocksClient class (synchronous: socks is CommonJS). */
export function socksClient(): ReturnType<typeof socks>['SocksClient'] {
  return socks().SocksClient;
}
