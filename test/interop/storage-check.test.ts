import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTorrent } from '../../src/metainfo/index.js';
import { HashPool } from '../../src/hash/index.js';
import { checkStorage, FileStorage } from '../../src/storage/index.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { prng, seededBytes, tempDir } from '../helpers/tmp.js';

test('storage maps pieces onto files exactly as mktorrent and libtorrent do', async (t) => {
  if (!requirePeer(t, 'mktorrent')) return;
  if (!requirePeer(t, 'libtorrent')) return;
  const dir = await tempDir();
  const pool = new HashPool({ threads: 2 });
  t.after(async () => {
    await pool.close();
    await dir.cleanup();
  });
  // Odd sizes so pieces straddle files; nested folders.
  const src = join(dir.path, 'src');
  const files: [string, number][] = [
    ['album/01.bin', 100_003],
    ['album/cover/x.bin', 1],
    ['album/z.bin', 777_777],
    ['album/b.bin', 65_536],
  ];
  for (const [i, [name, size]] of files.entries()) {
    const path = join(src, name);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, seededBytes(size, i + 10));
  }
  const torrentPath = join(dir.path, 't.torrent');
  const mk = spawnSync('mktorrent', ['-l', '15', '-o', torrentPath, join(src, 'album')], {
    encoding: 'utf8',
  });
  assert.equal(mk.status, 0, mk.stderr);
  const meta = parseTorrent(await readFile(torrentPath));
  assert.ok(meta.multiFile && meta.pieceCount > 20);

  // 1. Our check of mktorrent's input finds every piece.
  const original = new FileStorage(meta, src);
  assert.equal((await checkStorage(original, (i) => meta.pieceHash(i), { pool })).count, meta.pieceCount);

  // 2. Writing the same bytes piece by piece, in random order, as vectors of 16 KiB blocks,
  //    produces files identical to the originals, and libtorrent's check agrees.
  const out = join(dir.path, 'out');
  const copy = new FileStorage(meta, out, { maxOpenFiles: 2 });
  const order = Array.from({ length: meta.pieceCount }, (_, i) => i);
  const rnd = prng(5);
  order.sort(() => rnd() - 0.5);
  for (const p of order) {
    const size = meta.pieceSize(p);
    const piece = await original.read(p, 0, size);
    const blocks: Buffer[] = [];
    for (let o = 0; o < size; o += 16384) blocks.push(piece.subarray(o, o + 16384));
    await copy.write(p, 0, blocks);
  }
  await copy.flush();
  for (const [name] of files)
    assert.deepEqual(await readFile(join(out, name)), await readFile(join(src, name)), name);
  const lt = new LtPeer('check', torrentPath, out);
  try {
    const done = await lt.waitFor('done', 30_000);
    assert.equal(done.progress, 1);
  } finally {
    await lt.kill();
  }

  // 3. One flipped byte fails exactly the piece that holds it.
  const z = meta.files.find((f) => f.name === 'album/z.bin')!;
  const at = z.offset + 5000;
  const fh = await open(join(out, 'album', 'z.bin'), 'r+');
  await fh.write(Buffer.from([0xff ^ (await readFile(join(out, 'album', 'z.bin')))[5000]!]), 0, 1, 5000);
  await fh.close();
  const have = await checkStorage(copy, (i) => meta.pieceHash(i), { pool });
  assert.equal(have.count, meta.pieceCount - 1);
  assert.equal(have.has(Math.floor(at / meta.pieceLength)), false);
  await copy.close();
  await original.close();
});
