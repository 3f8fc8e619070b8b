/** Real .torrent files for the metainfo seeds: made by our creator from small files on disk. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorrent } from '../../src/metainfo/index.js';

export async function sampleTorrents(): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'nbt-fuzz-seeds-'));
  try {
    await writeFile(join(dir, 'one.bin'), Buffer.alloc(40_000, 7));
    await mkdir(join(dir, 'tree', 'sub'), { recursive: true });
    await writeFile(join(dir, 'tree', 'a'), Buffer.alloc(100, 1));
    await writeFile(join(dir, 'tree', 'sub', 'b'), Buffer.alloc(70_000, 2));
    await writeFile(join(dir, 'tree', 'empty'), Buffer.alloc(0));
    const out: Buffer[] = [];
    for (const version of [1, 2, 'hybrid'] as const)
      for (const path of ['one.bin', 'tree'])
        out.push(
          (
            await createTorrent(join(dir, path), {
              version,
              pieceLength: 16384,
              trackers: [['http://127.0.0.1:1/announce', 'udp://127.0.0.1:3']],
              webSeeds: ['http://127.0.0.1:2/'],
              comment: 'fuzz seed',
            })
          ).torrent,
        );
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
