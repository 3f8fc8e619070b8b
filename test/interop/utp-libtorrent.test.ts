/**
 * uTP against libtorrent 2.0 with TCP off on its side (lt_peer.py --utp-only): we download from
 * it and seed to it, plaintext and with RC4 forced; the files must come out byte-identical and
 * the connection must be uTP (the dial plan tries uTP first, TCP would be refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, sameFiles } from '../unit/client/fixtures.js';
import type { Torrent } from '../../src/torrent/torrent.js';

const files = [
  { path: 'a.bin', size: 3_100_000 },
  { path: 'sub/b.bin', size: 1_300_007 },
  { path: 'c.bin', size: 10 },
];

function done(t: Torrent, ms: number): Promise<void> {
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
  });
}

for (const mode of ['plaintext', 'rc4'] as const) {
  const enc = mode === 'rc4' ? 'forced' : 'disabled';
  const encryption = mode === 'rc4' ? 'required' : 'disabled';

  test(`download from a uTP-only libtorrent seed (${mode})`, async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    const fx = await makeFixture(join(tmp.path, 'seed'), { files });
    const seed = new LtPeer('seed', fx.torrentPath, fx.dir, { enc, utpOnly: true });
    const client = new Client({ host: '127.0.0.1', encryption, dht: false });
    try {
      const port = await seed.port();
      await client.listen(0);
      const torrent = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
      const seen: string[] = [];
      client.on('peer-connect', (_t, p) => seen.push(`${p.transport}/${p.encryption}`));
      torrent.addPeer('127.0.0.1', port);
      await done(torrent, 60_000);
      assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
      assert.deepEqual(seen, [`utp/${mode === 'rc4' ? 'rc4' : 'none'}`]);
      assert.equal(torrent.stats().hashFailures, 0);
    } finally {
      await client.close();
      await seed.kill();
      await tmp.cleanup();
    }
  });

  test(`seed to a uTP-only libtorrent leech (${mode})`, async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    const fx = await makeFixture(join(tmp.path, 'seed'), { files });
    const client = new Client({ host: '127.0.0.1', encryption, dht: false });
    let leech: LtPeer | undefined;
    try {
      const port = await client.listen(0);
      const torrent = await client.addTorrent(fx.torrent, { savePath: fx.dir });
      await done(torrent, 10_000);
      const seen: string[] = [];
      client.on('peer-connect', (_t, p) => seen.push(p.transport));
      leech = new LtPeer('leech', fx.torrentPath, join(tmp.path, 'leech'), {
        enc,
        utpOnly: true,
        connect: [`127.0.0.1:${port}`],
        timeout: 60,
      });
      await leech.waitFor('done', 60_000);
      assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
      assert.ok(seen.length > 0 && seen.every((k) => k === 'utp'), JSON.stringify(seen));
      assert.ok(torrent.stats().sessionUploaded >= fx.metainfo.length);
    } finally {
      await client.close();
      await leech?.kill();
      await tmp.cleanup();
    }
  });
}
