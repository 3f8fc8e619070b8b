/**
 * Resume data across process deaths: a downloader killed with SIGKILL mid-download restarts
 * without re-downloading any piece its last resume save recorded; a clean shutdown of a finished
 * download restarts as a seed without checking anything first (its spot check runs after).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { decodeResume, encodeResume } from '../../../src/storage/resume.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { SPOT_CHECK_PIECES } from '../../../src/torrent/data-check.js';
import { HashPool } from '../../../src/hash/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';
import { ClientChild } from '../../unit/client/child-process.js';

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

    // A clean restart of the finished download: only the spot check, then seeding.
    const third = new ClientChild({ ...args, peers: [] });
    children.push(third);
    await third.waitFor('done', 10_000);
    assert.ok(
      third.events.every((e) => e.event !== 'check' || Number(e['checked']) <= SPOT_CHECK_PIECES),
      'a complete, unchanged download was checked again beyond the spot check',
    );
    assert.equal(await third.kill('SIGTERM'), 0);
  } finally {
    await Promise.all(children.map((c) => c.kill()));
    await seedClient.close();
    await tmp.cleanup();
  }
});

test('unfinished pieces: their received blocks survive a clean restart and are not fetched again', async () => {
  const tmp = await tempDir();
  // 256 KiB pieces (16 blocks): pieces are hashed by the worker pool.
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'big.bin', size: 3_000_000 }],
    pieceLength: 262_144,
  });
  const seedClient = new Client({ host: '127.0.0.1', uploadRateLimit: 600_000 });
  const resumeDir = join(tmp.path, 'resume');
  const save = join(tmp.path, 'leech');
  let client = new Client({ host: '127.0.0.1', resumeDir });
  try {
    const seedPort = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    let t = await client.addTorrent(fx.torrent, { savePath: save });
    t.addPeer('127.0.0.1', seedPort);
    await until(() => t.stats().sessionDownloaded > 1_000_000, 15_000, 'a third downloaded');
    await client.close();
    const saved = decodeResume(await readFile(join(resumeDir, `${fx.metainfo.infoHashHex}.resume`)));
    assert.ok(saved.unfinished.length > 0, 'some piece was in progress at close');
    const restoredBlocks = saved.unfinished.reduce((n, u) => n + u.blocks.count, 0);
    let haveBytes = 0;
    for (const i of saved.have.indices()) haveBytes += fx.metainfo.pieceSize(i);

    client = new Client({ host: '127.0.0.1', resumeDir });
    const checks: number[] = [];
    client.on('check-progress', (_t, n) => checks.push(n));
    t = await client.addTorrent(fx.torrent, { savePath: save });
    t.addPeer('127.0.0.1', seedPort);
    await until(() => t.state === 'seeding', 20_000, 'finished after restart');
    assert.deepEqual(await sameFiles(fx, save), []);
    assert.ok(Math.max(0, ...checks) <= SPOT_CHECK_PIECES, 'an unchanged download is only spot-checked');
    // Exactly the missing bytes were fetched: not the saved pieces, not the saved blocks.
    let restoredBytes = 0;
    for (const u of saved.unfinished)
      for (const b of u.blocks.indices())
        restoredBytes += Math.min(16384, fx.metainfo.pieceSize(u.piece) - b * 16384);
    assert.ok(restoredBlocks > 0);
    assert.equal(
      t.stats().sessionDownloaded + t.stats().wasted,
      fx.metainfo.length - haveBytes - restoredBytes,
    );
  } finally {
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});

test('resume data claiming every piece after a partial download: the spot check catches it and the restart still ends byte-identical', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'big.bin', size: 3_000_000 }],
    pieceLength: 65_536,
  });
  const seedClient = new Client({ host: '127.0.0.1', uploadRateLimit: 800_000 });
  const resumeDir = join(tmp.path, 'resume');
  const save = join(tmp.path, 'leech');
  let client = new Client({ host: '127.0.0.1', resumeDir });
  try {
    const seedPort = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    let t = await client.addTorrent(fx.torrent, { savePath: save });
    t.addPeer('127.0.0.1', seedPort);
    await until(() => t.have.count >= 4, 15_000, 'a few pieces');
    await client.close();
    // The resume file now says every piece is there (re-encoded, so its checksum is right).
    const file = join(resumeDir, `${fx.metainfo.infoHashHex}.resume`);
    const saved = decodeResume(await readFile(file));
    assert.ok(saved.have.count < fx.metainfo.pieceCount);
    const lying = { ...saved, have: Bitfield.full(fx.metainfo.pieceCount), unfinished: [] };
    await writeFile(file, encodeResume(lying));

    client = new Client({ host: '127.0.0.1', resumeDir });
    t = await client.addTorrent(fx.torrent, { savePath: save });
    t.addPeer('127.0.0.1', seedPort);
    // It seeds on the resume data at once; the spot check that follows finds the lie, and the
    // full check and download after it end with the real data.
    await until(
      () => t.state === 'seeding' && t.stats().sessionDownloaded > 0,
      20_000,
      'spot check failed, rechecked, finished',
    );
    assert.deepEqual(await sameFiles(fx, save), [], 'complete means verified on disk');
    assert.ok(t.stats().sessionDownloaded > 0, 'the missing pieces were fetched');
  } finally {
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});

test('2,000 dead addresses in the resume data do not crowd out the peer the user names', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files: [{ path: 'x.bin', size: 300_000 }] });
  const seedClient = new Client({ host: '127.0.0.1' });
  const resumeDir = join(tmp.path, 'resume');
  const save = join(tmp.path, 'leech');
  // What an earlier session could have saved after a tracker returned junk.
  const junk = Array.from({ length: 2000 }, (_, i) => ({ host: `192.0.2.${1 + (i % 250)}`, port: 1000 + i }));
  await mkdir(resumeDir, { recursive: true });
  await writeFile(
    join(resumeDir, `${fx.metainfo.infoHashHex}.resume`),
    encodeResume({
      version: 1,
      infoHash: fx.metainfo.infoHash,
      have: new Bitfield(fx.metainfo.pieceCount),
      files: fx.metainfo.files.map(() => undefined),
      unfinished: [],
      peers: junk,
      uploaded: 0,
      downloaded: 0,
      savePath: save,
    }),
  );
  const client = new Client({ host: '127.0.0.1', resumeDir, trackers: false, dht: false });
  try {
    const seedPort = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const connected = new Promise<string>((r) =>
      client.on('peer-connect', (_t, p) => r(`${p.host}:${p.port}`)),
    );
    const t = await client.addTorrent(fx.torrent, {
      savePath: save,
      peers: [{ host: '127.0.0.1', port: seedPort }],
    });
    assert.ok(t.candidates.size <= 2000);
    const first = await Promise.race([
      connected,
      new Promise<string>((r) => setTimeout(() => r('no connection within 5 s'), 5000)),
    ]);
    assert.equal(first, `127.0.0.1:${seedPort}`);
    await until(() => t.state === 'seeding', 15_000, 'downloaded from the seed');
    assert.deepEqual(await sameFiles(fx, save), []);
  } finally {
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});

test('a clean restart seeds before hashing anything; the spot check hashes its pieces afterwards', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'a.bin', size: 1_000_000 }],
    pieceLength: 32_768,
  });
  const resumeDir = join(tmp.path, 'resume');
  let client = new Client({ host: '127.0.0.1', dht: false, trackers: false, resumeDir });
  const pool = new HashPool();
  // Every piece hashed by the pool (the check reads whole chunks: bytes / piece length).
  let hashed = 0;
  const lent = pool.hashLent.bind(pool);
  pool.hashLent = (data, pieceLength, length) => {
    hashed += Math.ceil((length ?? data.length) / pieceLength);
    return lent(data, pieceLength, length);
  };
  try {
    let t = await client.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => t.state === 'seeding', 10_000, 'first check');
    await client.close();

    client = new Client({ host: '127.0.0.1', dht: false, trackers: false, resumeDir, hashPool: pool });
    let hashedAtSeeding = -1;
    const added = client.addTorrent(fx.torrent, { savePath: fx.dir });
    client.on('torrent-state', (_t, s) => {
      if (s === 'seeding' && hashedAtSeeding < 0) hashedAtSeeding = hashed;
    });
    t = await added;
    await until(() => hashed >= SPOT_CHECK_PIECES, 10_000, 'the spot check ran');
    assert.equal(hashedAtSeeding, 0, 'no piece was hashed before the torrent seeded');
    assert.equal(t.state, 'seeding', 'the spot check passed: still seeding');
    assert.ok(hashed <= SPOT_CHECK_PIECES, `only the spot check was hashed (${hashed} pieces)`);
  } finally {
    await client.close();
    await pool.close();
    await tmp.cleanup();
  }
});
