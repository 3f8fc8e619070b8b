/**
 * Tit-for-tat on real sockets (the loopback twin of test/unit/sim/fairness.test.ts): a seed
 * whose upload is the scarce resource and seven of our leechers, one of which uploads next to
 * nothing. As in the simulator, the traders' upload is bounded too and their four unchoke slots
 * are fewer than their six fellow leechers: with unbounded loopback upload and a slot for every
 * peer (four leechers, eight slots), whoever is unchoked at all gets everything at once, nobody
 * is ever choked, and the order of finishing is chance. The free rider must not be served ahead
 * of the leechers that trade: it finishes after their median, and when the first trader is done
 * it has fetched less than the median trader.
 * Each client binds its own 127.0.0.x address, so per-host limits stay at their defaults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { Torrent } from '../../../src/torrent/torrent.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

const SEED_UPLOAD = 256 * 1024;
const TRADER_UPLOAD = 512 * 1024;
const RIDER_UPLOAD = 1024;
const LEECHERS = 7;

test('free riders get less than reciprocating peers (loopback, real clients)', async (t) => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'data.bin', size: 2 << 20 }],
    pieceLength: 64 << 10,
  });
  const common = { dht: false, trackers: false, lsd: false } as const;
  const seedClient = new Client({ ...common, host: '127.0.0.10', uploadRateLimit: SEED_UPLOAD });
  const leechClients = Array.from(
    { length: LEECHERS },
    (_, i) =>
      new Client({
        ...common,
        host: `127.0.0.${11 + i}`,
        limits: { unchokeSlots: 4 },
        // Rounds of 3 s (optimistic 6 s) instead of 10 s (30 s): the download takes ~15 s, and
        // with the defaults the first round's choice, made before any rate is known, held for
        // most of it.
        settings: { unchoke_interval: 3000, optimistic_unchoke_interval: 6000 },
        uploadRateLimit: i === 0 ? RIDER_UPLOAD : TRADER_UPLOAD,
      }),
  );
  try {
    const seedPort = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 10_000, 'seed ready');
    const ports = await Promise.all(leechClients.map((c) => c.listen(0)));
    const leechers: Torrent[] = [];
    for (const [i, c] of leechClients.entries())
      leechers.push(await c.addTorrent(fx.torrent, { savePath: join(tmp.path, `leech${i}`) }));
    const doneAt = new Map<Torrent, number>();
    const t0 = performance.now();
    for (const l of leechers)
      l.on('state', (s) => {
        if (s === 'seeding' && !doneAt.has(l)) doneAt.set(l, performance.now() - t0);
      });
    for (const [i, l] of leechers.entries()) {
      l.addPeer('127.0.0.10', seedPort);
      for (const [j, port] of ports.entries()) if (j !== i) l.addPeer(`127.0.0.${11 + j}`, port);
    }
    const [rider, ...traders] = leechers as [Torrent, ...Torrent[]];
    // While the first trader finishes the others are mid-way: what each has then.
    await until(() => traders.some((l) => doneAt.has(l)), 90_000, 'a trader finished');
    const riderBytes = rider.stats().sessionDownloaded;
    const traderBytes = traders.map((l) => l.stats().sessionDownloaded).sort((a, b) => a - b);
    await until(() => leechers.every((l) => doneAt.has(l)), 120_000, 'every leecher finished');
    const times = traders.map((l) => doneAt.get(l)!).sort((a, b) => a - b);
    const median = times[times.length >> 1]!;
    t.diagnostic(
      `free rider done at ${(doneAt.get(rider)! / 1000).toFixed(1)} s (uploaded ${rider.stats().sessionUploaded} B); ` +
        `traders ${times.map((x) => (x / 1000).toFixed(1)).join(', ')} s; at the first trader's finish ` +
        `the rider had ${riderBytes} B, the traders ${traderBytes.join(', ')} B`,
    );
    for (const [i] of leechers.entries())
      assert.deepEqual(await sameFiles(fx, join(tmp.path, `leech${i}`)), []);
    assert.ok(doneAt.get(rider)! > median, 'the free rider finishes after the median trader');
    // Against the median, not the slowest: one trader short of connections for a while (seen
    // under load) lags like a rider without being one.
    assert.ok(
      riderBytes < traderBytes[traderBytes.length >> 1]!,
      'the free rider had less than the median trader when the first finished',
    );
  } finally {
    await Promise.all([seedClient, ...leechClients].map((c) => c.close()));
    await tmp.cleanup();
  }
});
