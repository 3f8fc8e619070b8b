/** Test data for engine tests: seeded files on disk and a torrent made from them. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createTorrent } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { seededBytes } from '../../helpers/tmp.js';

export interface FixtureFile {
  path: string;
  size: number;
}

export interface Fixture {
  /** Directory holding the torrent's top folder (the seed's save path). */
  dir: string;
  name: string;
  torrent: Buffer;
  torrentPath: string;
  metainfo: Metainfo;
  files: FixtureFile[];
}

/** A multi-file torrent `name` with the given files (seeded content) under `dir`. */
export async function makeFixture(
  dir: string,
  o: { name?: string; files?: FixtureFile[]; pieceLength?: number; seed?: number } = {},
): Promise<Fixture> {
  const name = o.name ?? 'data';
  const files = o.files ?? [
    { path: 'a.bin', size: 1_500_000 },
    { path: 'sub/b.bin', size: 700_001 },
    { path: 'sub/c.bin', size: 33 },
    { path: 'z.bin', size: 900_000 },
  ];
  let seed = o.seed ?? 7;
  for (const f of files) {
    const p = join(dir, name, f.path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, seededBytes(f.size, seed++));
  }
  const { torrent, metainfo } = await createTorrent(join(dir, name), {
    pieceLength: o.pieceLength ?? 64 * 1024,
    date: false,
  });
  const torrentPath = join(dir, `${name}.torrent`);
  await writeFile(torrentPath, torrent);
  return { dir, name, torrent, torrentPath, metainfo, files };
}

/** Asserts that every fixture file under `otherDir` equals the original. */
export async function sameFiles(fx: Fixture, otherDir: string): Promise<string[]> {
  const bad: string[] = [];
  for (const f of fx.files) {
    const a = await readFile(join(fx.dir, fx.name, f.path));
    const b = await readFile(join(otherDir, fx.name, f.path)).catch(() => Buffer.alloc(0));
    if (!a.equals(b)) bad.push(f.path);
  }
  return bad;
}

/** Resolves when `pred` holds, polling; rejects after `ms`. */
export async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
