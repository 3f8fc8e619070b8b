/**
 * Debian's transmission-remote 3.00 (unmodified) drives `nbt daemon`: add, list, info,
 * stop/start, verify, limits, labels, move, remove. The same script runs against a real
 * transmission-daemon, and its output must parse the same way (columns, states, info keys).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeFixture } from '../unit/client/fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { NbtDaemon } from '../helpers/nbt-daemon.js';
import { TransmissionPeer } from '../helpers/transmission.js';

const run = promisify(execFile);

async function remote(port: number, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('transmission-remote', [`127.0.0.1:${port}`, ...args], {
    timeout: 20_000,
  });
  return stdout + stderr;
}

interface Row {
  id: number;
  done: string;
  status: string;
  name: string;
}

/** transmission-remote -l's table. */
function parseList(out: string): Row[] {
  const rows: Row[] = [];
  for (const line of out.split('\n')) {
    const m =
      /^\s*(\d+)\*?\s+(\d+%|n\/a)\s+.*?\s{2,}(Idle|Seeding|Downloading|Stopped|Finished|Verifying|Queued|Will Verify|Up & Down|Uploading)\s+(.*)$/.exec(
        line,
      );
    if (m) rows.push({ id: Number(m[1]), done: m[2]!, status: m[3]!, name: m[4]!.trim() });
  }
  return rows;
}

/** transmission-remote -i's "Key: value" lines. */
function parseInfo(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const kv = /^\s{2}([A-Za-z][A-Za-z &]*?):\s*(.*)$/.exec(line);
    if (kv) m.set(kv[1]!, kv[2]!.trim());
  }
  return m;
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Transcript {
  listAfterAdd: Row[];
  infoKeys: string[];
  info: Map<string, string>;
  stopped: Row[];
  started: Row[];
  limits: Map<string, string>;
  moved: Map<string, string>;
  afterRemove: Row[];
}

/** The script, run against one daemon; `dir` holds the torrent's data. */
async function script(port: number, torrentPath: string, dir: string, moveTo: string): Promise<Transcript> {
  assert.match(await remote(port, '-a', torrentPath, '-w', dir), /success/);
  const seeding = (rows: Row[]): boolean =>
    rows.length === 1 && rows[0]!.done === '100%' && ['Idle', 'Seeding'].includes(rows[0]!.status);
  const listAfterAdd = await until(
    async () => parseList(await remote(port, '-l')),
    seeding,
    20_000,
    'seeding',
  );
  const id = String(listAfterAdd[0]!.id);
  const infoText = await remote(port, '-t', id, '-i');
  const info = parseInfo(infoText);
  assert.match(await remote(port, '-t', id, '-S'), /success/);
  const stopped = await until(
    async () => parseList(await remote(port, '-l')),
    (r) => r[0]?.status === 'Stopped',
    10_000,
    'stopped',
  );
  assert.match(await remote(port, '-t', id, '-s'), /success/);
  const started = await until(async () => parseList(await remote(port, '-l')), seeding, 10_000, 'started');
  assert.match(await remote(port, '-t', id, '-v'), /success/);
  await until(async () => parseList(await remote(port, '-l')), seeding, 20_000, 'verified');
  assert.match(await remote(port, '-t', id, '-d', '100', '-u', '50'), /success/);
  const limits = parseInfo(await remote(port, '-t', id, '-i'));
  assert.match(await remote(port, '-t', id, '--move', moveTo), /success/);
  await until(async () => parseList(await remote(port, '-l')), seeding, 20_000, 'seeding after move');
  const moved = parseInfo(await remote(port, '-t', id, '-i'));
  assert.match(await remote(port, '-t', id, '-r'), /success/);
  const afterRemove = await until(
    async () => parseList(await remote(port, '-l')),
    (r) => r.length === 0,
    10_000,
    'removed',
  );
  return { listAfterAdd, infoKeys: [...info.keys()], info, stopped, started, limits, moved, afterRemove };
}

test(
  'transmission-remote drives nbt daemon as it drives transmission-daemon',
  { timeout: 120_000 },
  async () => {
    const dir = await tempDir('nbt-daemon-remote-');
    const fx = await makeFixture(dir.path, {
      files: [
        { path: 'a.bin', size: 300_000 },
        { path: 'sub/b.bin', size: 70_000 },
      ],
    });
    const ours = await NbtDaemon.start(join(dir.path, 'cfg'), join(dir.path, 'dl'));
    let theirs: TransmissionPeer | undefined;
    try {
      // Both get their own copy of the data, so each moves its own.
      const oursData = join(dir.path, 'ours');
      const theirsData = join(dir.path, 'theirs');
      for (const d of [oursData, theirsData]) {
        await mkdir(d, { recursive: true });
        await run('cp', ['-r', join(fx.dir, fx.name), d]);
      }
      const a = await script(ours.rpcPort, fx.torrentPath, oursData, join(dir.path, 'ours-moved'));
      await access(join(dir.path, 'ours-moved', fx.name, 'sub', 'b.bin'));
      assert.equal(a.listAfterAdd[0]!.name, fx.name);
      assert.equal(a.info.get('Hash'), fx.metainfo.infoHashHex);
      assert.equal(a.info.get('Location'), oursData);
      assert.equal(a.info.get('Percent Done'), '100%');
      assert.equal(a.stopped[0]!.status, 'Stopped');
      assert.equal(a.limits.get('Download Limit'), '100 kB/s');
      assert.equal(a.limits.get('Upload Limit'), '50 kB/s');
      assert.equal(a.moved.get('Location'), join(dir.path, 'ours-moved'));
      assert.deepEqual(a.afterRemove, []);

      theirs = await TransmissionPeer.start();
      const b = await script(theirs.rpcPort, fx.torrentPath, theirsData, join(dir.path, 'theirs-moved'));
      const shape = (t: Transcript) => ({
        list: t.listAfterAdd.map((r) => ({ ...r, status: r.status === 'Seeding' ? 'Idle' : r.status })),
        stopped: t.stopped.map((r) => r.status),
        limits: [t.limits.get('Download Limit'), t.limits.get('Upload Limit')],
        removed: t.afterRemove,
      });
      assert.deepEqual(shape(a), shape(b));
      // Every key transmission-remote prints for the real daemon, it prints for ours.
      const missing = b.infoKeys.filter((k) => !a.infoKeys.includes(k));
      assert.deepEqual(missing, []);
    } finally {
      await ours.kill('SIGTERM');
      await theirs?.kill();
      await dir.cleanup();
    }
  },
);
