/**
 * Global rate limits: a seed limited to 400 kB/s feeding two leechers stays near the limit and
 * serves both (neither is starved); a download limit holds too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

test('upload limit: shared fairly by two leechers and not exceeded', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 4_000_000 }],
    pieceLength: 32768,
  });
  const limit = 400_000;
  const seedClient = new Client({ host: '127.0.0.1', uploadRateLimit: limit, limits: { maxPerHost: 10 } });
  const leechers = [new Client({ host: '127.0.0.1' }), new Client({ host: '127.0.0.1' })];
  try {
    const seedPort = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    // The leechers do not know each other: everything they get comes from the seed.
    const ts = await Promise.all(
      leechers.map((c, i) => c.addTorrent(fx.torrent, { savePath: join(tmp.path, `l${i}`) })),
    );
    for (const t of ts) t.addPeer('127.0.0.1', seedPort);
    await until(() => ts.every((t) => t.stats().sessionDownloaded > 0), 5000, 'both started');
    const t0 = Date.now();
    const start = ts.map((t) => t.stats().sessionDownloaded);
    await new Promise((r) => setTimeout(r, 2500));
    const secs = (Date.now() - t0) / 1000;
    const got = ts.map((t, i) => t.stats().sessionDownloaded - start[i]!);
    const rate = (got[0]! + got[1]!) / secs;
    // One burst (a second's worth) may come on top of the rate.
    assert.ok(rate <= limit * 1.5, `seed sent ${Math.round(rate)} B/s with a ${limit} B/s limit`);
    assert.ok(rate >= limit * 0.5, `seed sent only ${Math.round(rate)} B/s`);
    const [a, b] = got as [number, number];
    assert.ok(Math.min(a, b) >= Math.max(a, b) / 4, `unfair split ${a} / ${b}`);
  } finally {
    await Promise.all([seedClient, ...leechers].map((c) => c.close()));
    await tmp.cleanup();
  }
});

test('download limit holds', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 3_000_000 }],
    pieceLength: 32768,
  });
  const limit = 500_000;
  const seedClient = new Client({ host: '127.0.0.1' });
  const client = new Client({ host: '127.0.0.1', downloadRateLimit: limit });
  try {
    const seedPort = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const t = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'l') });
    t.addPeer('127.0.0.1', seedPort);
    await until(() => t.stats().sessionDownloaded > 0, 5000, 'started');
    const t0 = Date.now();
    const start = t.stats().sessionDownloaded;
    await new Promise((r) => setTimeout(r, 2000));
    const rate = (t.stats().sessionDownloaded - start) / ((Date.now() - t0) / 1000);
    assert.ok(rate <= limit * 1.6, `received ${Math.round(rate)} B/s with a ${limit} B/s limit`);
    assert.ok(rate >= limit * 0.4, `received only ${Math.round(rate)} B/s`);
    client.setRateLimits({ download: 0 });
    await until(() => t.state === 'seeding', 10_000, 'unlimited finish');
  } finally {
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});
