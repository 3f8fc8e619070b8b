import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { encode, type BEncodable } from '../../../src/bencode/index.js';
import { parseTorrent, sanitizeComponent } from '../../../src/metainfo/index.js';

function multiNames(paths: BEncodable[][], name: BEncodable = 'dir'): string[][] {
  const files = paths.map((path) => ({ length: 1, path }));
  const buf = encode({ info: { files, name, 'piece length': 16384, pieces: Buffer.alloc(20) } });
  return parseTorrent(buf).files.map((f) => f.path);
}

function singleName(name: BEncodable): string {
  return parseTorrent(encode({ info: { length: 1, name, 'piece length': 16384, pieces: Buffer.alloc(20) } }))
    .name;
}

/** Every path must stay strictly inside the save directory once joined. */
function assertContained(paths: string[][]): void {
  const save = resolve('/srv/save');
  for (const p of paths) {
    const full = resolve(join(save, ...p));
    const rel = relative(save, full);
    assert.ok(rel !== '' && !rel.startsWith('..') && !isAbsolute(rel), `${p.join('/')} escapes: ${full}`);
    for (const c of p) {
      assert.ok(c !== '' && c !== '.' && c !== '..', `bad component in ${JSON.stringify(p)}`);
      assert.ok(!/[/\\\0]/.test(c), `separator or NUL in ${JSON.stringify(c)}`);
      assert.ok(Buffer.byteLength(c) <= 255);
    }
  }
}

test('hostile multi-file paths are neutralised and stay inside the save dir', () => {
  const hostile: string[][] = [
    ['..', '..', 'etc', 'passwd'],
    ['/etc/passwd'],
    ['', 'etc', 'shadow'],
    ['a', '.', '..', '..', 'b'],
    ['..\\..\\windows\\system32'],
    ['C:\\evil'],
    ['x\0y'],
    ['..'],
    ['.'],
  ];
  const out = multiNames(hostile);
  assertContained(out);
  assert.deepEqual(out[0], ['dir', 'etc', 'passwd']);
  assert.deepEqual(out[1], ['dir', '_etc_passwd']);
  assert.deepEqual(out[2], ['dir', 'etc', 'shadow']);
  assert.deepEqual(out[3], ['dir', 'a', 'b']);
  assert.deepEqual(out[4], ['dir', '.._.._windows_system32']);
  assert.deepEqual(out[5], ['dir', 'C:_evil']);
  assert.deepEqual(out[6], ['dir', 'x_y']);
  // Paths that sanitise to nothing become "_" (then made unique).
  assert.deepEqual(out[7], ['dir', '_']);
  assert.deepEqual(out[8], ['dir', '_.1']);
});

test('hostile names of the torrent itself', () => {
  assert.equal(singleName('../../etc/passwd'), '.._.._etc_passwd');
  assert.equal(singleName('/etc/passwd'), '_etc_passwd');
  assert.equal(
    singleName('..'),
    parseTorrent(encode({ info: { length: 1, name: '..', 'piece length': 16384, pieces: Buffer.alloc(20) } }))
      .infoHashHex,
  );
  assert.equal(
    singleName(''),
    parseTorrent(encode({ info: { length: 1, name: '', 'piece length': 16384, pieces: Buffer.alloc(20) } }))
      .infoHashHex,
  );
  assertContained(multiNames([['f']], '..').map((p) => p));
  assert.equal(multiNames([['f']], '..')[0]![0]!.length, 40);
});

test('Windows reserved names, trailing dots and spaces', () => {
  assert.equal(sanitizeComponent('CON'), 'CON_');
  assert.equal(sanitizeComponent('nul.txt'), 'nul_.txt');
  assert.equal(sanitizeComponent('com1'), 'com1_');
  assert.equal(sanitizeComponent('LPT9.tar.gz'), 'LPT9_.tar.gz');
  assert.equal(sanitizeComponent('console'), 'console');
  assert.equal(sanitizeComponent('name. . '), 'name');
  assert.equal(sanitizeComponent('...'), '_');
  assert.equal(sanitizeComponent('a\x01b\x7f'), 'a_b_');
  assert.equal(sanitizeComponent('..'), undefined);
  assert.equal(sanitizeComponent(''), undefined);
});

test('invalid UTF-8 is replaced; path.utf-8 is preferred', () => {
  const bad = Buffer.from([0x61, 0xff, 0xfe, 0x62]);
  const [p] = multiNames([[bad]]);
  assert.equal(p![1], 'a__b');
  const files = [{ length: 1, path: [Buffer.from([0xe9])], 'path.utf-8': ['é'] }];
  const m = parseTorrent(
    encode({ info: { files, name: 'd', 'piece length': 16384, pieces: Buffer.alloc(20) } }),
  );
  assert.deepEqual(m.files[0]!.path, ['d', 'é']);
});

test('overlong components are truncated to 255 bytes, keeping the extension', () => {
  const long = 'é'.repeat(200) + '.mkv';
  const s = sanitizeComponent(long)!;
  assert.ok(Buffer.byteLength(s) <= 255);
  assert.ok(s.endsWith('.mkv'));
  assert.ok(s.startsWith('éé'));
  assert.equal(sanitizeComponent('a'.repeat(300))!.length, 255);
});

test('duplicate and file/directory collisions get unique names', () => {
  const out = multiNames([
    ['a.txt'],
    ['a.txt'],
    ['A.txt'],
    ['x'],
    ['x', 'y'],
    ['..', 'a.txt'],
    ['sub', 'f'],
    ['sub'],
  ]);
  assertContained(out);
  assert.deepEqual(
    out.map((p) => p.slice(1).join('/')),
    ['a.txt', 'a.1.txt', 'A.txt', 'x', 'x.1/y', 'a.2.txt', 'sub/f', 'sub.1'],
  );
  assert.equal(new Set(out.map((p) => p.join('/'))).size, out.length);
});

test('many identical names stay fast (linear suffixing)', () => {
  const t0 = performance.now();
  const out = multiNames(Array.from({ length: 5000 }, () => ['same']));
  assert.equal(new Set(out.map((p) => p.join('/'))).size, 5000);
  assert.ok(performance.now() - t0 < 3000);
});
