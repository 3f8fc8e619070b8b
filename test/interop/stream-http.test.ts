/**
 * The stream server against real HTTP clients while the torrent downloads from a rate-limited
 * seed: curl ranges (start, middle, end, suffix, open, invalid, unsatisfiable, multi) compared
 * byte for byte, HEAD / 404 / 405 / traversal attempts, index page and playlist, CORS; aria2c
 * with several connections fetches the whole file over ranges, identical; hundreds of concurrent
 * requests, most dropped mid-body, leave no stream or window behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client } from '../../src/client/index.js';
import { filePath } from '../../src/stream/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, until } from '../unit/client/fixtures.js';
import { requirePeer } from '../helpers/real-peers.js';

const SIZE = 6_000_000;

async function setup(uploadRateLimit: number) {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'clip.webm', size: SIZE },
      { path: 'notes.txt', size: 1000 },
    ],
    pieceLength: 64 * 1024,
  });
  const seedClient = new Client({ host: '127.0.0.1', uploadRateLimit, dht: false });
  const client = new Client({ host: '127.0.0.1', dht: false });
  const seedPort = await seedClient.listen(0);
  await client.listen(0);
  const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
  await until(() => seed.state === 'seeding', 5000, 'seed ready');
  const t = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
  t.addPeer('127.0.0.1', seedPort);
  const server = t.createServer({ cors: '*' });
  await new Promise<void>((r) => server.listen(0, r));
  const addr = server.address() as AddressInfo;
  assert.equal(addr.address, '127.0.0.1', 'a bare port binds to loopback');
  const original = await readFile(join(fx.dir, fx.name, 'clip.webm'));
  const file = t.files.find((f) => f.name === 'clip.webm')!;
  const url = `http://127.0.0.1:${addr.port}${filePath(t, file)}`;
  const close = async () => {
    await new Promise((r) => server.close(r));
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  };
  return { tmp, t, server, addr, original, url, close };
}

function curl(args: string[]): Promise<{ status: number; body: Buffer; headers: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-s', '-i', '--max-time', '60', ...args],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        if (err) return reject(err);
        const split = stdout.indexOf('\r\n\r\n');
        const headers = stdout.subarray(0, split < 0 ? stdout.length : split).toString('latin1');
        const body = split < 0 ? Buffer.alloc(0) : stdout.subarray(split + 4);
        const status = Number(/^HTTP\/[\d.]+ (\d+)/m.exec(headers)?.[1] ?? 0);
        resolve({ status, body, headers });
      },
    );
  });
}

test('stream server: curl ranges while downloading, byte for byte', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const s = await setup(3_000_000);
  try {
    assert.ok(!s.t.finished, 'still downloading');
    const L = SIZE;
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=3000000-3065535', 3_000_000, 3_065_535],
      [`bytes=${L - 10}-${L - 1}`, L - 10, L - 1],
      ['bytes=-1000', L - 1000, L - 1],
      [`bytes=${L - 70000}-`, L - 70000, L - 1],
      [`bytes=${L - 5}-${L + 100}`, L - 5, L - 1],
      ['bytes=100-199,5000-5999', 100, 199],
    ];
    for (const [range, a, b] of cases) {
      const r = await curl(['-H', `Range: ${range}`, s.url]);
      assert.equal(r.status, 206, range);
      assert.match(r.headers, new RegExp(`Content-Range: bytes ${a}-${b}/${L}`, 'i'), range);
      assert.ok(r.body.equals(s.original.subarray(a, b + 1)), `${range}: bytes differ`);
    }
    const bad = await curl(['-H', 'Range: bytes=abc', s.url]);
    assert.equal(bad.status, 200, 'a malformed range is ignored');
    assert.ok(bad.body.equals(s.original));
    const unsat = await curl(['-H', `Range: bytes=${L}-`, s.url]);
    assert.equal(unsat.status, 416);
    assert.match(unsat.headers, new RegExp(`Content-Range: bytes \\*/${L}`, 'i'));

    const head = await curl(['-I', s.url]);
    assert.equal(head.status, 200);
    assert.match(head.headers, /Accept-Ranges: bytes/i);
    assert.match(head.headers, new RegExp(`Content-Length: ${L}`, 'i'));
    assert.match(head.headers, /Content-Type: video\/webm/i);
    assert.match(head.headers, new RegExp(`ETag: "${s.t.infoHashHex}-\\d+"`, 'i'));
    assert.match(head.headers, /Access-Control-Allow-Origin: \*/i);
    const etag = /ETag: (\S+)/i.exec(head.headers)![1]!;
    assert.equal((await curl(['-H', `If-None-Match: ${etag}`, s.url])).status, 304);
    const stale = await curl(['-H', 'If-Range: "other"', '-H', 'Range: bytes=0-9', s.url]);
    assert.equal(stale.status, 200, 'If-Range with another ETag: the whole file');

    const base = `http://127.0.0.1:${s.addr.port}`;
    assert.equal((await curl(['-X', 'POST', s.url])).status, 405);
    assert.equal((await curl([`${base}/${s.t.infoHashHex}/nope`])).status, 404);
    for (const evil of [
      `/${s.t.infoHashHex}/../../etc/passwd`,
      `/${s.t.infoHashHex}/data/..%2f..%2f..%2fetc%2fpasswd`,
      `/${s.t.infoHashHex}/%2e%2e/%2e%2e/etc/passwd`,
      `/${s.t.infoHashHex}/%E0%A4%A`,
      '/etc/passwd',
    ]) {
      const r = await curl(['--path-as-is', base + evil]);
      assert.equal(r.status, 404, evil);
    }
    const index = await curl([base + '/']);
    assert.equal(index.status, 200);
    assert.ok(index.body.toString().includes(`href="${filePath(s.t, s.t.files[0]!)}"`));
    assert.ok(index.body.toString().includes('notes.txt'));
    const m3u = await curl([base + '/playlist.m3u']);
    assert.match(m3u.body.toString(), new RegExp(`^#EXTM3U\\n#EXTINF:-1,data/clip.webm\\n${s.url}\\n`));
  } finally {
    await s.close();
  }
});

test('stream server: aria2c with several connections downloads the whole file, identical', async (t) => {
  if (!requirePeer(t, 'aria2')) return;
  const s = await setup(4_000_000);
  try {
    const out = join(s.tmp.path, 'aria');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'aria2c',
        [
          '-q',
          '-x4',
          '-s4',
          '-k1M',
          '--file-allocation=none',
          '--allow-overwrite=true',
          '-d',
          out,
          '-o',
          'got.webm',
          s.url,
        ],
        { timeout: 90_000 },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    assert.ok((await readFile(join(out, 'got.webm'))).equals(s.original));
    await until(() => s.server.openStreams === 0, 5000, 'streams closed');
    assert.equal(s.t.deadlines.owners, 0);
  } finally {
    await s.close();
  }
});

test('stream server: hundreds of concurrent requests dropped mid-body leak no stream or window', async () => {
  const s = await setup(1_500_000);
  try {
    const url = new URL(s.url);
    const one = (i: number) =>
      new Promise<void>((resolve) => {
        const start = (i * 29_989) % (SIZE - 1);
        const req = request(
          { host: url.hostname, port: url.port, path: url.pathname, headers: { Range: `bytes=${start}-` } },
          (res) => {
            let got = 0;
            res.on('data', (c: Buffer) => {
              got += c.length;
              // Most clients hang up mid-body; every tenth reads a little and hangs up too.
              if (got > 1000) req.destroy();
            });
            res.on('close', resolve);
          },
        );
        req.on('error', () => resolve());
        // Some give up before any byte arrives.
        if (i % 3 === 0) setTimeout(() => req.destroy(), 5 + (i % 50));
        req.end();
      });
    await Promise.all(Array.from({ length: 300 }, (_, i) => one(i)));
    await until(() => s.server.openStreams === 0, 10_000, 'every stream closed');
    assert.equal(s.t.deadlines.owners, 0, 'every window released');
    assert.equal(s.t.deadlines.size, 0);
  } finally {
    await s.close();
  }
});
