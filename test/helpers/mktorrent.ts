/**
 * Test content and its .torrent made by the reference creator (mktorrent), so interop tests use
 * metainfo that no code of ours produced.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseTorrent, type Metainfo } from '../../src/metainfo/index.js';
import { seededBytes } from './tmp.js';

export interface MadeTorrent {
  torrentPath: string;
  /** Directory that holds the content (the save path / download dir for a seed). */
  dataDir: string;
  /** File or folder name inside dataDir. */
  name: string;
  infoHashHex: string;
  metainfo: Metainfo;
}

export interface MakeTorrentOptions {
  /** Announce URL written into the torrent. */
  announce: string;
  /** Single-file size in bytes (default 4 MiB). */
  size?: number;
  /** log2 of the piece length (default 18 = 256 KiB). */
  pieceLog2?: number;
  seed?: number;
  name?: string;
}

/** Writes seeded random content into `dir`/data/<name> and a torrent `dir`/<name>.torrent. */
export async function makeTorrent(dir: string, o: MakeTorrentOptions): Promise<MadeTorrent> {
  const name = o.name ?? 'payload.bin';
  const dataDir = join(dir, 'data');
  const file = join(dataDir, name);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, seededBytes(o.size ?? 4 << 20, o.seed ?? 7));
  const torrentPath = join(dir, `${name}.torrent`);
  const r = spawnSync(
    'mktorrent',
    ['-l', String(o.pieceLog2 ?? 18), '-a', o.announce, '-o', torrentPath, file],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`mktorrent failed: ${r.stderr || r.error?.message}`);
  const metainfo = parseTorrent(await readFile(torrentPath));
  return { torrentPath, dataDir, name, infoHashHex: metainfo.infoHashHex, metainfo };
}
