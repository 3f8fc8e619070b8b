/**
 * The proxy and outgoing-interface settings (docs/engine.md, "Proxies and interfaces"), kept
 * apart from the main table (./definitions.ts spreads them in) so that file stays readable.
 */
import type { SettingSpec } from './definitions.js';

export const proxySettingDefinitions = {
  proxy_type: {
    type: 'enum',
    values: ['none', 'socks5', 'http'],
    default: 'none',
    applies: 'construction',
    description:
      'Proxy for peer connections, trackers and web seeds: socks5 (UDP too, by UDP ASSOCIATE) or http (CONNECT; TCP only).',
  },
  proxy_hostname: {
    type: 'string',
    default: '',
    maxLength: 255,
    applies: 'construction',
    description: 'Proxy host name or address.',
  },
  proxy_port: {
    type: 'int',
    default: 0,
    min: 0,
    max: 65535,
    applies: 'construction',
    description: 'Proxy port (0 = 1080 for socks5, 8080 for http).',
  },
  proxy_username: {
    type: 'string',
    default: '',
    maxLength: 255,
    applies: 'construction',
    description: 'SOCKS5 username/password auth (RFC 1929) or HTTP Basic; empty = none.',
  },
  proxy_password: {
    type: 'string',
    default: '',
    maxLength: 255,
    applies: 'construction',
    description: 'Password that goes with proxy_username.',
  },
  proxy_only: {
    type: 'bool',
    default: false,
    applies: 'construction',
    description:
      'Never a direct connection: no listening, no LSD, UDP (DHT, uTP, UDP trackers) only through a socks5 association or not at all.',
  },
  outgoing_interface: {
    type: 'string',
    default: '',
    maxLength: 256,
    applies: 'construction',
    description:
      'Local address (or interface name) outgoing TCP dials, the UDP socket, HTTP trackers and web seeds bind; empty = any.',
  },
} as const satisfies Record<string, SettingSpec>;
