/**
 * Resume data across process deaths: a downloader killed with SIGKILL mid-download restarts
 * without re-downloading any piece its last resume save recorded; a clean shutdown of a finished
 * download restarts as a seed without checking anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { decodeResume } from '../../../src/storage/resume.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from './fixtures.js';
import { ClientChild } from './child-process.js';

test('kill -9 mid-download: the restart keeps every piece the last resume save recorded', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 1_600_000 },
      { path: 'b.bin', size: 1_400_000 },
    ],
    pieceLength: 32768,
  });
  const seedClient = new Client({
    host: '127.0.0.1',
    uploadRateLimit: 1_000_000,
    limits: { maxPerHost: 10 },
  });
  const resumeDir = join(tmp.path, 'resume');
  const save = join(tmp.path, 'leech');
  const children: ClientChild[] = [];
  try {
    const seedPort = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const args = {
      torrent: fx.torrentPath,
      save,
      resumeDir,
      resumeInterval: 200,
      peers: [seedPort],
      pieces: true,
    };
    const first = new ClientChild(args);
    children.push(first);
    const total = fx.metainfo.pieceCount;
    // The event reports the count after the save; the save after it holds at least that many.
    let seen = 0;
    await first.waitFor('resume-saved', 20_000, (e) => Number(e.have) >= total / 4 && ++seen >= 2);
    await first.kill('SIGKILL');
    assert.ok(!first.events.some((e) => e.event === 'done'), 'the first run finished before the kill');

    const saved = decodeResume(await readFile(join(resumeDir, `${fx.metainfo.infoHashHex}.resume`)));
    assert.ok(saved.have.count > 0 && saved.have.count < total, `saved ${saved.have.count} of ${total}`);

    const second = new ClientChild(args);
    children.push(second);
    await second.waitFor('done', 30_000);
    const again = second.events.filter((e) => e.event === 'piece').map((e) => Number(e.index));
    const refetched = again.filter((i) => saved.have.has(i));
    assert.deepEqual(refetched, [], 'pieces recorded as verified were downloaded again');
    assert.ok(again.length <= total - saved.have.count);
    assert.deepEqual(await sameFiles(fx, save), []);
    assert.equal(await second.kill('SIGTERM'), 0);

    // A clean restart of the finished download: no check at all, straight to seeding.
    const third = new ClientChild({ ...args, peers: [] });
    children.push(third);
    await third.waitFor('done', 10_000);
    assert.ok(
      !third.events.some((e) => e.event === 'check'),
      'a complete, unchanged download was checked again',
    );
    assert.equal(await third.kill('SIGTERM'), 0);
  } finally {
    await Promise.all(children.map((c) => c.kill()));
    await seedClient.close();
    await tmp.cleanup();
  }
});
