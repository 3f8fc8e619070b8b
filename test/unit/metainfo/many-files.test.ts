/**
 * Memory of a torrent with very many files (issue 18, item 8): the parse's peak and what each
 * parsed file keeps, measured in a child process of its own (its peak RSS is its own; the heap
 * after a full GC is what the Metainfo holds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '../../../src/bencode/index.js';
import { tempDir } from '../../helpers/tmp.js';

const FILES = 200_000;

function manyFileTorrent(n: number): Buffer {
  const files = [];
  for (let i = 0; i < n; i++) files.push({ length: 1000 + (i % 7), path: [`dir${i % 100}`, `file${i}.txt`] });
  const total = files.reduce((s, f) => s + f.length, 0);
  const pieceLength = 262_144;
  const pieces = Buffer.alloc(Math.ceil(total / pieceLength) * 20, 1);
  return encode({
    announce: 'http://t/a',
    info: { name: 'many', 'piece length': pieceLength, pieces, files },
  });
}

const child = `
const { parseTorrent } = await import(process.argv[1]);
const { readFileSync } = await import('node:fs');
const b = readFileSync(process.argv[2]);
gc();
const base = process.memoryUsage().rss;
const heap0 = process.memoryUsage().heapUsed;
const m = parseTorrent(b);
gc();
const heap1 = process.memoryUsage().heapUsed;
const { FileStorage } = await import(process.argv[3]);
const storage = new FileStorage(m, process.argv[4]);
gc();
const storageBytes = process.memoryUsage().heapUsed - heap1;
process.stdout.write(JSON.stringify({
  path: storage.filePath(12345),
  storageBytesPerFile: storageBytes / m.files.length,
  files: m.files.length,
  name: m.files[12345].name,
  peakMB: (process.resourceUsage().maxRSS * 1024 - base) / 1e6,
  bytesPerFile: (heap1 - heap0) / m.files.length,
}));
`;

test(`a ${FILES}-file torrent (9 MiB) parses with a bounded peak and under 245 heap bytes a file; its FileStorage adds < 20`, async () => {
  const tmp = await tempDir('nbt-many-files-');
  try {
    const file = join(tmp.path, 'many.torrent');
    await writeFile(file, manyFileTorrent(FILES));
    const parser = new URL('../../../src/metainfo/index.js', import.meta.url).href;
    const storage = new URL('../../../src/storage/file-storage.js', import.meta.url).href;
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', child, parser, file, storage, join(tmp.path, 'save')],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as {
      files: number;
      name: string;
      peakMB: number;
      bytesPerFile: number;
      path: string;
      storageBytesPerFile: number;
    };
    assert.equal(m.files, FILES);
    assert.equal(m.name, 'many/dir45/file12345.txt');
    // Before the files list was decoded an entry at a time: 236 MB peak, 255 bytes a file.
    assert.ok(m.peakMB < 170, `parse peak ${m.peakMB.toFixed(0)} MB above the start`);
    assert.ok(m.bytesPerFile < 245, `${m.bytesPerFile.toFixed(0)} heap bytes a parsed file`);
    // The file storage joins paths when it needs them (before: an absolute path per file, 80 bytes).
    assert.equal(m.path, join(tmp.path, 'save', 'many', 'dir45', 'file12345.txt'));
    assert.ok(m.storageBytesPerFile < 20, `file storage: ${m.storageBytesPerFile.toFixed(0)} bytes a file`);
  } finally {
    await tmp.cleanup();
  }
});
