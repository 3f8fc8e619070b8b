/**
 * File priorities over real sockets: a skipped file (priority 0) is not downloaded except for
 * pieces it shares with wanted files, the torrent reports `finished` (not `done`) when every
 * wanted piece is in, and raising the priority later completes the download.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { buildMagnet } from '../../../src/metainfo/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

test('file priorities: 0 skips a file, finished fires for the wanted set, raising it completes', async () => {
  const tmp = await tempDir();
  const pieceLength = 32768;
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 300_000 },
      { path: 'skipped.bin', size: 1_000_000 },
      { path: 'c.bin', size: 200_000 },
    ],
    pieceLength,
  });
  const seedClient = new Client({ host: '127.0.0.1' });
  const client = new Client({ host: '127.0.0.1' });
  try {
    const seedPort = await seedClient.listen(0);
    await client.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');

    const save = join(tmp.path, 'leech');
    const t = await client.addTorrent(fx.torrent, { savePath: save, filePriorities: [1, 0, 1] });
    assert.deepEqual(t.filePriorities, [1, 0, 1]);
    let finished = 0;
    let done = 0;
    t.on('finished', () => finished++);
    t.on('done', () => done++);
    t.addPeer('127.0.0.1', seedPort);
    await until(() => finished > 0, 20_000, 'wanted files finished');

    assert.equal(t.finished, true);
    assert.equal(t.complete, false);
    assert.equal(done, 0);
    assert.equal(t.state, 'downloading');
    const files = t.metainfo.files;
    const skipped = files[1]!;
    // Pieces wholly inside the skipped file were never fetched.
    const firstInner = Math.ceil(skipped.offset / pieceLength);
    const lastInner = Math.floor((skipped.offset + skipped.length) / pieceLength) - 1;
    assert.ok(lastInner > firstInner);
    for (let p = firstInner; p <= lastInner; p++) assert.equal(t.have.has(p), false, `piece ${p}`);
    // The wanted files are byte-identical.
    for (const i of [0, 2]) {
      const f = files[i]!;
      const got = await readFile(join(save, ...f.path));
      const want = await readFile(join(fx.dir, ...f.path));
      assert.ok(got.equals(want), f.name);
    }
    // The skipped file holds at most its two boundary pieces' share of bytes (sparse otherwise).
    const st = await stat(join(save, ...skipped.path)).catch(() => undefined);
    if (st)
      assert.ok(st.blocks * 512 <= 2 * pieceLength + 8192, `skipped file uses ${st.blocks * 512} bytes`);

    assert.throws(() => t.setFilePriority(3, 1), RangeError);
    assert.throws(() => t.setFilePriorities([1, 9, 1]), RangeError);
    t.setFilePriority(1, 1);
    await until(() => t.complete, 20_000, 'download completed after raising the priority');
    assert.equal(done, 1);
    assert.deepEqual(await sameFiles(fx, save), []);
  } finally {
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});

test('magnet so= (BEP 53) selects files: only the listed ones are fetched once metadata arrives', async () => {
  const tmp = await tempDir();
  const pieceLength = 32768;
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'wanted.bin', size: 200_000 },
      { path: 'other.bin', size: 900_000 },
    ],
    pieceLength,
  });
  const seedClient = new Client({ host: '127.0.0.1', dht: false });
  const client = new Client({ host: '127.0.0.1', dht: false });
  try {
    const seedPort = await seedClient.listen(0);
    await client.listen(0);
    await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    const magnet = buildMagnet({
      infoHash: fx.metainfo.infoHash,
      peers: [{ host: '127.0.0.1', port: seedPort }],
      selectOnly: [0],
    });
    const t = await client.addTorrent(magnet, { savePath: join(tmp.path, 'leech') });
    await until(() => t.finished, 20_000, 'selected file finished');
    assert.deepEqual(t.filePriorities, [1, 0]);
    assert.equal(t.complete, false);
    const other = t.metainfo.files[1]!;
    const lastPiece = t.metainfo.pieceCount - 1;
    assert.ok(Math.ceil(other.offset / pieceLength) < lastPiece);
    assert.equal(t.have.has(lastPiece), false, 'a piece only in the unselected file');
    const got = await readFile(join(tmp.path, 'leech', ...t.metainfo.files[0]!.path));
    assert.ok(got.equals(await readFile(join(fx.dir, ...fx.metainfo.files[0]!.path))));
  } finally {
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});
