/** BEP 52: a hybrid is announced to its trackers under both of its 20-byte names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from '../../unit/client/fixtures.js';

/** The raw bytes of `info_hash` in an announce URL (percent-decoded, latin1). */
function infoHashOf(url: string): string {
  const q = url.slice(url.indexOf('?') + 1);
  const raw = q
    .split('&')
    .find((p) => p.startsWith('info_hash='))!
    .slice('info_hash='.length);
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++)
    if (raw[i] === '%') {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(raw.charCodeAt(i));
  return Buffer.from(bytes).toString('hex');
}

test('a hybrid announces its v1 hash and its truncated v2 hash; a v1 torrent only its own', async () => {
  const tmp = await tempDir();
  const seen: string[] = [];
  const tracker = createServer((req, res) => {
    seen.push(infoHashOf(req.url ?? ''));
    res.end('d8:intervali1800e5:peers0:e');
  });
  tracker.listen(0, '127.0.0.1');
  await once(tracker, 'listening');
  const url = `http://127.0.0.1:${(tracker.address() as { port: number }).port}/announce`;
  const client = new Client({ host: '127.0.0.1', dht: false });
  try {
    await mkdir(join(tmp.path, 'd'));
    await writeFile(join(tmp.path, 'd', 'a'), seededBytes(50_000, 3));
    const opts = { pieceLength: 32768, date: false as const, trackers: [url] };
    const hybrid = await createTorrent(join(tmp.path, 'd'), { ...opts, version: 'hybrid' });
    const v1 = await createTorrent(join(tmp.path, 'd'), { ...opts, version: 1, name: 'other' });
    await client.listen(0);
    await client.addTorrent(hybrid.torrent, { savePath: join(tmp.path, 'x') });
    const names = [hybrid.metainfo.infoHashes.v1!, hybrid.metainfo.infoHashes.v2!.subarray(0, 20)].map((b) =>
      b.toString('hex'),
    );
    await until(() => names.every((n) => seen.includes(n)), 10_000, 'both names announced');
    await client.addTorrent(v1.torrent, { savePath: join(tmp.path, 'y') });
    await until(() => seen.includes(v1.metainfo.infoHashHex), 10_000, 'v1 announce');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(new Set(seen), new Set([...names, v1.metainfo.infoHashHex]));
  } finally {
    await client.close();
    tracker.close();
    await tmp.cleanup();
  }
});
