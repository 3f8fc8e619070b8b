/**
 * Node built-ins that only some sessions use, loaded on first use: importing node:https (with
 * node:tls) grew every process by ~1 MB, though only HTTPS trackers, web seeds and proxies need
 * them. Synchronous (createRequire), so callers stay as they are.
 */
import { createRequire } from 'node:module';

type Https = typeof import('node:https');
type Tls = typeof import('node:tls');

const require = createRequire(import.meta.url);
let https: Https | undefined;
let tls: Tls | undefined;

export function httpsModule(): Https {
  return (https ??= require('node:https') as Https);
}

export function tlsModule(): Tls {
  return (tls ??= require('node:tls') as Tls);
}
