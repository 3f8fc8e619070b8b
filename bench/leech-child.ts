/**
 * The benchmark's downloader / seeder: one Client in its own process (measured with GNU time).
 *   node leech-child.js TORRENT SAVE_DIR ENCRYPTION [PEER_PORT] [--seed]
 * Leech: prints {"event":"done","seconds":S,"mainCpu":C} (download time after the check; C the
 * main thread's CPU seconds over the process's life, hash workers excluded) and exits.
 * Seed: prints {"event":"listening","port":P} once seeding and runs until SIGTERM.
 */
// The package as users import it (dist/bundle, scripts/bundle.mjs).
import { Client } from 'net-bittorrent';
import { mainThreadCpu } from './harness.js';
import type { EncryptionPolicy } from 'net-bittorrent';

const [torrentPath, save, enc, peerPort, mode] = process.argv.slice(2);
const seeding = mode === '--seed' || peerPort === '--seed';
// NBT_TRANSPORT=tcp: TCP only; =utp: uTP only (TCP off both ways); unset: the defaults.
const transport = process.env.NBT_TRANSPORT;
// NBT_HASH_OFFLOAD: the hash_offload_utilization setting (0 = every piece to the hash pool).
const offload = process.env.NBT_HASH_OFFLOAD;
// NBT_WRITE_MODE: the disk_write_mode setting (auto, sync, async), for A/B runs.
const writeMode = process.env.NBT_WRITE_MODE as 'auto' | 'sync' | 'async' | undefined;
// NBT_LEECH_SETTINGS: more settings as JSON (e.g. {"split_hybrid_hashing":false}), for A/B runs.
const extra = JSON.parse(process.env.NBT_LEECH_SETTINGS ?? '{}') as Record<string, unknown>;
const client = new Client({
  host: '127.0.0.1',
  settings: {
    ...(offload !== undefined ? { hash_offload_utilization: Number(offload) } : {}),
    ...(writeMode !== undefined ? { disk_write_mode: writeMode } : {}),
    ...extra,
  },
  encryption: (enc ?? 'enabled') as EncryptionPolicy,
  ...(transport === 'tcp' ? { utp: false as const } : {}),
  ...(transport === 'utp' ? { tcp: { incoming: false, outgoing: false } } : {}),
});
// Keeps the process alive while the client works (engine timers are unref'd), and ends it if
// the parent died (a killed test runner must not leave us running).
const parent = process.ppid;
const keepAlive = setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1000);
const port = await client.listen(0);
const torrent = await client.addTorrent(torrentPath!, { savePath: save! });
let t0 = 0;
const close = async (): Promise<void> => {
  await client.close();
  clearInterval(keepAlive);
};
torrent.on('state', (s) => {
  if (s === 'downloading') {
    t0 = performance.now();
    if (peerPort && !seeding) torrent.addPeer('127.0.0.1', Number(peerPort));
  }
  if (s === 'seeding') {
    if (seeding) {
      process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
      return;
    }
    const st = torrent.stats();
    process.stdout.write(
      `${JSON.stringify({
        event: 'done',
        seconds: (performance.now() - t0) / 1000,
        wasted: st.wasted,
        mainCpu: mainThreadCpu(),
      })}\n`,
    );
    void close();
  }
  if (s === 'error') {
    process.stdout.write(`${JSON.stringify({ event: 'error', message: torrent.error?.message })}\n`);
    process.exitCode = 1;
    void close();
  }
});
process.on('SIGTERM', () => void close());
