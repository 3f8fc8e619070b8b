/**
 * A v2-only torrent (BEP 52, no SHA-1 pieces) end to end between our own clients: the seed's
 * check on add verifies the files on disk with Merkle roots, the leech verifies every piece
 * against the piece layers, and the files come out identical; a v2 magnet fetches its piece
 * layers with BEP 52 hash requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { buildMagnet, createTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { seedThenLeech } from '../../helpers/seed-leech.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from '../../unit/client/fixtures.js';

test('v2-only torrent: checked on add, seeded and downloaded with Merkle verification', async () => {
  const tmp = await tempDir();
  const files: [string, number][] = [
    ['d/big.bin', 700_000],
    ['d/small', 5000],
    ['d/sub/empty', 0],
    ['d/sub/mid', 40_000],
    ['d/tiny', 20_000],
  ];
  for (const [rel, size] of files) {
    await mkdir(join(tmp.path, 'seed', rel, '..'), { recursive: true });
    await writeFile(join(tmp.path, 'seed', rel), seededBytes(size, size));
  }
  const { torrent, metainfo } = await createTorrent(join(tmp.path, 'seed', 'd'), {
    version: 2,
    pieceLength: 32768,
    date: false,
  });
  assert.equal(metainfo.version, 2);
  // Every piece hashed by the worker pool (Merkle jobs), not incrementally here.
  const { seedClient, leechClient, port, leech } = await seedThenLeech(
    torrent,
    join(tmp.path, 'seed'),
    join(tmp.path, 'leech'),
    { settings: { hash_offload_utilization: 0, worker_hash_min_piece: 0 } },
  );
  try {
    assert.equal(leech.stats().hashFailures, 0);
    for (const [rel] of files)
      assert.ok(
        (await readFile(join(tmp.path, 'leech', rel))).equals(await readFile(join(tmp.path, 'seed', rel))),
        rel,
      );

    // A v2-only magnet (urn:btmh alone): the metadata verifies by SHA-256, then the download
    // verifies pieces by their roots (a bare info dict has no piece layers).
    const magnetClient = new Client({ host: '127.0.0.1', dht: false });
    try {
      await magnetClient.listen(0);
      const link = buildMagnet({ infoHashV2: metainfo.infoHashes.v2!, peers: [{ host: '127.0.0.1', port }] });
      assert.doesNotMatch(link, /btih/);
      const viaMagnet = await magnetClient.addTorrent(link, { savePath: join(tmp.path, 'magnet') });
      await until(() => viaMagnet.hasMetadata, 15_000, 'v2 metadata');
      assert.equal(viaMagnet.metainfo.version, 2);
      assert.ok(viaMagnet.metainfo.infoHashes.v2!.equals(metainfo.infoHashes.v2!));
      // A bare info dict has no piece layers: big.bin (22 pieces) and sub/mid (2) are not
      // requested until their layers arrive over BEP 52 hash requests, each proven against
      // the file's pieces root; then everything completes without a single failed piece.
      const m = viaMagnet.metainfo;
      const layered = m.files.filter((f) => !f.pad && f.length > m.pieceLength);
      assert.equal(layered.length, 2);
      await until(() => viaMagnet.state === 'seeding', 20_000, 'magnet download complete');
      for (const f of layered)
        assert.ok(
          m.pieceLayers
            .get(f.piecesRoot!.toString('hex'))!
            .equals(metainfo.pieceLayers.get(f.piecesRoot!.toString('hex'))!),
          f.name,
        );
      for (const [rel] of files)
        assert.ok(
          (await readFile(join(tmp.path, 'magnet', rel))).equals(await readFile(join(tmp.path, 'seed', rel))),
          rel,
        );
      assert.equal(viaMagnet.stats().hashFailures, 0);
    } finally {
      await magnetClient.close();
    }
  } finally {
    await Promise.all([seedClient.close(), leechClient.close()]);
    await tmp.cleanup();
  }
});

test('a v2 magnet keeps the piece layers it fetched with its saved .torrent: a restart needs no hash requests', async () => {
  const tmp = await tempDir();
  await mkdir(join(tmp.path, 'seed', 'd'), { recursive: true });
  await writeFile(join(tmp.path, 'seed', 'd', 'big'), seededBytes(300_000, 1));
  await writeFile(join(tmp.path, 'seed', 'd', 'small'), seededBytes(1000, 2));
  const { torrent, metainfo } = await createTorrent(join(tmp.path, 'seed', 'd'), {
    version: 2,
    pieceLength: 32768,
    date: false,
  });
  const resumeDir = join(tmp.path, 'state');
  const seedClient = new Client({ host: '127.0.0.1', dht: false });
  try {
    const port = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(torrent, { savePath: join(tmp.path, 'seed') });
    await until(() => seed.state === 'seeding', 10_000, 'seed checked');
    const link = buildMagnet({ infoHashV2: metainfo.infoHashes.v2!, peers: [{ host: '127.0.0.1', port }] });
    const first = new Client({ host: '127.0.0.1', dht: false, resumeDir });
    try {
      const t = await first.addTorrent(link, { savePath: join(tmp.path, 'magnet') });
      await until(() => t.state === 'seeding', 20_000, 'magnet complete');
    } finally {
      await first.close();
    }
    const saved = parseTorrent(await readFile(join(resumeDir, `${metainfo.infoHashHex}.torrent`)));
    assert.deepEqual([...saved.pieceLayers.entries()], [...metainfo.pieceLayers.entries()]);
    // Restarted without any peer: the torrent opens whole, its layers known, its data verified.
    const again = new Client({ host: '127.0.0.1', dht: false, resumeDir });
    try {
      const t = await again.addTorrent(buildMagnet({ infoHashV2: metainfo.infoHashes.v2! }), {
        savePath: join(tmp.path, 'magnet'),
      });
      assert.ok(t.hasMetadata);
      assert.equal(t.metainfo.pieceLayers.size, 1);
      await until(() => t.state === 'seeding', 10_000, 'verified from disk, no peers');
    } finally {
      await again.close();
    }
  } finally {
    await seedClient.close();
    await tmp.cleanup();
  }
});
