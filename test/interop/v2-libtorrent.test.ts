/**
 * v2-only and hybrid torrents (made by us) between our Client and a real libtorrent, both
 * directions, plaintext and RC4. Both sides have the .torrent with its piece layers, so no
 * BEP 52 hash requests are needed: libtorrent verifies what we seed, we verify what it seeds
 * (v2-only pieces by Merkle roots, hybrid pieces by SHA-1 and Merkle roots both), and the files
 * come out identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { buildMagnet, createTorrent, parseTorrent } from '../../src/metainfo/index.js';
import type { EncryptionPolicy } from '../../src/peer/index.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';
import { ltMagnet } from '../helpers/lt-magnet.js';
import { until } from '../unit/client/fixtures.js';

const files: [string, number][] = [
  ['d/big', 3_000_000],
  ['d/small', 5000],
  ['d/sub/empty', 0],
  ['d/sub/mid', 100_001],
];

async function setup(
  version: 2 | 'hybrid',
): Promise<{ dir: string; torrentPath: string; torrent: Buffer; cleanup: () => Promise<void> }> {
  const tmp = await tempDir('nbt-v2-lt-');
  for (const [rel, size] of files) {
    await mkdir(join(tmp.path, 'seed', rel, '..'), { recursive: true });
    await writeFile(join(tmp.path, 'seed', rel), seededBytes(size, size + 1));
  }
  const { torrent, metainfo } = await createTorrent(join(tmp.path, 'seed', 'd'), {
    version,
    pieceLength: 65536,
    date: false,
  });
  assert.equal(metainfo.version, version);
  const torrentPath = join(tmp.path, 't.torrent');
  await writeFile(torrentPath, torrent);
  return { dir: tmp.path, torrentPath, torrent, cleanup: tmp.cleanup };
}

async function sameAsSeed(dir: string, other: string): Promise<void> {
  for (const [rel] of files)
    assert.ok((await readFile(join(dir, other, rel))).equals(await readFile(join(dir, 'seed', rel))), rel);
}

for (const version of [2, 'hybrid'] as const)
  for (const [ours, lt] of [
    ['disabled', 'disabled'],
    ['required', 'forced'],
  ] as [EncryptionPolicy, 'disabled' | 'forced'][]) {
    test(`${version === 2 ? 'v2-only' : 'hybrid'} (${lt === 'forced' ? 'RC4' : 'plaintext'}): libtorrent downloads from our seed`, async (t) => {
      if (!requirePeer(t, 'libtorrent')) return;
      const fx = await setup(version);
      const client = new Client({ host: '127.0.0.1', dht: false, encryption: ours });
      try {
        const port = await client.listen(0);
        const seed = await client.addTorrent(fx.torrent, { savePath: join(fx.dir, 'seed') });
        await until(() => seed.state === 'seeding', 10_000, 'our seed checked its files');
        const leech = new LtPeer('leech', fx.torrentPath, join(fx.dir, 'lt'), {
          connect: [`127.0.0.1:${port}`],
          timeout: 30,
          enc: lt,
        });
        try {
          await leech.waitFor('done', 40_000);
        } finally {
          await leech.kill();
        }
        await sameAsSeed(fx.dir, 'lt');
      } finally {
        await client.close();
        await fx.cleanup();
      }
    });

    test(`${version === 2 ? 'v2-only' : 'hybrid'} (${lt === 'forced' ? 'RC4' : 'plaintext'}): we download from a libtorrent seed`, async (t) => {
      if (!requirePeer(t, 'libtorrent')) return;
      const fx = await setup(version);
      const seed = new LtPeer('seed', fx.torrentPath, join(fx.dir, 'seed'), { enc: lt });
      // Pieces this small are hashed all on the main thread by default; a hybrid's go through the
      // split (SHA-1 here, Merkle roots in the pool) as 1 MiB pieces do.
      const client = new Client({
        host: '127.0.0.1',
        dht: false,
        encryption: ours,
        settings: { worker_hash_min_piece: 0 },
      });
      try {
        const port = await seed.port();
        await client.listen(0);
        const leech = await client.addTorrent(fx.torrent, { savePath: join(fx.dir, 'ours') });
        leech.addPeer('127.0.0.1', port);
        await until(() => leech.state === 'seeding', 30_000, 'download from libtorrent');
        assert.equal(leech.stats().hashFailures, 0);
        await sameAsSeed(fx.dir, 'ours');
      } finally {
        await client.close();
        await seed.kill();
        await fx.cleanup();
      }
    });
  }

test('a v2-only magnet (urn:btmh alone): metadata, then piece layers by BEP 52 hash requests, from libtorrent', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const fx = await setup(2);
  const seed = new LtPeer('seed', fx.torrentPath, join(fx.dir, 'seed'), { enc: 'disabled' });
  const client = new Client({ host: '127.0.0.1', dht: false });
  try {
    const port = await seed.port();
    await client.listen(0);
    const full = parseTorrent(fx.torrent);
    const magnet = buildMagnet({ infoHashV2: full.infoHashes.v2!, peers: [{ host: '127.0.0.1', port }] });
    const leech = await client.addTorrent(magnet, { savePath: join(fx.dir, 'magnet') });
    await until(() => leech.hasMetadata, 20_000, 'metadata over ut_metadata, verified by SHA-256');
    assert.equal(leech.metainfo.version, 2);
    assert.ok(leech.metainfo.info.equals(full.info));
    // d/big (46 pieces) and d/sub/mid (2) need their piece layers: libtorrent answers our hash
    // requests, each answer is proven against the file's pieces root, and then every piece
    // downloads and verifies.
    await until(() => leech.state === 'seeding', 30_000, 'the whole torrent');
    for (const [hex, layer] of full.pieceLayers)
      assert.ok(leech.metainfo.pieceLayers.get(hex)?.equals(layer), hex);
    assert.equal(leech.stats().hashFailures, 0);
    await sameAsSeed(fx.dir, 'magnet');
  } finally {
    await client.close();
    await seed.kill();
    await fx.cleanup();
  }
});

test('a v2-only magnet fetched by libtorrent from our seed: we answer its hash requests from our piece layers', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const fx = await setup(2);
  const client = new Client({ host: '127.0.0.1', dht: false });
  try {
    const port = await client.listen(0);
    const seed = await client.addTorrent(fx.torrent, { savePath: join(fx.dir, 'seed') });
    await until(() => seed.state === 'seeding', 20_000, 'our seed checked its files');
    const full = parseTorrent(fx.torrent);
    const magnet = buildMagnet({ infoHashV2: full.infoHashes.v2!, name: 'd' });
    const lt = ltMagnet(t, ['leech', magnet, join(fx.dir, 'lt'), '--connect', `127.0.0.1:${port}`]);
    // libtorrent needs the layers of d/big and d/sub/mid before it can check their pieces.
    await lt.waitFor('done', 40_000);
    await sameAsSeed(fx.dir, 'lt');
  } finally {
    await client.close();
    await fx.cleanup();
  }
});
