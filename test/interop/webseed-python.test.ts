/**
 * Web seeds against Python's `http.server` (3.11 ignores Range and answers 200 with the whole
 * file): a small torrent still completes (each transfer skips the bytes before its range, a
 * bounded amount, and stops reading once it has them), and a file too large to skip through is
 * refused with WEBSEED_NO_RANGES and the seed dropped, never read in full over and over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { createTorrent } from '../../src/metainfo/create.js';
import type { WebSeedErrorInfo } from '../../src/torrent/web-seed.js';
import { cleanupStack, type Defer } from '../helpers/cleanup.js';
import { waitForPort } from '../helpers/opentracker.js';
import { freePort, seededBytes, tempDir } from '../helpers/tmp.js';
import { done, until } from './tracker-swarm.js';

async function pythonServer(defer: Defer, dir: string): Promise<string> {
  const port = await freePort();
  const proc = spawn(
    '/usr/bin/python3',
    ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', dir, String(port)],
    {
      stdio: 'ignore',
    },
  );
  defer(() => {
    proc.kill('SIGKILL');
  });
  await waitForPort('127.0.0.1', port, 10_000);
  return `http://127.0.0.1:${port}`;
}

async function setup(defer: Defer, size: number): Promise<{ dir: string; data: Buffer; origin: string }> {
  const tmp = await tempDir('nbt-webseed-py-');
  defer(() => tmp.cleanup());
  await mkdir(join(tmp.path, 'www'));
  const data = seededBytes(size, 21);
  await writeFile(join(tmp.path, 'www', 'p.bin'), data);
  return { dir: tmp.path, data, origin: await pythonServer(defer, join(tmp.path, 'www')) };
}

test('python http.server (no Range support): a small torrent completes from its 200 answers', async (t) => {
  const defer = cleanupStack(t);
  const { dir, data, origin } = await setup(defer, 1_500_000);
  const { torrent: bytes } = await createTorrent(join(dir, 'www', 'p.bin'), {
    pieceLength: 64 * 1024,
    webSeeds: [`${origin}/p.bin`],
  });
  const client = new Client({ host: '127.0.0.1', trackers: false, dht: false, pex: false });
  defer(() => client.close());
  const torrent = await client.addTorrent(bytes, { savePath: join(dir, 'dl') });
  await done(torrent, 30_000);
  assert.ok((await readFile(join(dir, 'dl', 'p.bin'))).equals(data));
  assert.equal(torrent.stats().hashFailures, 0);
});

test('python http.server: past the skip limit the seed is refused (WEBSEED_NO_RANGES), not read again and again', async (t) => {
  const defer = cleanupStack(t);
  const { dir, origin } = await setup(defer, 12 * 1024 * 1024);
  const { torrent: bytes } = await createTorrent(join(dir, 'www', 'p.bin'), {
    pieceLength: 256 * 1024,
    webSeeds: [`${origin}/p.bin`],
  });
  const client = new Client({ host: '127.0.0.1', trackers: false, dht: false, pex: false });
  defer(() => client.close());
  const torrent = await client.addTorrent(bytes, { savePath: join(dir, 'dl') });
  const errs: WebSeedErrorInfo[] = [];
  torrent.on('web-seed-error', (e) => errs.push(e));
  await until(() => errs.some((e) => e.dropped), 20_000, 'the seed dropped');
  assert.equal(errs.at(-1)!.code, 'WEBSEED_NO_RANGES');
  assert.equal(torrent.webSeeds[0]!.state, 'dropped');
  // What it did deliver (ranges near the start of the file) was good data.
  assert.equal(torrent.stats().hashFailures, 0);
  assert.ok(torrent.webSeeds[0]!.downloaded < 12 * 1024 * 1024);
  assert.equal(torrent.complete, false);
});
