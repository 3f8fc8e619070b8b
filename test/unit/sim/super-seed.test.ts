/**
 * Super-seeding in virtual time: an initial seed on a thin uplink (4 Mbit/s) and four leechers
 * on fast links. Seeding normally, the seed sends several copies before the swarm completes;
 * super-seeding (the `super_seeding` setting), about one, and the swarm still completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimSwarm, mbit } from '../../sim/index.js';

async function run(superSeeding: boolean): Promise<{ copies: number; doneMs: number }> {
  const sw = new SimSwarm({ seed: 11 });
  try {
    const torrent = sw.makeTorrent(4 << 20, 64 << 10);
    const seed = await sw.addSeed(torrent, {
      link: { link: { latencyMs: 20, bitsPerSecond: mbit(4), queueBytes: 256 << 10 } },
      client: { settings: { super_seeding: superSeeding } },
    });
    for (let i = 0; i < 4; i++)
      await sw.addLeecher(torrent, {
        link: { link: { latencyMs: 20, bitsPerSecond: mbit(50), queueBytes: 1 << 20 } },
      });
    sw.introduceAll();
    assert.ok(await sw.runUntilComplete(600_000), 'every leecher completes');
    assert.equal(seed.torrent.superSeeding, superSeeding);
    const doneMs = Math.max(...sw.members.map((m) => m.doneAt ?? 0));
    return { copies: seed.torrent.stats().sessionUploaded / torrent.metainfo.length, doneMs };
  } finally {
    await sw.close();
  }
}

test('a super-seed on a thin uplink sends about one copy; seeding normally sends more', async (t) => {
  const normal = await run(false);
  const sup = await run(true);
  t.diagnostic(
    `normal: ${normal.copies.toFixed(2)} copies, done at ${(normal.doneMs / 1000).toFixed(1)} s; ` +
      `super: ${sup.copies.toFixed(2)} copies, done at ${(sup.doneMs / 1000).toFixed(1)} s (virtual)`,
  );
  assert.ok(sup.copies >= 1 && sup.copies <= 1.15, `super-seed sent ${sup.copies.toFixed(2)} copies`);
  assert.ok(
    normal.copies > sup.copies + 0.3,
    `normal ${normal.copies.toFixed(2)} vs super ${sup.copies.toFixed(2)}`,
  );
});
