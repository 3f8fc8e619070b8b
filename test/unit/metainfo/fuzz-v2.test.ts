/**
 * Fuzzed BEP 52 metainfo: byte mutations of valid v2 and hybrid torrents, and random file
 * trees. Parsing only ever throws NbtError, and whatever parses is self-consistent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, type BEncodable } from '../../../src/bencode/index.js';
import {
  MERKLE_BLOCK,
  blockHashes,
  fileRootOfLeaves,
  pieceLayerOf,
  rootOfPieceLayer,
  splitHashes,
} from '../../../src/hash/merkle.js';
import { parseMagnet, parseTorrent, type Metainfo } from '../../../src/metainfo/index.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng, seededBytes } from '../../helpers/tmp.js';

const PL = 16384;
const L = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** A valid torrent for `files` (path → size), v2-only or hybrid, with its piece layers. */
function torrentOf(files: [string[], number][], hybrid: boolean): Buffer {
  const tree = new Map<string, BEncodable>();
  const layers = new Map<string, BEncodable>();
  const v1: BEncodable[] = [];
  const pieces: Buffer[] = [];
  files.forEach(([path, size], i) => {
    const data = seededBytes(size, i + 1);
    const leaves = blockHashes(data);
    const leaf: Record<string, BEncodable> = { length: size };
    if (size > 0) {
      const root = fileRootOfLeaves(leaves, PL / MERKLE_BLOCK);
      leaf['pieces root'] = root;
      if (size > PL)
        layers.set(root.toString('latin1'), Buffer.concat(pieceLayerOf(leaves, PL / MERKLE_BLOCK)));
    }
    let dir = tree;
    for (const c of path.slice(0, -1)) {
      if (!dir.has(L(c))) dir.set(L(c), new Map());
      dir = dir.get(L(c)) as Map<string, BEncodable>;
    }
    dir.set(L(path[path.length - 1]!), new Map([['', leaf]]));
    v1.push({ length: size, path });
    const padded = Buffer.alloc(Math.ceil(size / PL) * PL);
    data.copy(padded);
    for (let at = 0; at < padded.length; at += PL) pieces.push(Buffer.alloc(20, at & 0xff));
    if (size % PL) v1.push({ attr: 'p', length: PL - (size % PL), path: ['.pad', String(PL - (size % PL))] });
  });
  const info: Record<string, BEncodable> = {
    'file tree': tree,
    'meta version': 2,
    name: 'd',
    'piece length': PL,
  };
  if (hybrid) {
    info.files = v1;
    info.pieces = Buffer.concat(pieces);
  }
  return encode({ info, 'piece layers': layers });
}

function consistent(m: Metainfo): void {
  assert.equal(
    m.files.reduce((s, f) => s + f.length, 0),
    m.length,
  );
  assert.equal(m.pieceCount, Math.ceil(m.length / m.pieceLength));
  assert.ok(m.infoHashes.v2 && m.infoHashes.v2.length === 32);
  for (const f of m.files) {
    for (const c of f.path) assert.ok(c !== '..' && c !== '.' && c !== '' && !c.includes('/'));
    if (f.pad || f.length === 0) continue;
    assert.equal(f.offset % m.pieceLength, 0, `${f.name} starts on a piece boundary`);
    assert.equal(f.piecesRoot?.length, 32, `${f.name} has a root`);
  }
  for (const [root, layer] of m.pieceLayers)
    assert.ok(rootOfPieceLayer(splitHashes(layer), m.pieceLength / MERKLE_BLOCK).toString('hex') === root);
  // A hybrid may lack SHA-1 pieces (libtorrent loads it; its pieces verify by Merkle roots).
  if (m.version === 2) assert.equal(m.pieces.length, 0);
  else assert.ok(m.pieces.length === 0 || m.pieces.length === m.pieceCount * 20);
}

const valid = [
  torrentOf(
    [
      [['a'], 40_000],
      [['b', 'c'], 5000],
      [['e'], 0],
    ],
    false,
  ),
  torrentOf(
    [
      [['a'], 40_000],
      [['b', 'c'], 5000],
      [['e'], 0],
    ],
    true,
  ),
  torrentOf([[['x'], 20_000]], false),
];

test('fuzz: mutated v2 and hybrid torrents only ever throw NbtError; what parses is consistent', () => {
  for (const v of valid) consistent(parseTorrent(v));
  const r = prng(52);
  const alphabet = Buffer.from('ilde0123456789:-/.');
  let parsed = 0;
  for (let i = 0; i < 20_000; i++) {
    const mut = Buffer.from(valid[i % valid.length]!);
    const edits = 1 + Math.floor(r() * 3);
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
      consistent(parseTorrent(input));
      parsed++;
    } catch (e) {
      if (!(e instanceof NbtError))
        throw new Error(`non-NbtError for ${input.toString('hex')}: ${String(e)}`);
    }
  }
  assert.ok(parsed > 100, `only ${parsed} mutants parsed; the fuzzer is not reaching validation`);
});

test('property: random file trees parse to piece-aligned layouts; hybrids agree with their v1 half', () => {
  const r = prng(7);
  const names = ['a', 'b', 'a.txt', '..', 'ü', 'CON', 'x/y', '10', '2', ' '];
  for (let round = 0; round < 150; round++) {
    const files = new Map<string, [string[], number]>();
    const n = 1 + Math.floor(r() * 6);
    for (let k = 0; k < n; k++) {
      const depth = 1 + Math.floor(r() * 3);
      const path = Array.from({ length: depth }, () => names[Math.floor(r() * names.length)]!);
      const size = [0, 1, MERKLE_BLOCK, PL, PL + 1, 3 * PL - 7][Math.floor(r() * 6)]!;
      files.set(path.join('\0'), [path, size]);
    }
    // A path may not be both a file and a directory in one tree: drop such clashes.
    const list = [...files.values()].filter(
      ([p]) => ![...files.values()].some(([q]) => q.length > p.length && p.every((c, i) => c === q[i])),
    );
    // The tree's own order (keys sorted by bytes, depth first) is the v1 order of a hybrid.
    list.sort(([a], [b]) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const c = Buffer.compare(Buffer.from(a[i]!), Buffer.from(b[i]!));
        if (c) return c;
      }
      return a.length - b.length;
    });
    for (const hybrid of [false, true]) {
      let m: Metainfo;
      try {
        m = parseTorrent(torrentOf(list, hybrid));
      } catch (e) {
        // All files empty is the one thing a random tree may legitimately be refused for.
        assert.ok(e instanceof NbtError && e.code === 'METAINFO_EMPTY', String(e));
        assert.ok(list.every(([, s]) => s === 0));
        continue;
      }
      consistent(m);
      assert.equal(m.version, hybrid ? 'hybrid' : 2);
      assert.equal(m.files.filter((f) => !f.pad).length, list.length);
      const bigFiles = list.filter(([, s]) => s > PL).length;
      assert.ok(m.pieceLayers.size <= bigFiles && (bigFiles === 0 || m.pieceLayers.size > 0));
    }
  }
});

test('fuzz: magnet links with btmh parts only ever throw NbtError', () => {
  const r = prng(11);
  const parts = [
    'magnet:?',
    'magnet:?',
    `xt=urn:btmh:1220${'a'.repeat(64)}`,
    'xt=urn:btmh:',
    `xt=urn:btih:${'b'.repeat(40)}`,
    '1220',
    '1114',
    'a'.repeat(64),
    '&',
    '&',
    '=',
    '%',
    'dn',
  ];
  let withV2 = 0;
  for (let i = 0; i < 20_000; i++) {
    let s = '';
    const n = 1 + Math.floor(r() * 10);
    for (let k = 0; k < n; k++) s += parts[Math.floor(r() * parts.length)];
    try {
      const l = parseMagnet(s);
      if (l.infoHashes.v2) {
        withV2++;
        assert.equal(l.infoHashes.v2.length, 32);
        assert.ok(l.infoHash.equals(l.infoHashes.v1 ?? l.infoHashes.v2.subarray(0, 20)));
      }
    } catch (e) {
      if (!(e instanceof NbtError)) throw new Error(`non-NbtError for ${s}: ${String(e)}`);
    }
  }
  assert.ok(withV2 > 10, `only ${withV2} v2 links parsed`);
});
