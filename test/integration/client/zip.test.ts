/**
 * Zip blocklists: the one file of an archive made by Info-ZIP's `zip` (deflate and stored),
 * bounded (a bomb, sizes that lie, zip64, encryption are BLOCKLIST_BAD), and a fuzz of
 * mutated archives that only ever returns the file or throws BLOCKLIST_BAD.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isZip, unzipSingle } from '../../../src/client/zip.js';
import { inflateBlocklist, parseBlocklist } from '../../../src/client/blocklist.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/prng.js';
import { tempDir } from '../../helpers/tmp.js';

const DAT = Array.from(
  { length: 500 },
  (_, i) =>
    `010.${String(i >> 8).padStart(3, '0')}.${String(i & 255).padStart(3, '0')}.000 - 010.${i >> 8}.${i & 255}.255 , 000 , range ${i}`,
).join('\r\n');

async function zipWith(args: string[], files: Record<string, string>): Promise<Buffer> {
  const dir = await tempDir('nbt-zip-');
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir.path, name, '..'), { recursive: true });
      await writeFile(join(dir.path, name), text);
    }
    execFileSync('zip', ['-q', '-X', ...args, 'out.zip', ...Object.keys(files)], { cwd: dir.path });
    return await readFile(join(dir.path, 'out.zip'));
  } finally {
    await dir.cleanup();
  }
}

test('Info-ZIP archives: deflate and stored, the first file (after a directory entry)', async () => {
  const deflated = await zipWith([], { 'level1.dat': DAT });
  assert.ok(isZip(deflated));
  assert.ok(deflated.length < DAT.length / 2, 'it is compressed');
  const one = unzipSingle(deflated, 1 << 20);
  assert.equal(one.name, 'level1.dat');
  assert.equal(one.data.toString(), DAT);
  const stored = await zipWith(['-0'], { 'list.p2p': 'a:1.2.3.4-1.2.3.9\n' });
  assert.equal(unzipSingle(stored, 1 << 20).data.toString(), 'a:1.2.3.4-1.2.3.9\n');
  const withDir = await zipWith(['-r'], { 'lists/bt.dat': DAT });
  assert.equal(unzipSingle(withDir, 1 << 20).name, 'lists/bt.dat');
  // Through the blocklist path: 500 ranges.
  assert.equal(parseBlocklist(inflateBlocklist(deflated).toString('latin1')).ranges.length, 500);
});

test('bounds: a zip bomb, a size that lies, zip64 markers, encryption, truncation are BLOCKLIST_BAD', async () => {
  const bomb = await zipWith([], { 'zeros.dat': '0'.repeat(4 << 20) });
  assert.ok(bomb.length < 64 * 1024);
  assert.throws(() => unzipSingle(bomb, 1 << 20), { code: 'BLOCKLIST_BAD' });
  const good = await zipWith([], { 'a.dat': DAT });
  const cd = good.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const lying = Buffer.from(good);
  lying.writeUInt32LE(10, cd + 24); // uncompressed size smaller than the data
  assert.throws(() => unzipSingle(lying, 1 << 20), { code: 'BLOCKLIST_BAD' });
  const zip64 = Buffer.from(good);
  zip64.writeUInt32LE(0xffffffff, cd + 20);
  assert.throws(() => unzipSingle(zip64, 1 << 20), { code: 'BLOCKLIST_BAD' });
  const encrypted = Buffer.from(good);
  encrypted.writeUInt16LE(1, cd + 8);
  assert.throws(() => unzipSingle(encrypted, 1 << 20), { code: 'BLOCKLIST_BAD' });
  const crc = Buffer.from(good);
  crc.writeUInt32LE((crc.readUInt32LE(cd + 16) ^ 1) >>> 0, cd + 16);
  assert.throws(() => unzipSingle(crc, 1 << 20), { code: 'BLOCKLIST_BAD' });
  for (const n of [4, 30, cd, good.length - 1])
    assert.throws(() => unzipSingle(good.subarray(0, n), 1 << 20), { code: 'BLOCKLIST_BAD' }, `cut at ${n}`);
});

test('fuzz: mutated and truncated archives give the file or BLOCKLIST_BAD, nothing else', async () => {
  const good = await zipWith([], { 'a.dat': DAT.slice(0, 4000) });
  const rnd = prng(77);
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(good);
    for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--)
      b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const cut = rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
    try {
      const out = unzipSingle(cut, 8000);
      assert.ok(out.data.length <= 8000);
    } catch (e) {
      assert.ok(e instanceof NbtError && e.code === 'BLOCKLIST_BAD', String(e));
    }
  }
});
