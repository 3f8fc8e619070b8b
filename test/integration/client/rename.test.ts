/**
 * Renaming a running torrent's files and folders: a seed renames its top folder and a file while
 * a leecher downloads from it (the leech completes with the right bytes, the seed's files are at
 * the new paths, `files` and `name` follow); a restart from resume data finds the renamed files
 * without downloading or re-checking anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

test('a seeding torrent renames its folder and a file mid-transfer; a restart keeps the names', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 2_000_000 },
      { path: 'sub/b.bin', size: 1_000_000 },
    ],
    pieceLength: 32768,
  });
  const resumeDir = join(tmp.path, 'resume');
  let seedClient = new Client({ host: '127.0.0.1', resumeDir, uploadRateLimit: 2_000_000 });
  const leech = new Client({ host: '127.0.0.1' });
  try {
    const port = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const l = await leech.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    l.addPeer('127.0.0.1', port);
    await until(() => l.stats().sessionDownloaded > 200_000, 10_000, 'leech started');

    const events: string[] = [];
    seed.on('renamed', (e) => events.push(`${e.from}>${e.to}`));
    await seed.renamePath(`${fx.name}/sub/b.bin`, `${fx.name}/sub/b-renamed.bin`);
    await seed.renamePath(fx.name, 'Renamed');
    assert.deepEqual(events, [`${fx.name}/sub/b.bin>${fx.name}/sub/b-renamed.bin`, `${fx.name}>Renamed`]);
    assert.equal(seed.name, 'Renamed');
    assert.deepEqual(
      seed.files.map((f) => f.path),
      ['Renamed/a.bin', 'Renamed/sub/b-renamed.bin'],
    );
    await assert.rejects(seed.renamePath(fx.name, 'Again'), { code: 'STORAGE_RENAME' });

    await until(() => l.state === 'seeding', 20_000, 'leech completes from the renamed seed');
    for (const f of fx.files)
      assert.deepEqual(
        await readFile(join(tmp.path, 'leech', fx.name, f.path)),
        await readFile(join(fx.dir, 'Renamed', f.path.replace('b.bin', 'b-renamed.bin'))),
      );
    await assert.rejects(access(join(fx.dir, fx.name)));

    // Restart: the resume data (saved at the rename) points at the new paths.
    await seedClient.close();
    seedClient = new Client({ host: '127.0.0.1', resumeDir });
    const again = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => again.state === 'seeding', 5000, 'seeding after restart');
    assert.equal(again.name, 'Renamed');
    assert.equal(again.have.count, fx.metainfo.pieceCount);
    assert.deepEqual(
      again.files.map((f) => f.path),
      ['Renamed/a.bin', 'Renamed/sub/b-renamed.bin'],
    );
    // Stop and start checks every piece again: from the renamed files.
    await again.stop();
    again.start();
    await until(() => again.state === 'seeding', 5000, 'seeding after a full check');
    assert.equal(again.have.count, fx.metainfo.pieceCount);
  } finally {
    await Promise.all([seedClient.close(), leech.close()]);
    await tmp.cleanup();
  }
});

test("moveStorage moves a seeding torrent's data while a leech downloads; no recheck; resume follows", async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 1_500_000 },
      { path: 'sub/b.bin', size: 500_000 },
    ],
    pieceLength: 32768,
  });
  const resumeDir = join(tmp.path, 'resume');
  let seedClient = new Client({ host: '127.0.0.1', resumeDir, uploadRateLimit: 1_500_000 });
  const leech = new Client({ host: '127.0.0.1' });
  try {
    const port = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const l = await leech.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    l.addPeer('127.0.0.1', port);
    await until(() => l.stats().sessionDownloaded > 200_000, 10_000, 'leech started');
    const states: string[] = [];
    seed.on('state', (s) => states.push(s));
    const errors: string[] = [];
    seed.on('file-error', (i) => errors.push(i.message));
    const moved = join(tmp.path, 'elsewhere');
    // Something already at the target: refused before anything moves.
    await mkdir(join(moved, fx.name), { recursive: true });
    await assert.rejects(seed.moveStorage(moved), { code: 'STORAGE_MOVE' });
    await access(join(fx.dir, fx.name, 'a.bin'));
    await rm(join(moved, fx.name), { recursive: true });
    await seed.moveStorage(moved);
    assert.equal(seed.savePath, moved);
    assert.deepEqual(states, [], 'no check, no state change');
    await assert.rejects(access(join(fx.dir, fx.name)));
    await until(() => l.state === 'seeding', 20_000, 'leech completes from the moved seed');
    for (const f of fx.files)
      assert.deepEqual(
        await readFile(join(tmp.path, 'leech', fx.name, f.path)),
        await readFile(join(moved, fx.name, f.path)),
      );
    // Restart at the new path: trusted from the resume data (saved at the move).
    await seedClient.close();
    seedClient = new Client({ host: '127.0.0.1', resumeDir });
    const again = await seedClient.addTorrent(fx.torrent, { savePath: moved });
    await until(() => again.state === 'seeding', 5000, 'seeding after restart');
    assert.equal(again.have.count, fx.metainfo.pieceCount);
    assert.deepEqual(errors, []);
    assert.deepEqual(errors, []);
  } finally {
    await Promise.all([seedClient.close(), leech.close()]);
    await tmp.cleanup();
  }
});
