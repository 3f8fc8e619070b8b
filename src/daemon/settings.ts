/** The daemon's session settings: defaults (Transmission's) and how they map onto the Client. */
import type { Client } from '../client/index.js';
import type { DaemonSettings } from './store.js';

export function defaultSettings(downloadDir: string): DaemonSettings {
  return {
    'download-dir': downloadDir,
    'incomplete-dir': downloadDir,
    'incomplete-dir-enabled': false,
    'speed-limit-down': 100,
    'speed-limit-down-enabled': false,
    'speed-limit-up': 100,
    'speed-limit-up-enabled': false,
    'alt-speed-down': 50,
    'alt-speed-up': 50,
    'alt-speed-enabled': false,
    'alt-speed-time-enabled': false,
    'alt-speed-time-begin': 540,
    'alt-speed-time-end': 1020,
    'alt-speed-time-day': 127,
    'watch-dir': downloadDir,
    'watch-dir-enabled': false,
    'download-queue-size': 5,
    'download-queue-enabled': true,
    'seed-queue-size': 10,
    'seed-queue-enabled': false,
    seedRatioLimit: 2,
    seedRatioLimited: false,
    'idle-seeding-limit': 30,
    'idle-seeding-limit-enabled': false,
    'peer-limit-global': 200,
    'peer-limit-per-torrent': 50,
    'start-added-torrents': true,
    'rename-partial-files': true,
    encryption: 'preferred',
    'queue-stalled-enabled': true,
    'queue-stalled-minutes': 30,
    'blocklist-enabled': false,
    'blocklist-url': 'http://www.example.com/blocklist',
  };
}

/** Speed limits are in kB/s (1000 bytes, as Transmission 3's RPC); alt speed wins when on. */
export function applySessionSettings(client: Client, s: DaemonSettings): void {
  const kB = 1000;
  const down = s['alt-speed-enabled']
    ? s['alt-speed-down']
    : s['speed-limit-down-enabled']
      ? s['speed-limit-down']
      : 0;
  const up = s['alt-speed-enabled']
    ? s['alt-speed-up']
    : s['speed-limit-up-enabled']
      ? s['speed-limit-up']
      : 0;
  client.applySettings({
    download_rate_limit: Math.max(0, down) * kB,
    upload_rate_limit: Math.max(0, up) * kB,
    connections_limit: Math.max(1, s['peer-limit-global']),
    peers_per_torrent_limit: Math.max(1, s['peer-limit-per-torrent']),
  });
}
