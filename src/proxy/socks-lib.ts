/**
 * The `socks` package, loaded on first use: it (and its ip-address dependency) took ~75 ms of
 * CPU at every start, though only sessions with a SOCKS5 proxy need it.
 */
import { createRequire } from 'node:module';

type SocksModule = typeof import('socks');

let lib: SocksModule | undefined;

/** The SocksClient class (synchronous: socks is CommonJS). */
export function socksClient(): SocksModule['SocksClient'] {
  lib ??= createRequire(import.meta.url)('socks') as SocksModule;
  return lib.SocksClient;
}
