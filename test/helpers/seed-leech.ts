/**
 * Two of our clients on loopback: a seed that checked its files, and a leech (with the options
 * a test gives it) that downloaded the torrent from it. The caller closes both.
 */
import { Client, type ClientOptions } from '../../src/client/index.js';
import type { Torrent } from '../../src/torrent/torrent.js';
import { until } from '../unit/client/fixtures.js';

export interface SeedAndLeech {
  seedClient: Client;
  leechClient: Client;
  /** The seed's listen port. */
  port: number;
  leech: Torrent;
}

export async function seedThenLeech(
  torrent: Buffer,
  seedPath: string,
  leechPath: string,
  leechOptions: ClientOptions = {},
): Promise<SeedAndLeech> {
  const seedClient = new Client({ host: '127.0.0.1' });
  const leechClient = new Client({ host: '127.0.0.1', ...leechOptions });
  try {
    const port = await seedClient.listen(0);
    await leechClient.listen(0);
    const seed = await seedClient.addTorrent(torrent, { savePath: seedPath });
    await until(() => seed.state === 'seeding', 10_000, 'seed checked its files');
    const leech = await leechClient.addTorrent(torrent, { savePath: leechPath });
    leech.addPeer('127.0.0.1', port);
    await until(() => leech.state === 'seeding', 20_000, 'leech complete');
    return { seedClient, leechClient, port, leech };
  } catch (e) {
    await Promise.all([seedClient.close(), leechClient.close()]);
    throw e;
  }
}
