/**
 * BEP 17 HTTP seeds (`httpseeds`) against a seed script server (test/peers/httpseed.py, the role
 * of DeHackEd's seed.php): a multi-file torrent with no peers completes from it, asking one piece
 * (with its byte ranges) per request; a 503 whose body says how long to wait is honoured.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { createTorrent, parseTorrent } from '../../src/metainfo/index.js';
import { decode, encode, type BDict } from '../../src/bencode/index.js';
import type { WebSeedErrorInfo } from '../../src/torrent/web-seed.js';
import { cleanupStack, type Defer } from '../helpers/cleanup.js';
import { waitForPort } from '../helpers/opentracker.js';
import { peersDir } from '../helpers/real-peers.js';
import { freePort, seededBytes, tempDir } from '../helpers/tmp.js';
import { done, until } from './tracker-swarm.js';

async function fixture(t: TestContext, defer: Defer, extra: string[] = []) {
  const tmp = await tempDir('nbt-httpseed-');
  defer(() => tmp.cleanup());
  const top = join(tmp.path, 'src', 'hs');
  await mkdir(join(top, 'sub'), { recursive: true });
  const files: [string, Buffer][] = [
    ['a.bin', seededBytes(200_000, 3)],
    [join('sub', 'b.bin'), seededBytes(333_333, 4)],
  ];
  for (const [p, d] of files) await writeFile(join(top, p), d);
  const { torrent, metainfo } = await createTorrent(top, { pieceLength: 32 * 1024 });
  const port = await freePort();
  const proc = spawn(
    '/usr/bin/python3',
    [
      join(peersDir, 'httpseed.py'),
      String(port),
      metainfo.infoHashHex,
      String(metainfo.pieceLength),
      ...metainfo.files.map((f) => join(tmp.path, 'src', ...f.path)),
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  defer(() => proc.kill('SIGKILL'));
  await waitForPort('127.0.0.1', port, 10_000);
  // httpseeds is outside the info dictionary: add it without changing the info-hash.
  const root = decode(torrent) as BDict;
  root['httpseeds'] = [Buffer.from(`http://127.0.0.1:${port}/seed`)];
  const withSeed = encode(root);
  assert.equal(parseTorrent(withSeed).infoHashHex, metainfo.infoHashHex);
  t.diagnostic(`seed script on ${port}`);
  return { dir: tmp.path, files, torrent: withSeed, url: `http://127.0.0.1:${port}/seed` };
}

function client(defer: Defer): Client {
  const c = new Client({ host: '127.0.0.1', trackers: false, dht: false, pex: false });
  defer(() => c.close());
  return c;
}

test('a torrent with only a BEP 17 HTTP seed completes from the seed script', async (t) => {
  const defer = cleanupStack(t);
  const fx = await fixture(t, defer);
  assert.deepEqual(parseTorrent(fx.torrent).httpSeeds, [fx.url]);
  const torrent = await client(defer).addTorrent(fx.torrent, { savePath: join(fx.dir, 'dl') });
  assert.deepEqual(
    torrent.webSeeds.map((w) => [w.url, w.kind]),
    [[fx.url, 'httpseed']],
  );
  await done(torrent, 20_000);
  for (const [p, d] of fx.files) assert.ok((await readFile(join(fx.dir, 'dl', 'hs', p))).equals(d), p);
  const st = torrent.stats();
  assert.equal(st.peers.total, 0);
  assert.equal(st.hashFailures, 0);
  assert.equal(st.webSeeds[0]!.downloaded, 533_333);
});

test('a BEP 17 503 body says how long to wait, and the seed waits that long', async (t) => {
  const defer = cleanupStack(t);
  const fx = await fixture(t, defer, ['--busy', '1', '--wait', '2']);
  const torrent = await client(defer).addTorrent(fx.torrent, { savePath: join(fx.dir, 'dl') });
  const errs: WebSeedErrorInfo[] = [];
  torrent.on('web-seed-error', (e) => errs.push(e));
  await until(() => errs.length > 0, 10_000, 'a 503');
  const at = Date.now();
  assert.deepEqual(
    [errs[0]!.code, errs[0]!.retryInMs, errs[0]!.dropped],
    ['WEBSEED_UNAVAILABLE', 2000, false],
  );
  await done(torrent, 20_000);
  assert.ok(Date.now() - at >= 1900, 'waited as the body said');
  assert.equal(errs.length, 1);
});
