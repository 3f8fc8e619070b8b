/**
 * torrent.files and streaming readers over real sockets: a reader in the middle of a skipped
 * file (every priority 0) starts before its data exists, fetches only what it reads (its window),
 * returns the exact bytes, releases its window when destroyed; two readers at once; a magnet
 * waits for metadata; after a restart the data is read from disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { buildMagnet } from '../../../src/metainfo/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

const pieceLength = 32 * 1024;

async function setup(limit = 0) {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'video.webm', size: 3_000_000 },
      { path: 'other.bin', size: 500_003 },
    ],
    pieceLength,
  });
  const seedClient = new Client({ host: '127.0.0.1', uploadRateLimit: limit, dht: false });
  const client = new Client({ host: '127.0.0.1', dht: false });
  const seedPort = await seedClient.listen(0);
  await client.listen(0);
  const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
  await until(() => seed.state === 'seeding', 5000, 'seed ready');
  const original = await readFile(join(fx.dir, fx.name, 'video.webm'));
  const close = async () => {
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  };
  return { tmp, fx, seedClient, client, seedPort, original, close };
}

test('files: entries with name, path, length, offset, progress and priority', async () => {
  const s = await setup();
  try {
    const t = await s.client.addTorrent(s.fx.torrent, { savePath: join(s.tmp.path, 'l'), paused: true });
    const files = t.files;
    assert.deepEqual(
      files.map((f) => [f.name, f.path, f.length, f.offset]),
      [
        ['other.bin', 'data/other.bin', 500_003, 0],
        ['video.webm', 'data/video.webm', 3_000_000, 500_003],
      ],
    );
    assert.equal(files[0]!.progress, 0);
    assert.equal(files[1]!.priority, 1);
    files[1]!.deselect();
    assert.deepEqual(t.filePriorities, [1, 0]);
    files[1]!.select(5);
    assert.equal(files[1]!.priority, 5);
    assert.deepEqual(t.filePriorities, [1, 5]);
  } finally {
    await s.close();
  }
});

test('reader: starts in the middle of a skipped file before its data exists; window released on destroy', async () => {
  const s = await setup(2_000_000);
  try {
    const t = await s.client.addTorrent(s.fx.torrent, {
      savePath: join(s.tmp.path, 'l'),
      filePriorities: [0, 0],
    });
    await until(() => t.state === 'downloading', 5000, 'leech ready');
    t.addPeer('127.0.0.1', s.seedPort);
    const file = t.files[1]!;
    const start = 1_234_567;
    const end = start + 200_000;
    const reader = file.createReadStream({ start, end, readahead: 4 * pieceLength });
    assert.equal(file.downloaded, 0, 'nothing exists yet');
    const parts: Buffer[] = [];
    for await (const c of reader) parts.push(c as Buffer);
    assert.ok(Buffer.concat(parts).equals(s.original.subarray(start, end + 1)), 'exact bytes');
    assert.equal(t.deadlines.size, 0, 'window released at the end');
    // Only the pieces read (plus at most the window) were fetched: nothing else is wanted.
    const firstPiece = Math.floor((file.offset + start) / pieceLength);
    const lastPiece = Math.floor((file.offset + end) / pieceLength);
    for (const p of t.have.indices())
      assert.ok(p >= firstPiece && p <= lastPiece + 4, `piece ${p} outside ${firstPiece}..${lastPiece}`);
    assert.ok(file.downloaded > 0 && file.progress < 0.2);

    // A reader destroyed while it waits (paused: nothing arrives) releases its window.
    t.pause();
    const late = file.createReadStream({ start: 2_900_000 });
    late.resume();
    await until(() => t.deadlines.size > 0, 5000, 'window set');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(t.deadlines.size > 0 && late.position === 2_900_000, 'still waiting');
    late.destroy();
    assert.equal(t.deadlines.size, 0);
    assert.equal(t.deadlines.owners, 0);
  } finally {
    await s.close();
  }
});

test('reader: two readers at once (two files, two positions), web stream, magnet waits for metadata', async () => {
  const s = await setup(4_000_000);
  try {
    const magnet = buildMagnet({ infoHash: s.fx.metainfo.infoHash, name: s.fx.name });
    const t = await s.client.addTorrent(magnet, { savePath: join(s.tmp.path, 'l') });
    t.addPeer('127.0.0.1', s.seedPort);
    if (!t.hasMetadata) await new Promise((r) => t.once('metadata', r));
    const [other, video] = t.files;
    const read = async (r: AsyncIterable<unknown>): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
      return Buffer.concat(parts);
    };
    const otherBytes = await readFile(join(s.fx.dir, s.fx.name, 'other.bin'));
    const [a, b, c] = await Promise.all([
      read(video!.createReadStream({ start: 2_000_000, end: 2_099_999 })),
      read(video!.stream({ start: 10, end: 99_999 })),
      read(other!.createReadStream({ start: 400_000 })),
    ]);
    assert.ok(a.equals(s.original.subarray(2_000_000, 2_100_000)));
    assert.ok(b.equals(s.original.subarray(10, 100_000)));
    assert.ok(c.equals(otherBytes.subarray(400_000)));
    assert.equal(t.deadlines.owners, 0);
  } finally {
    await s.close();
  }
});

test('reader: after a restart, data on disk is read without peers', async () => {
  const s = await setup();
  try {
    const save = join(s.tmp.path, 'l');
    const t = await s.client.addTorrent(s.fx.torrent, { savePath: save });
    t.addPeer('127.0.0.1', s.seedPort);
    await until(() => t.state === 'seeding', 20_000, 'download');
    await s.client.close();
    const again = new Client({ host: '127.0.0.1', dht: false });
    try {
      const t2 = await again.addTorrent(s.fx.torrent, { savePath: save });
      await until(() => t2.state === 'seeding', 10_000, 'check');
      const got = await t2.files[1]!.arrayBuffer({ start: 2_999_000 });
      assert.ok(got.equals(s.original.subarray(2_999_000)));
      // An empty range ends at once.
      assert.equal((await t2.files[1]!.arrayBuffer({ start: 5, end: 4 })).length, 0);
    } finally {
      await again.close();
    }
  } finally {
    await s.close();
  }
});
