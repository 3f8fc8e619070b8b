import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

const mainJs = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function nbt(args: string[], cwd?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function oneErrorLine(r: Result, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, /^nbt: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('--help, <cmd> --help, --version', async () => {
  const [help, createHelp, version, none] = await Promise.all([
    nbt(['--help']),
    nbt(['create', '--help']),
    nbt(['--version']),
    nbt([]),
  ]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: nbt <command>/);
  assert.match(help.stdout, /create\s+make a \.torrent/);
  assert.match(help.stdout, /info\s+show/);
  assert.equal(createHelp.code, 0);
  assert.match(createHelp.stdout, /--piece-length/);
  assert.equal(version.code, 0);
  const pkg = JSON.parse(
    await readFile(fileURLToPath(new URL('../../../../package.json', import.meta.url)), 'utf8'),
  ) as { version: string };
  assert.equal(version.stdout.trim(), `nbt ${pkg.version}`);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage/);
});

test('nbt info escapes terminal control characters from comment, created-by, trackers and web seeds', async () => {
  const tmp = await tempDir();
  try {
    await writeFile(join(tmp.path, 'x.bin'), seededBytes(20_000, 5));
    // Set the window title, clear the screen, write the clipboard, a C1 CSI, a bidi override.
    const comment = 'hi\x1b]0;owned\x07 \u009b2J \u202eevil';
    const createdBy = 'tool\x1b[2J\x1b[H\r\nfake line';
    const tracker = 'http://t/\x1b]52;c;ZXZpbA==\x07announce';
    const { torrent } = await createTorrent(join(tmp.path, 'x.bin'), {
      comment,
      createdBy,
      trackers: [tracker],
      webSeeds: ['http://w/\x1bP'],
    });
    const file = join(tmp.path, 'x.torrent');
    await writeFile(file, torrent);
    const human = await nbt(['info', file]);
    assert.equal(human.code, 0, human.stderr);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(human.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/, 'no raw control characters');
    assert.match(human.stdout, /Comment: +hi\\u001b\]0;owned\\u0007 \\u009b2J \\u202eevil\n/);
    assert.match(human.stdout, /Created by: +tool\\u001b\[2J\\u001b\[H\\u000d\\u000afake line\n/);
    assert.match(human.stdout, /Tracker tier 1: http:\/\/t\/\\u001b\]52;c;ZXZpbA==\\u0007announce\n/);
    // JSON keeps the exact text (escaped the JSON way), still with nothing raw for the terminal.
    const json = await nbt(['info', file, '--json']);
    assert.equal(json.code, 0, json.stderr);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(json.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    const j = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(j.comment, comment);
    assert.equal(j.createdBy, createdBy);
    assert.deepEqual(j.trackers, [[tracker]]);
  } finally {
    await tmp.cleanup();
  }
});

test('create then info --json round trip', async () => {
  const tmp = await tempDir();
  try {
    const dir = join(tmp.path, 'content');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'one.bin'), seededBytes(100_000, 1));
    await writeFile(join(dir, 'sub', 'two.bin'), seededBytes(50_000, 2));
    const out = join(tmp.path, 'c.torrent');
    const created = await nbt([
      'create',
      dir,
      '-o',
      out,
      '--piece-length',
      '32K',
      '--private',
      '--tracker',
      'http://a/announce,http://b/announce',
      '--tracker',
      'udp://c:80',
      '--web-seed',
      'http://ws/',
      '--comment',
      'hello',
      '--no-date',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /info-hash [0-9a-f]{40}/);
    assert.doesNotMatch(created.stdout, /\r/, 'no bar drawn when stdout is not a TTY');
    const m = parseTorrent(await readFile(out));

    const info = await nbt(['info', out, '--json']);
    assert.equal(info.code, 0, info.stderr);
    const j = JSON.parse(info.stdout) as Record<string, unknown>;
    assert.equal(j.infoHash, m.infoHashHex);
    assert.equal(j.name, 'content');
    assert.equal(j.length, 150_000);
    assert.equal(j.pieceLength, 32768);
    assert.equal(j.pieceCount, 5);
    assert.equal(j.private, true);
    assert.deepEqual(j.files, [
      { path: 'content/one.bin', length: 100_000 },
      { path: 'content/sub/two.bin', length: 50_000 },
    ]);
    assert.deepEqual(j.trackers, [['http://a/announce', 'http://b/announce'], ['udp://c:80']]);
    assert.deepEqual(j.webSeeds, ['http://ws/']);
    assert.equal(j.comment, 'hello');
    assert.equal(j.creationDate, undefined);

    const human = await nbt(['info', out]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, new RegExp(`Info-hash:\\s+${m.infoHashHex}`));
    assert.match(human.stdout, /content\/sub\/two\.bin/);

    // Same input, same flags: same bytes (reproducible); refusing to overwrite without --force.
    const again = await nbt([
      'create',
      dir,
      '-o',
      out,
      '-l',
      '15',
      '-p',
      '-t',
      'http://a/announce,http://b/announce',
      '-t',
      'udp://c:80',
      '-w',
      'http://ws/',
      '-c',
      'hello',
      '--no-date',
    ]);
    oneErrorLine(again, 1, /already exists/);
    const forced = await nbt([
      'create',
      dir,
      '-o',
      out,
      '-l',
      '15',
      '-p',
      '-t',
      'http://a/announce,http://b/announce',
      '-t',
      'udp://c:80',
      '-w',
      'http://ws/',
      '-c',
      'hello',
      '--no-date',
      '-f',
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(parseTorrent(await readFile(out)).infoHashHex, m.infoHashHex);

    const magnet = await nbt(['info', `magnet:?xt=urn:btih:${m.infoHashHex}&dn=content`, '--json']);
    assert.equal(magnet.code, 0);
    assert.equal((JSON.parse(magnet.stdout) as { infoHash: string }).infoHash, m.infoHashHex);
  } finally {
    await tmp.cleanup();
  }
});

test('bad input: one line on stderr and a non-zero exit code', async () => {
  const tmp = await tempDir();
  try {
    const bad = join(tmp.path, 'bad.torrent');
    const garbage = join(tmp.path, 'garbage.torrent');
    await writeFile(bad, 'd4:infod6:lengthi-5e4:name1:x12:piece lengthi16e6:pieces0:ee');
    await writeFile(garbage, 'not bencode at all');
    await mkdir(join(tmp.path, 'empty'));
    // Independent processes: run them side by side to keep the test short.
    const cases: [string[], number, RegExp][] = [
      [['info', bad], 1, /bad\.torrent is not a valid torrent: .*negative length/],
      [['info', garbage], 1, /not a valid torrent/],
      [['info', join(tmp.path, 'missing.torrent')], 1, /no such file/],
      [['info', 'magnet:?xt=urn:btih:123'], 1, /info-hash/],
      [['info'], 2, /missing/],
      [['info', 'a', 'b'], 2, /unexpected argument/],
      [['frobnicate'], 2, /unknown command/],
      [['create', tmp.path, '--bogus'], 2, /bogus/],
      [['create', tmp.path, '-l', '1000'], 2, /power of two/],
      [['create', join(tmp.path, 'nope'), '-o', join(tmp.path, 'x.torrent')], 1, /cannot read/],
      [['create', join(tmp.path, 'empty'), '-o', join(tmp.path, 'x.torrent')], 1, /no data/],
    ];
    const results = await Promise.all(cases.map(([args]) => nbt(args)));
    results.forEach((r, i) => oneErrorLine(r, cases[i]![1], cases[i]![2]));
    // --verbose adds detail but still no stack for an NbtError.
    const v = await nbt(['info', garbage, '--verbose']);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /code BENCODE_BAD_TOKEN/);
    assert.doesNotMatch(v.stderr, /\n\s+at /);
  } finally {
    await tmp.cleanup();
  }
});
