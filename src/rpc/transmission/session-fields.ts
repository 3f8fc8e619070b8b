/** session-get's keys (Transmission's names and JSON types) and which of them session-set changes. */
import { PACKAGE_VERSION } from '../../util/version.js';
import type { DaemonSettings } from '../../daemon/store.js';
import type { MethodContext } from './methods.js';

/** The RPC version we speak: Transmission 4.0's (17); clients from 3.00 (16) on accept it. */
export const RPC_VERSION = 17;
export const RPC_VERSION_MINIMUM = 14;

export const sessionSettable: Partial<Record<keyof DaemonSettings, 'number' | 'boolean' | 'string'>> = {
  'download-dir': 'string',
  'incomplete-dir': 'string',
  'incomplete-dir-enabled': 'boolean',
  'speed-limit-down': 'number',
  'speed-limit-down-enabled': 'boolean',
  'speed-limit-up': 'number',
  'speed-limit-up-enabled': 'boolean',
  'alt-speed-down': 'number',
  'alt-speed-up': 'number',
  'alt-speed-enabled': 'boolean',
  'alt-speed-time-enabled': 'boolean',
  'alt-speed-time-begin': 'number',
  'alt-speed-time-end': 'number',
  'alt-speed-time-day': 'number',
  'watch-dir': 'string',
  'watch-dir-enabled': 'boolean',
  'download-queue-size': 'number',
  'download-queue-enabled': 'boolean',
  'seed-queue-size': 'number',
  'seed-queue-enabled': 'boolean',
  seedRatioLimit: 'number',
  seedRatioLimited: 'boolean',
  'idle-seeding-limit': 'number',
  'idle-seeding-limit-enabled': 'boolean',
  'peer-limit-global': 'number',
  'peer-limit-per-torrent': 'number',
  'start-added-torrents': 'boolean',
  'rename-partial-files': 'boolean',
  encryption: 'string',
  'queue-stalled-enabled': 'boolean',
  'queue-stalled-minutes': 'number',
  'blocklist-enabled': 'boolean',
  'blocklist-url': 'string',
};

export function sessionObject(ctx: MethodContext): Record<string, unknown> {
  const s = ctx.daemon.settings;
  const c = ctx.daemon.client.settings();
  return {
    ...s,
    'blocklist-size': ctx.daemon.blocklist.size,
    'cache-size-mb': 4,
    'config-dir': ctx.daemon.store.dir,
    'dht-enabled': c.dht_enabled,
    'download-dir-free-space': -1,
    'lpd-enabled': c.enable_lsd,
    'peer-port': ctx.daemon.client.port,
    'peer-port-random-on-start': false,
    'pex-enabled': c.pex_enabled,
    'port-forwarding-enabled': c.enable_upnp || c.enable_natpmp,
    'rpc-version': RPC_VERSION,
    'rpc-version-minimum': RPC_VERSION_MINIMUM,
    'rpc-version-semver': '5.3.0',
    'script-torrent-added-enabled': false,
    'script-torrent-added-filename': '',
    'script-torrent-done-enabled': false,
    'script-torrent-done-filename': '',
    'script-torrent-done-seeding-enabled': false,
    'script-torrent-done-seeding-filename': '',
    'session-id': ctx.sessionId,
    'tcp-enabled': true,
    'trash-original-torrent-files': false,
    units: {
      'memory-bytes': 1024,
      'memory-units': ['KiB', 'MiB', 'GiB', 'TiB'],
      'size-bytes': 1000,
      'size-units': ['kB', 'MB', 'GB', 'TB'],
      'speed-bytes': 1000,
      'speed-units': ['kB/s', 'MB/s', 'GB/s', 'TB/s'],
    },
    'utp-enabled': c.enable_outgoing_utp || c.enable_incoming_utp,
    version: `4.0.0 (net-bittorrent ${PACKAGE_VERSION})`,
  };
}
