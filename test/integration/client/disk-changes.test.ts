/**
 * A seed whose file changes behind its back (issue 18, item 13): truncated, or overwritten in
 * place. The seed must never serve bytes that no longer verify: the piece is refused, the
 * user is told ('file-error'), the pieces of the file are checked again and what is gone is
 * downloaded again from another peer. Real files, real sockets, three Clients: A (the seed
 * whose file changes), B (a leech of A) and C (a second seed with an intact copy, added later).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, open, readFile, truncate, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { FileErrorInfo } from '../../../src/torrent/types.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

const PIECE = 32768;
const PIECES = 64;
const opts = {
  host: '127.0.0.1',
  encryption: 'disabled',
  trackers: false,
  dht: false,
  limits: { maxPerHost: 10 },
} as const;

async function scenario(change: (file: string) => Promise<void>, expectCode: string): Promise<void> {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'a'), {
    name: 'data',
    files: [{ path: 'f.bin', size: PIECES * PIECE }],
    pieceLength: PIECE,
    seed: 5,
  });
  const original = seededBytes(PIECES * PIECE, 5);
  const cDir = join(tmp.path, 'c');
  await cp(fx.dir, cDir, { recursive: true });
  const file = join(fx.dir, 'data', 'f.bin');
  const a = new Client(opts);
  const b = new Client(opts);
  const c = new Client(opts);
  try {
    const aPort = await a.listen(0);
    await b.listen(0);
    const cPort = await c.listen(0);
    const ta = await a.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => ta.state === 'seeding', 5000, 'A seeding');
    const fileErrors: FileErrorInfo[] = [];
    ta.on('file-error', (i) => fileErrors.push(i));
    const aErrors: Error[] = [];
    ta.on('error', (e) => aErrors.push(e));

    await change(file);
    const tb = await b.addTorrent(fx.torrent, {
      savePath: join(tmp.path, 'b'),
      peers: [{ host: '127.0.0.1', port: aPort }],
    });
    await until(() => fileErrors.length > 0, 10_000, 'A notices the change');
    assert.equal(fileErrors[0]!.code, expectCode);
    assert.equal(fileErrors[0]!.operation, 'upload');
    // A checks the file again and wants back what it lost.
    await until(() => ta.state === 'downloading', 10_000, 'A re-checked and is downloading');
    assert.ok(!ta.complete);
    assert.deepEqual(aErrors, [], 'no error state: the data is fetched again');

    const tc = await c.addTorrent(fx.torrent, { savePath: cDir });
    await until(() => tc.state === 'seeding', 5000, 'C seeding');
    ta.addPeer('127.0.0.1', cPort);
    tb.addPeer('127.0.0.1', cPort);
    await until(() => ta.state === 'seeding' && tb.state === 'seeding', 20_000, 'A and B complete');
    assert.ok((await readFile(file)).equals(original), "A's file is whole again");
    assert.ok((await readFile(join(tmp.path, 'b', 'data', 'f.bin'))).equals(original));
    assert.equal(tb.stats().hashFailures, 0, 'A never sent bytes that fail their hash');
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
    await tmp.cleanup();
  }
}

test('a seed whose file is overwritten in place never serves the changed piece; it re-checks and fetches it again', async () => {
  await scenario(async (file) => {
    const fh = await open(file, 'r+');
    await fh.write(Buffer.alloc(1000, 0xaa), 0, 1000, 5 * PIECE + 100);
    await fh.close();
    // A different mtime for certain (a write in the check's own millisecond keeps it).
    const later = new Date(Date.now() + 60_000);
    await utimes(file, later, later);
  }, 'STORAGE_DATA_CHANGED');
});

test('a seed whose file is truncated refuses what is gone, re-checks, and fetches it again', async () => {
  await scenario((file) => truncate(file, 10 * PIECE + 5), 'STORAGE_SHORT_READ');
});
