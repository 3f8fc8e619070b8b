/**
 * The engine against libtorrent 2.0: download from a libtorrent seed and seed to a libtorrent
 * leech, plaintext and with RC4 forced; the files must come out byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import type { Torrent } from '../../src/torrent/torrent.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, sameFiles } from '../unit/client/fixtures.js';

const files = [
  { path: 'a.bin', size: 2_100_000 },
  { path: 'sub/b.bin', size: 1_300_007 },
  { path: 'sub/c.bin', size: 10 },
  { path: 'z.bin', size: 800_000 },
];

/** Resolves once the torrent is seeding (downloaded, or found complete by its check). */
export function done(t: Torrent, ms: number): Promise<void> {
  if (t.state === 'seeding') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not done in ${ms} ms: ${JSON.stringify(t.stats())}`)),
      ms,
    );
    t.on('state', (s) => {
      if (s !== 'seeding') return;
      clearTimeout(timer);
      resolve();
    });
    t.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

for (const mode of ['plaintext', 'rc4'] as const) {
  test(`download from a libtorrent seed (${mode})`, async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    const fx = await makeFixture(join(tmp.path, 'seed'), { files });
    const seed = new LtPeer('seed', fx.torrentPath, fx.dir, { enc: mode === 'rc4' ? 'forced' : 'disabled' });
    const client = new Client({ host: '127.0.0.1', encryption: mode === 'rc4' ? 'required' : 'disabled' });
    try {
      const port = await seed.port();
      await client.listen(0);
      const torrent = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
      const encryption: string[] = [];
      const reasons: string[] = [];
      client.on('peer-connect', (_t, p) => encryption.push(p.encryption));
      client.on('peer-disconnect', (_p, info) => reasons.push(info.name));
      torrent.addPeer('127.0.0.1', port);
      await done(torrent, 30_000);
      assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
      assert.deepEqual(encryption, [mode === 'rc4' ? 'rc4' : 'none']);
      const st = torrent.stats();
      assert.equal(st.hashFailures, 0);
      assert.equal(st.sessionDownloaded, fx.metainfo.length);
      // Both sides are seeds now: the connection is closed with SEED.
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(reasons, ['SEED']);
    } finally {
      await client.close();
      await seed.kill();
      await tmp.cleanup();
    }
  });

  test(`seed to a libtorrent leech (${mode})`, async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    const fx = await makeFixture(join(tmp.path, 'seed'), { files });
    const client = new Client({ host: '127.0.0.1', encryption: mode === 'rc4' ? 'required' : 'disabled' });
    let leech: LtPeer | undefined;
    try {
      const port = await client.listen(0);
      const torrent = await client.addTorrent(fx.torrent, { savePath: fx.dir });
      await done(torrent, 10_000);
      assert.equal(torrent.state, 'seeding');
      leech = new LtPeer('leech', fx.torrentPath, join(tmp.path, 'leech'), {
        enc: mode === 'rc4' ? 'forced' : 'disabled',
        connect: [`127.0.0.1:${port}`],
        timeout: 30,
      });
      await leech.waitFor('done', 30_000);
      assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
      assert.ok(torrent.stats().sessionUploaded >= fx.metainfo.length);
    } finally {
      await client.close();
      await leech?.kill();
      await tmp.cleanup();
    }
  });
}
