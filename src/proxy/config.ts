/**
 * What a proxy is (type, address, credentials) and the `socks5://user:pass@host:port` /
 * `http://host:port` URL form the CLI and the settings take. Pure.
 */
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';

export type ProxyType = 'socks5' | 'http';

export interface ProxyConfig {
  readonly type: ProxyType;
  readonly host: string;
  readonly port: number;
  /** SOCKS5 username/password auth (RFC 1929) or HTTP Basic; both or neither. */
  readonly username?: string;
  readonly password?: string;
}

/** RFC 1929 and SOCKS5 domain names carry a one-byte length. */
export const MAX_PROXY_FIELD = 255;

const DEFAULT_PORTS: Record<ProxyType, number> = { socks5: 1080, http: 8080 };

function bad(message: string): NbtError {
  return new NbtError('PROXY_BAD_URL', message);
}

/** Parses `socks5://[user[:pass]@]host[:port]` (also `socks5h://`, `socks://`) or `http://…`. */
export function parseProxyUrl(text: string): ProxyConfig {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw bad(
      `bad proxy URL "${text.slice(0, 200)}" (want socks5://user:pass@host:port or http://host:port)`,
    );
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  const type: ProxyType | undefined =
    scheme === 'socks5' || scheme === 'socks5h' || scheme === 'socks'
      ? 'socks5'
      : scheme === 'http'
        ? 'http'
        : undefined;
  if (!type) throw bad(`unsupported proxy scheme "${scheme}" (socks5 or http)`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw bad(`proxy URL without a host: ${text.slice(0, 200)}`);
  const port = u.port === '' ? DEFAULT_PORTS[type] : Number(u.port);
  if (u.pathname !== '' && u.pathname !== '/') throw bad('a proxy URL has no path');
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  return checkProxyConfig({
    type,
    host,
    port,
    ...(username || password ? { username, password } : {}),
  });
}

/** Throws PROXY_BAD_CONFIG when a field cannot be sent to a proxy. */
export function checkProxyConfig(c: ProxyConfig): ProxyConfig {
  const fail = (m: string): never => {
    throw new NbtError('PROXY_BAD_CONFIG', m);
  };
  if (c.type !== 'socks5' && c.type !== 'http') fail(`unknown proxy type ${String(c.type)}`);
  if (!c.host || c.host.length > MAX_PROXY_FIELD) fail('proxy host must be 1..255 characters');
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) fail(`bad proxy port ${c.port}`);
  if ((c.username === undefined) !== (c.password === undefined))
    fail('proxy username and password go together');
  if (c.username !== undefined && Buffer.byteLength(c.username) > MAX_PROXY_FIELD)
    fail('proxy username longer than 255 bytes');
  if (c.password !== undefined && Buffer.byteLength(c.password) > MAX_PROXY_FIELD)
    fail('proxy password longer than 255 bytes');
  return c;
}

/** The proxy as text for logs and errors: never the password. */
export function describeProxy(c: ProxyConfig): string {
  const h = isIP(c.host) === 6 ? `[${c.host}]` : c.host;
  return `${c.type}://${c.username !== undefined ? `${c.username}@` : ''}${h}:${c.port}`;
}
