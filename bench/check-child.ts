/**
 * Child process for bench/check.bench.ts: hash-checks DIR against a single- or multi-file
 * TORRENT with FileStorage + checkStorage on the shared hash pool and prints
 * {"event":"done","seconds":…,"pieces":…,"good":…}.
 * Usage: node dist/bench/check-child.js TORRENT DIR
 */
import { readFile } from 'node:fs/promises';
import { decode, dictGet, isBytes, isDict, isInt } from '../src/bencode/index.js';
import { checkStorage, FileStorage, makeLayout } from '../src/storage/index.js';
import { sharedHashPool } from '../src/hash/index.js';

const [torrentPath, dir] = process.argv.slice(2);
if (!torrentPath || !dir) throw new Error('usage: check-child TORRENT DIR');
const root = decode(await readFile(torrentPath));
const info = isDict(root) ? dictGet(root, 'info') : undefined;
if (!isDict(info)) throw new Error('no info dict');
const name = dictGet(info, 'name');
const pl = dictGet(info, 'piece length');
const pieces = dictGet(info, 'pieces');
const length = dictGet(info, 'length');
if (!isBytes(name) || typeof pl !== 'number' || !isBytes(pieces) || !isInt(length))
  throw new Error('bench torrents are single-file');
const layout = makeLayout(pl, [{ path: [name.toString('utf8')], length: Number(length) }]);

const t0 = performance.now();
const storage = new FileStorage(layout, dir);
const have = await checkStorage(storage, pieces, { pool: sharedHashPool() });
const seconds = (performance.now() - t0) / 1000;
await storage.close();
process.stdout.write(
  JSON.stringify({ event: 'done', seconds, pieces: layout.pieceCount, good: have.count }) + '\n',
);
await sharedHashPool().close();
