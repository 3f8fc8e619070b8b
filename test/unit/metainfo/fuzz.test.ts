import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../../src/bencode/index.js';
import { parseMagnet, parseTorrent } from '../../../src/metainfo/index.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/tmp.js';

const valid = [
  encode({
    announce: 'http://t/a',
    'announce-list': [['http://t/a'], ['udp://u:1']],
    info: {
      files: [
        { length: 5, path: ['a', 'b'] },
        { length: 11, path: ['c'], attr: 'p' },
        { length: 40, path: ['d.txt'] },
      ],
      name: 'dir',
      'piece length': 16,
      pieces: Buffer.alloc(80, 7),
    },
    nodes: [['1.2.3.4', 5]],
    'url-list': ['http://w/'],
  }),
  encode({
    info: { length: 33, name: 'f', 'piece length': 16, pieces: Buffer.alloc(60, 1), private: 1 },
    comment: 'c',
  }),
];

test('fuzz: mutated torrents only ever throw NbtError', () => {
  const r = prng(47);
  const alphabet = Buffer.from('ilde0123456789:-/.');
  let parsed = 0;
  for (let i = 0; i < 30_000; i++) {
    const mut = Buffer.from(valid[i % valid.length]!);
    const edits = 1 + Math.floor(r() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * mut.length);
      const op = r();
      if (op < 0.6)
        mut[at] = r() < 0.6 ? alphabet[Math.floor(r() * alphabet.length)]! : Math.floor(r() * 256);
      else if (op < 0.8) mut.copyWithin(at, Math.floor(r() * mut.length));
      else mut[at] = mut[Math.floor(r() * mut.length)]!;
    }
    const input = r() < 0.1 ? mut.subarray(0, Math.floor(r() * mut.length)) : mut;
    try {
      const m = parseTorrent(input);
      parsed++;
      // Whatever parses must be internally consistent.
      assert.equal(m.pieces.length, m.pieceCount * 20);
      assert.equal(
        m.files.reduce((s, f) => s + f.length, 0),
        m.length,
      );
      for (const f of m.files)
        for (const c of f.path) assert.ok(c !== '..' && c !== '.' && c !== '' && !c.includes('/'));
    } catch (e) {
      if (!(e instanceof NbtError))
        throw new Error(`non-NbtError for ${input.toString('hex')}: ${String(e)}`);
    }
  }
  assert.ok(parsed > 100, `only ${parsed} mutants parsed; the fuzzer is not reaching validation`);
});

test('fuzz: random magnet strings only ever throw NbtError', () => {
  const r = prng(9);
  const parts = [
    'magnet:?',
    'xt=urn:btih:',
    'c12fe1c06bba254a9dc9f519b335aa7c1367a88a',
    '&',
    '=',
    'tr',
    'dn',
    'so',
    'x.pe',
    '%',
    '%zz',
    '1-3',
    ',',
    ':',
    '[',
    ']',
    'ws',
    'é',
    '+',
  ];
  for (let i = 0; i < 20_000; i++) {
    let s = '';
    const n = 1 + Math.floor(r() * 12);
    for (let k = 0; k < n; k++) s += parts[Math.floor(r() * parts.length)];
    try {
      parseMagnet(s);
    } catch (e) {
      if (!(e instanceof NbtError)) throw new Error(`non-NbtError for ${s}: ${String(e)}`);
    }
  }
});
