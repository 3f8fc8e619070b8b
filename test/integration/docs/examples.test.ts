/**
 * Runs every example under examples/ for real, as a user would (compiled, as a child process,
 * importing the package by its own name), on loopback with a few MiB, and checks what it did.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpTrackerClient } from '../../../src/tracker/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

const EXAMPLES = join(process.cwd(), 'dist', 'examples');

interface Run {
  proc: ChildProcess;
  stdout: () => Buffer;
  stderr: () => string;
  exit: Promise<number | null>;
  /** Resolves with the first stdout line matching `re`. */
  line: (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
}

function run(
  t: TestContext,
  name: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Run {
  const proc = spawn(process.execPath, [join(EXAMPLES, `${name}.js`), ...args], {
    cwd,
    env: { ...process.env, NBT_DHT: '0', NBT_LSD: '0', ...env }, // no public DHT, no LAN multicast from tests
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => out.push(d));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const stdout = (): Buffer => Buffer.concat(out);
  const line = (re: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name}: no ${re} in ${timeoutMs} ms: ${err}`)),
        timeoutMs,
      );
      const look = (): void => {
        const m = re.exec(stdout().toString());
        if (!m) return;
        clearTimeout(timer);
        proc.stdout!.off('data', look);
        resolve(m);
      };
      proc.stdout!.on('data', look);
      void exit.then(() => setImmediate(look));
      look();
    });
  return { proc, stdout, stderr: () => err, exit, line };
}

/** Exit code of a run, failing the test if it takes longer than `ms`. */
async function exitWithin(r: Run, ms: number, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still running after ${ms} ms: ${r.stderr()}`)), ms);
  });
  try {
    return await Promise.race([r.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test('examples: seed.ts serves what download.ts, peers.ts, stream.ts and magnet.ts fetch', async (t) => {
  const dir = await tempDir('nbt-examples-');
  t.after(() => dir.cleanup());
  const data = seededBytes((2 << 20) + 12345, 42);
  await writeFile(join(dir.path, 'payload.bin'), data);

  const seed = run(t, 'seed', ['payload.bin', 'payload.torrent'], dir.path, { PORT: '0' });
  const [, infoHash, port] = await seed.line(/\(([0-9a-f]{40})\) on port (\d+)/);
  const peer = `127.0.0.1:${port}`;

  const download = run(t, 'download', ['payload.torrent', 'dl', peer], dir.path);
  assert.equal(await exitWithin(download, 20_000, 'download'), 0, download.stderr());
  assert.match(download.stdout().toString(), /complete: 2\.0 MiB of payload\.bin/);
  assert.ok(data.equals(await readFile(join(dir.path, 'dl', 'payload.bin'))), 'downloaded bytes differ');

  const peers = run(t, 'peers', ['payload.torrent', 'peers', peer], dir.path);
  assert.equal(await exitWithin(peers, 20_000, 'peers'), 0, peers.stderr());
  const log = peers.stdout().toString();
  assert.match(log, new RegExp(`connect +${peer} net-bittorrent`));
  assert.match(log, /Peer 127\.0\.0\.1:\d+ — outgoing/); // asString()
  assert.match(log, new RegExp(`disconnect ${peer} CLIENT_CLOSED \\(-214\\): the client is shutting down`));

  const stream = run(t, 'stream', ['payload.torrent', 'stream', peer], dir.path);
  assert.equal(await exitWithin(stream, 20_000, 'stream'), 0, stream.stderr());
  assert.ok(data.equals(stream.stdout()), 'streamed bytes differ');
  assert.match(stream.stderr(), /streamed 2109497 bytes of payload\.bin/);

  const link = `magnet:?xt=urn:btih:${infoHash}&dn=payload.bin&x.pe=${peer}`;
  const magnet = run(t, 'magnet', [link, 'magnet'], dir.path);
  assert.equal(await exitWithin(magnet, 20_000, 'magnet'), 0, magnet.stderr());
  assert.match(magnet.stdout().toString(), /metadata: payload\.bin, 1 file\(s\), 2\.0 MiB in \d+ pieces/);
  assert.ok(data.equals(await readFile(join(dir.path, 'magnet', 'payload.bin'))), 'magnet bytes differ');

  // Four leechers connected to the seed; Ctrl-C ends it cleanly.
  const connects =
    seed
      .stdout()
      .toString()
      .match(/^\+ 127\.0\.0\.1:/gm) ?? [];
  assert.equal(connects.length, 4);
  seed.proc.kill('SIGINT');
  assert.equal(await exitWithin(seed, 10_000, 'seed after SIGINT'), 0, seed.stderr());
});

test('examples: tracker.ts answers announces over HTTP until Ctrl-C', async (t) => {
  const dir = await tempDir('nbt-examples-');
  t.after(() => dir.cleanup());
  const tracker = run(t, 'tracker', ['0'], dir.path);
  const [, httpUrl] = await tracker.line(/tracker running: (http:\S+) udp:\S+/);
  const client = new HttpTrackerClient();
  const infoHash = Buffer.alloc(20, 7);
  const request = {
    infoHash,
    peerId: Buffer.alloc(20, 1),
    port: 51413,
    uploaded: 0,
    downloaded: 0,
    left: 0,
    event: 'started' as const,
    numwant: 50,
    key: 1,
  };
  await client.announce(httpUrl!, request);
  const second = await client.announce(httpUrl!, {
    ...request,
    peerId: Buffer.alloc(20, 2),
    port: 51414,
    left: 100,
  });
  assert.deepEqual(
    second.peers.map((p) => p.port),
    [51413],
  );
  await tracker.line(/http request from 127\.0\.0\.1/);
  tracker.proc.kill('SIGINT');
  assert.equal(await exitWithin(tracker, 10_000, 'tracker after SIGINT'), 0, tracker.stderr());
});
