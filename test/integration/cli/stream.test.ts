/**
 * `nbt stream` as a child process of the built CLI against a rate-limited seed in this process:
 * it prints the file's URL, serves ranges of it while downloading (byte for byte), the index page
 * links every file, and Ctrl-C stops it with exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { cleanupStack } from '../../helpers/cleanup.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';
import { NbtChild } from '../../unit/cli/nbt-child.js';

function fetchBytes(url: string, range?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers: range ? { Range: range } : {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
    }).on('error', reject);
  });
}

test('nbt stream: prints the URL, serves ranges while downloading, index page, Ctrl-C exits 0', async (t) => {
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-cli-stream-');
  defer(() => tmp.cleanup());
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.txt', size: 10_000 },
      { path: 'movie.webm', size: 4_000_000 },
    ],
    pieceLength: 64 * 1024,
  });
  const seedClient = new Client({
    host: '127.0.0.1',
    uploadRateLimit: 1_000_000,
    dht: false,
    trackers: false,
  });
  defer(() => seedClient.close());
  const seedPort = await seedClient.listen(0);
  const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
  await until(() => seed.state === 'seeding', 5000, 'seed ready');

  const child = new NbtChild(
    [
      'stream',
      fx.torrentPath,
      '--port',
      '0',
      '--listen-port',
      '0',
      '--file',
      '1',
      '-o',
      join(tmp.path, 'out'),
      '--peer',
      `127.0.0.1:${seedPort}`,
      '--no-dht',
      '--json',
    ],
    60_000,
  );
  defer(() => child.kill());
  const serving = await child.waitFor((l) => l.event === 'serving');
  const url = String(serving['url']);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{40}\/data\/movie\.webm$/);
  const original = await readFile(join(fx.dir, fx.name, 'movie.webm'));
  const mid = await fetchBytes(url, 'bytes=2000000-2099999');
  assert.equal(mid.status, 206);
  assert.ok(mid.body.equals(original.subarray(2_000_000, 2_100_000)), 'middle range');
  const tail = await fetchBytes(url, 'bytes=-5000');
  assert.ok(tail.body.equals(original.subarray(original.length - 5000)), 'suffix range');
  const index = await fetchBytes(new URL('/', url).href);
  assert.match(index.body.toString(), /data\/a\.txt/);
  assert.match(index.body.toString(), /data\/movie\.webm/);
  child.proc.kill('SIGINT');
  assert.equal(await child.exit, 0, child.tail());
});
