/**
 * `nbt download` and `nbt seed` as child processes of the built CLI, against Clients in this
 * process (and a libtorrent seed): JSON lines, exit codes, resume after SIGINT, identical files.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import type { Torrent } from '../../../src/torrent/index.js';
import { cleanupStack } from '../../helpers/cleanup.js';
import { LtPeer, requirePeer } from '../../helpers/real-peers.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { NbtChild, type JsonLine } from '../../unit/cli/nbt-child.js';

const FILES: [string, number][] = [
  ['a.bin', 1_500_000],
  ['sub/b.bin', 900_000],
  ['sub/c.txt', 12_345],
];

async function fixture(t: TestContext, seed = 7) {
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-cli-dl-');
  defer(() => tmp.cleanup());
  const content = join(tmp.path, 'src', 'content');
  for (const [p, n] of FILES) {
    await mkdir(join(content, p, '..'), { recursive: true });
    await writeFile(join(content, p), seededBytes(n, seed + n));
  }
  const { torrent, metainfo } = await createTorrent(content, { pieceLength: 32 * 1024 });
  const torrentPath = join(tmp.path, 'content.torrent');
  await writeFile(torrentPath, torrent);
  return { defer, tmp, torrent, metainfo, torrentPath, srcDir: join(tmp.path, 'src') };
}

async function seedingClient(
  defer: (f: () => unknown) => void,
  torrent: Buffer,
  savePath: string,
  uploadRateLimit = 0,
): Promise<{ client: Client; port: number; torrent: Torrent }> {
  const client = new Client({
    host: '127.0.0.1',
    limits: { maxPerHost: 8 },
    uploadRateLimit,
    trackers: false,
    dht: false,
    pex: false,
  });
  defer(() => client.close());
  const port = await client.listen(0, '127.0.0.1');
  const t = await client.addTorrent(torrent, { savePath, skipCheck: true });
  return { client, port, torrent: t };
}

async function sameFiles(a: string, b: string): Promise<void> {
  for (const [p] of FILES)
    assert.ok((await readFile(join(a, p))).equals(await readFile(join(b, p))), `${p} differs`);
}

function summaryOf(child: NbtChild): JsonLine {
  const s = child.events('summary');
  assert.equal(s.length, 1, `one summary line: ${child.tail()}`);
  return s[0]!;
}

test('nbt download --json from a seeding Client: progress, peer lines with numeric reasons, summary, identical files', async (t) => {
  const f = await fixture(t);
  const seed = await seedingClient(f.defer, f.torrent, f.srcDir);
  const out = join(f.tmp.path, 'out');
  const child = new NbtChild([
    'download',
    f.torrentPath,
    '-o',
    out,
    '--peer',
    `127.0.0.1:${seed.port}`,
    '--port',
    '0',
    '--no-dht',
    '--encryption',
    'required',
    '--json',
  ]);
  f.defer(() => child.kill());
  assert.equal(await child.exit, 0, child.tail());
  assert.equal(child.stderr, '');
  const start = child.events('start')[0];
  assert.equal(start?.['infoHash'], f.metainfo.infoHashHex);
  assert.ok(child.events('progress').length >= 1);
  const connect = child.events('peer-connect')[0];
  assert.ok(connect, 'a peer-connect line');
  assert.equal(connect['address'], `127.0.0.1:${seed.port}`);
  assert.equal(connect['peerId'], seed.client.peerId.toString('hex'));
  assert.match(String(connect['client']), /net-bittorrent|NB/i);
  assert.equal(connect['source'], 'user');
  assert.equal(connect['encryption'], 'rc4');
  assert.equal(connect['transport'], 'utp'); // dialled uTP first; the seed accepts it
  const disc = child.events('peer-disconnect');
  assert.ok(disc.length >= 1, 'a peer-disconnect line');
  for (const d of disc) {
    assert.equal(typeof d['reason'], 'number');
    assert.match(String(d['reasonName']), /^[A-Z_]+$/);
  }
  // Both sides seeds (-25) or our close (-214): either way the reason is numeric and named.
  assert.ok(disc.some((d) => d['reason'] === -25 || d['reason'] === -214));
  const sum = summaryOf(child);
  assert.equal(sum['status'], 'complete');
  assert.equal(sum['complete'], true);
  assert.equal(sum['pieces'], f.metainfo.pieceCount);
  assert.equal(sum['length'], f.metainfo.length);
  await sameFiles(join(f.srcDir, 'content'), join(out, 'content'));
});

test('nbt download: SIGINT mid-download exits 130 with resume data; the re-run fetches only the rest', async (t) => {
  const f = await fixture(t, 11);
  const seed = await seedingClient(f.defer, f.torrent, f.srcDir, 600_000);
  const out = join(f.tmp.path, 'out');
  const args = [
    'download',
    f.torrentPath,
    '-o',
    out,
    '--peer',
    `127.0.0.1:${seed.port}`,
    '--port',
    '0',
    '--no-dht',
    '--json',
  ];
  const first = new NbtChild(args);
  f.defer(() => first.kill());
  await first.waitFor((l) => l.event === 'progress' && Number(l['pieces']) >= 10);
  first.proc.kill('SIGINT');
  assert.equal(await first.exit, 130, first.tail());
  const s1 = summaryOf(first);
  assert.equal(s1['status'], 'interrupted');
  const have = Number(s1['bytesDone']);
  assert.ok(have > 0 && have < f.metainfo.length, `partial: ${have}`);
  const resumeFiles = await readdir(join(out, '.nbt-resume'));
  assert.ok(resumeFiles.includes(`${f.metainfo.infoHashHex}.resume`), `resume saved: ${resumeFiles.join()}`);

  seed.client.setRateLimits({ upload: 0 });
  const second = new NbtChild(args);
  f.defer(() => second.kill());
  assert.equal(await second.exit, 0, second.tail());
  const s2 = summaryOf(second);
  assert.equal(s2['status'], 'complete');
  // Verified pieces of the first run are not fetched again (endgame may duplicate a few blocks).
  const fetched = Number(s2['downloaded']);
  assert.ok(
    fetched <= f.metainfo.length - have + 2 * f.metainfo.pieceLength,
    `re-run fetched ${fetched}, had ${have}`,
  );
  await sameFiles(join(f.srcDir, 'content'), join(out, 'content'));
});

test('nbt download: bad torrent is one stderr line and exit 1; bad options exit 2', async (t) => {
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-cli-bad-');
  defer(() => tmp.cleanup());
  const bad = join(tmp.path, 'bad.torrent');
  await writeFile(bad, 'd4:infod4:name1:x');
  const runs = [
    new NbtChild(['download', bad, '-o', tmp.path, '--port', '0', '--no-dht']),
    new NbtChild(['download', join(tmp.path, 'missing.torrent'), '--port', '0', '--no-dht']),
    new NbtChild(['download', bad, '--bogus']),
    new NbtChild(['download', bad, '--encryption', 'sometimes']),
    new NbtChild(['download', bad, '--peer', 'nohost']),
    new NbtChild(['download']),
    new NbtChild(['seed', bad]),
  ];
  for (const c of runs) defer(() => c.kill());
  const codes = await Promise.all(runs.map((c) => c.exit));
  assert.deepEqual(codes, [1, 1, 2, 2, 2, 2, 2], runs.map((c) => c.stderr).join(''));
  for (const c of runs) {
    const lines = c.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, c.stderr);
    assert.match(lines[0]!, /^nbt: /);
  }
  assert.match(runs[0]!.stderr, /not a valid torrent/);
  assert.match(runs[1]!.stderr, /no such file/);
});

test('nbt seed serves a leeching Client; Ctrl-C exits 0; wrong data exits 1', async (t) => {
  const f = await fixture(t, 21);
  const child = new NbtChild(['seed', f.torrentPath, f.srcDir, '--port', '0', '--no-dht', '--json']);
  f.defer(() => child.kill());
  const seeding = await child.waitFor((l) => l.event === 'seeding');
  const port = Number(seeding['port']);
  const leech = new Client({ host: '127.0.0.1', trackers: false, dht: false, pex: false });
  f.defer(() => leech.close());
  await leech.listen(0, '127.0.0.1');
  const out = join(f.tmp.path, 'leech');
  const lt = await leech.addTorrent(f.torrent, { savePath: out, peers: [{ host: '127.0.0.1', port }] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('leech did not finish')), 15_000);
    lt.once('done', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await sameFiles(join(f.srcDir, 'content'), join(out, 'content'));
  await child.waitFor((l) => l.event === 'peer-connect');
  child.proc.kill('SIGINT');
  assert.equal(await child.exit, 0, child.tail());
  const sum = summaryOf(child);
  assert.equal(sum['status'], 'seeded');
  assert.ok(Number(sum['uploaded']) >= f.metainfo.length, `uploaded ${String(sum['uploaded'])}`);

  // Corrupt one file: the check fails and says so.
  const b = join(f.srcDir, 'content', 'sub', 'b.bin');
  const data = await readFile(b);
  data[1000] ^= 0xff;
  await writeFile(b, data);
  const wrong = new NbtChild(['seed', f.torrentPath, f.srcDir, '--port', '0', '--no-dht']);
  f.defer(() => wrong.kill());
  assert.equal(await wrong.exit, 1, wrong.tail());
  assert.match(wrong.stderr, /^nbt: the data in .* does not match .*: \d+ of \d+ pieces verified\n$/);
});

test('nbt seed --super-seed: says so, and a lone leech still completes (piece by piece)', async (t) => {
  const f = await fixture(t, 22);
  const child = new NbtChild([
    'seed',
    f.torrentPath,
    f.srcDir,
    '--port',
    '0',
    '--no-dht',
    '--json',
    '--super-seed',
  ]);
  f.defer(() => child.kill());
  const seeding = await child.waitFor((l) => l.event === 'seeding');
  assert.equal(seeding['superSeeding'], true);
  const leech = new Client({ host: '127.0.0.1', trackers: false, dht: false, pex: false });
  f.defer(() => leech.close());
  await leech.listen(0, '127.0.0.1');
  const out = join(f.tmp.path, 'leech');
  const port = Number(seeding['port']);
  const lt = await leech.addTorrent(f.torrent, { savePath: out, peers: [{ host: '127.0.0.1', port }] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('leech did not finish')), 30_000);
    lt.once('done', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await sameFiles(join(f.srcDir, 'content'), join(out, 'content'));
  child.proc.kill('SIGINT');
  assert.equal(await child.exit, 0, child.tail());
});

test('nbt download --peer from a libtorrent seed', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const f = await fixture(t, 31);
  const lt = new LtPeer('seed', f.torrentPath, f.srcDir);
  f.defer(() => lt.kill());
  const port = await lt.port();
  const out = join(f.tmp.path, 'out');
  const child = new NbtChild([
    'download',
    f.torrentPath,
    '-o',
    out,
    '--peer',
    `127.0.0.1:${port}`,
    '--port',
    '0',
    '--no-dht',
    '--json',
  ]);
  f.defer(() => child.kill());
  assert.equal(await child.exit, 0, child.tail());
  const connect = child.events('peer-connect')[0];
  assert.match(String(connect?.['client']), /libtorrent/i);
  assert.equal(summaryOf(child)['complete'], true);
  await sameFiles(join(f.srcDir, 'content'), join(out, 'content'));
});

test('nbt download: SIGTERM while no peer answers exits 143; --quiet prints only the summary line', async (t) => {
  const f = await fixture(t, 41);
  const out = join(f.tmp.path, 'out');
  // A port nobody listens on: the download waits for peers until terminated.
  const child = new NbtChild([
    'download',
    f.torrentPath,
    '-o',
    out,
    '--peer',
    '127.0.0.1:9',
    '--port',
    '0',
    '--no-dht',
    '-q',
  ]);
  f.defer(() => child.kill());
  // Give it time to start (resume dir created, data checked), then terminate.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const made: string[] = await readdir(out).catch(() => []);
    if (made.includes('.nbt-resume')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
  child.proc.kill('SIGTERM');
  assert.equal(await child.exit, 143, child.tail());
  assert.equal(child.stderr, '');
  assert.equal(child.text.length, 1, child.tail());
  assert.match(child.text[0]!, /^interrupted: content 0\/\d+ pieces verified/);
});
