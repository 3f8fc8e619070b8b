/**
 * Per-torrent limits and bandwidth priority on real sockets: a torrent's upload limit holds for
 * peers that dialled us (their torrent is known only at the handshake), its download limit holds
 * while another torrent of the same session runs free, priorities split a limited session rate,
 * and a torrent that ignores session limits is not held by them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { Torrent } from '../../../src/torrent/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

const seconds = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Bytes each torrent downloads over `ms` of wall time, per second. */
async function rates(ts: Torrent[], ms: number): Promise<number[]> {
  const t0 = Date.now();
  const start = ts.map((t) => t.stats().sessionDownloaded);
  await seconds(ms);
  const secs = (Date.now() - t0) / 1000;
  return ts.map((t, i) => (t.stats().sessionDownloaded - start[i]!) / secs);
}

test('per-torrent upload limit holds for incoming peers; the other torrent runs free', async () => {
  const tmp = await tempDir();
  const fa = await makeFixture(join(tmp.path, 'seed'), {
    name: 'a',
    files: [{ path: 'f', size: 6_000_000 }],
    pieceLength: 32768,
    seed: 1,
  });
  const fb = await makeFixture(join(tmp.path, 'seed'), {
    name: 'b',
    files: [{ path: 'f', size: 6_000_000 }],
    pieceLength: 32768,
    seed: 2,
  });
  const seedClient = new Client({ host: '127.0.0.1', limits: { maxPerHost: 10 } });
  const leech = new Client({ host: '127.0.0.1', limits: { maxPerHost: 10 } });
  try {
    const port = await seedClient.listen(0);
    const limit = 300_000;
    const sa = await seedClient.addTorrent(fa.torrent, { savePath: fa.dir, rateLimits: { upload: limit } });
    const sb = await seedClient.addTorrent(fb.torrent, { savePath: fb.dir });
    await until(() => sa.state === 'seeding' && sb.state === 'seeding', 5000, 'seeds ready');
    assert.deepEqual(sa.rateLimits, {
      download: 0,
      upload: limit,
      priority: 'normal',
      honorsSessionLimits: true,
    });
    const la = await leech.addTorrent(fa.torrent, { savePath: join(tmp.path, 'la') });
    const lb = await leech.addTorrent(fb.torrent, { savePath: join(tmp.path, 'lb') });
    la.addPeer('127.0.0.1', port);
    lb.addPeer('127.0.0.1', port);
    await until(() => la.stats().sessionDownloaded > 0, 5000, 'a started');
    const [ra] = await rates([la], 2000);
    assert.ok(ra! <= limit * 1.6, `a got ${Math.round(ra!)} B/s under a ${limit} B/s torrent limit`);
    assert.ok(ra! >= limit * 0.4, `a got only ${Math.round(ra!)} B/s`);
    await until(() => lb.state === 'seeding', 10_000, 'b, unlimited, finishes');
    assert.ok(la.state !== 'seeding', 'a is still held by its limit');
    sa.setRateLimits({ upload: 0 });
    await until(() => la.state === 'seeding', 15_000, 'a finishes once unlimited');
  } finally {
    await Promise.all([seedClient.close(), leech.close()]);
    await tmp.cleanup();
  }
});

test('per-torrent download limit; priorities split a limited session rate; honorsSessionLimits false bypasses it', async () => {
  const tmp = await tempDir();
  const fx = await Promise.all(
    ['hi', 'lo', 'free'].map((name, i) =>
      makeFixture(join(tmp.path, 'seed'), {
        name,
        files: [{ path: 'f', size: 8_000_000 }],
        pieceLength: 32768,
        seed: 10 + i,
      }),
    ),
  );
  const seedClient = new Client({ host: '127.0.0.1', limits: { maxPerHost: 10 } });
  const session = 900_000;
  const leech = new Client({ host: '127.0.0.1', downloadRateLimit: session, limits: { maxPerHost: 10 } });
  try {
    const port = await seedClient.listen(0);
    const seeds = await Promise.all(fx.map((f) => seedClient.addTorrent(f.torrent, { savePath: f.dir })));
    await until(() => seeds.every((s) => s.state === 'seeding'), 5000, 'seeds ready');
    const [hi, lo] = await Promise.all(
      fx.slice(0, 2).map((f) => leech.addTorrent(f.torrent, { savePath: join(tmp.path, `l-${f.name}`) })),
    );
    hi!.setRateLimits({ priority: 'high' });
    lo!.setRateLimits({ priority: 'low' });
    assert.throws(() => lo!.setRateLimits({ priority: 'urgent' as never }), { code: 'TORRENT_BAD_LIMIT' });
    assert.throws(() => lo!.setRateLimits({ download: -1 }), { code: 'TORRENT_BAD_LIMIT' });
    for (const t of [hi!, lo!]) t.addPeer('127.0.0.1', port);
    await until(
      () => hi!.stats().sessionDownloaded > 0 && lo!.stats().sessionDownloaded > 0,
      5000,
      'both started',
    );
    // The buckets start full (a second's burst, granted to whoever asks first): measure after it.
    await seconds(1500);
    const [rh, rl] = (await rates([hi!, lo!], 3000)) as [number, number];
    assert.ok(rh + rl <= session * 1.6, `session limit: ${Math.round(rh + rl)} B/s`);
    // Weights 2 and ½: about 4 : 1 while both wait for the session's tokens.
    assert.ok(rh >= 1.8 * rl, `high ${Math.round(rh)} B/s vs low ${Math.round(rl)} B/s`);

    // A torrent limited below the session: its own limit holds.
    hi!.setRateLimits({ download: 150_000 });
    await seconds(1200); // the burst of the new bucket drains
    const [rh2] = await rates([hi!], 2000);
    assert.ok(rh2! <= 150_000 * 1.6, `own download limit: ${Math.round(rh2!)} B/s`);

    // Ignoring session limits: the third torrent finishes far faster than the session rate allows.
    const free = await leech.addTorrent(fx[2]!.torrent, {
      savePath: join(tmp.path, 'l-free'),
      rateLimits: { honorsSessionLimits: false },
    });
    const t0 = Date.now();
    free.addPeer('127.0.0.1', port);
    await until(() => free.state === 'seeding', 10_000, 'free finishes');
    const rate = 8_000_000 / ((Date.now() - t0) / 1000);
    assert.ok(
      rate > session * 2,
      `free torrent at ${Math.round(rate)} B/s despite a ${session} B/s session limit`,
    );
  } finally {
    await Promise.all([seedClient.close(), leech.close()]);
    await tmp.cleanup();
  }
});
