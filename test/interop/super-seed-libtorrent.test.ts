/**
 * BEP 16 super-seeding against real libtorrent leechers: our seed, four libtorrent leechers that
 * know each other (and stay after completing, as real peers do). With super-seeding every
 * leecher completes and the seed uploads little more than one copy; the same swarm under normal
 * seeding makes the seed upload several.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, until, sameFiles, type Fixture } from '../unit/client/fixtures.js';

const LEECHERS = 4;

/** Copies of the torrent our seed uploaded until every libtorrent leecher was done. */
async function seedCopies(fx: Fixture, root: string, superSeeding: boolean): Promise<number> {
  const client = new Client({
    host: '127.0.0.1',
    encryption: 'disabled',
    dht: false,
    lsd: false,
    limits: { maxPerHost: 20 },
  });
  const leeches: LtPeer[] = [];
  try {
    const port = await client.listen(0);
    const seed = await client.addTorrent(fx.torrent, { savePath: fx.dir, superSeeding });
    await until(() => seed.state === 'seeding', 10_000, 'seed checked');
    assert.equal(seed.superSeeding, superSeeding);
    const ports: number[] = [];
    for (let i = 0; i < LEECHERS; i++) {
      const leech = new LtPeer('leech', fx.torrentPath, join(root, `lt${i}`), {
        enc: 'disabled',
        connect: [`127.0.0.1:${port}`, ...ports.map((p) => `127.0.0.1:${p}`)],
        timeout: 150,
        stay: true,
      });
      leeches.push(leech);
      ports.push(await leech.port());
    }
    await Promise.all(leeches.map((l) => l.waitFor('done', 160_000)));
    for (let i = 0; i < LEECHERS; i++) assert.deepEqual(await sameFiles(fx, join(root, `lt${i}`)), []);
    return seed.stats().sessionUploaded / fx.metainfo.length;
  } finally {
    await Promise.all(leeches.map((l) => l.kill()));
    await client.close();
  }
}

test('our super-seed with four libtorrent leechers: all complete, the seed sends about one copy', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const tmp = await tempDir();
  try {
    const fx = await makeFixture(join(tmp.path, 'seed'), {
      files: [{ path: 'data.bin', size: 8 * 1024 * 1024 }],
      pieceLength: 64 * 1024,
    });
    const superCopies = await seedCopies(fx, join(tmp.path, 'super'), true);
    const normalCopies = await seedCopies(fx, join(tmp.path, 'normal'), false);
    t.diagnostic(
      `seed uploaded ${superCopies.toFixed(2)} copies super-seeding, ${normalCopies.toFixed(2)} seeding normally`,
    );
    assert.ok(superCopies >= 1, `every piece must leave the seed once (${superCopies})`);
    assert.ok(superCopies <= 1.3, `super-seeding sent ${superCopies.toFixed(2)} copies`);
    assert.ok(
      superCopies < normalCopies,
      `no saving: ${superCopies.toFixed(2)} vs ${normalCopies.toFixed(2)} normally`,
    );
  } finally {
    await tmp.cleanup();
  }
});
