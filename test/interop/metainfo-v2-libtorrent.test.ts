/**
 * v2 and hybrid .torrent files that libtorrent accepts we accept, and those it refuses we
 * refuse (with a typed NbtError): one table of edits to a valid torrent, each loaded by both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode, encode, type BDict, type BValue } from '../../src/bencode/index.js';
import { createTorrent, parseTorrent } from '../../src/metainfo/index.js';
import { NbtError } from '../../src/util/errors.js';
import { peersDir, requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';

const d = (v: BValue | undefined): BDict => v as BDict;
const L = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

interface Case {
  name: string;
  base: 'v2' | 'hybrid';
  edit: (t: BDict, info: BDict) => void;
  /** Raw bytes instead of an edited dictionary. */
  raw?: (base: Buffer) => Buffer;
}

const leafOf = (info: BDict, ...path: string[]): BDict => {
  let n = d(info['file tree']);
  for (const p of path) n = d(n[L(p)]);
  return d(n['']);
};

function nested(depth: number, leaf: BValue): BDict {
  let n: BDict = { f: { '': leaf } };
  for (let i = 0; i < depth; i++) n = { d: n };
  return n;
}

const cases: Case[] = [
  { name: 'v2 as created', base: 'v2', edit: () => {} },
  { name: 'hybrid as created', base: 'hybrid', edit: () => {} },
  { name: 'meta version 3', base: 'v2', edit: (_t, i) => (i['meta version'] = 3) },
  { name: 'meta version 1 with a file tree', base: 'v2', edit: (_t, i) => (i['meta version'] = 1) },
  { name: 'meta version 2 without a file tree', base: 'hybrid', edit: (_t, i) => delete i['file tree'] },
  { name: 'file tree not a dictionary', base: 'v2', edit: (_t, i) => (i['file tree'] = []) },
  { name: 'empty file tree', base: 'v2', edit: (_t, i) => (i['file tree'] = {}) },
  { name: 'v2 piece length 8 KiB', base: 'v2', edit: (_t, i) => (i['piece length'] = 8192) },
  { name: 'v2 piece length 48 KiB', base: 'v2', edit: (_t, i) => (i['piece length'] = 49152) },
  { name: 'pieces root missing', base: 'v2', edit: (_t, i) => delete leafOf(i, 'a')['pieces root'] },
  {
    name: 'pieces root 31 bytes',
    base: 'v2',
    edit: (_t, i) => (leafOf(i, 'a')['pieces root'] = Buffer.alloc(31, 1)),
  },
  {
    name: 'pieces root all zeros',
    base: 'v2',
    edit: (_t, i) => (leafOf(i, 'a')['pieces root'] = Buffer.alloc(32)),
  },
  {
    name: 'empty file with a pieces root',
    base: 'v2',
    edit: (_t, i) => (leafOf(i, 'e')['pieces root'] = Buffer.alloc(32, 1)),
  },
  { name: 'negative length', base: 'v2', edit: (_t, i) => (leafOf(i, 'b', 'c').length = -1) },
  {
    name: 'length not an integer',
    base: 'v2',
    edit: (_t, i) => (leafOf(i, 'b', 'c').length = Buffer.from('5')),
  },
  { name: 'length missing', base: 'v2', edit: (_t, i) => delete leafOf(i, 'b', 'c').length },
  {
    name: 'pad attribute in the tree',
    base: 'v2',
    edit: (_t, i) => (leafOf(i, 'b', 'c').attr = Buffer.from('p')),
  },
  {
    name: 'executable attribute in the tree',
    base: 'v2',
    edit: (_t, i) => (leafOf(i, 'b', 'c').attr = Buffer.from('x')),
  },
  {
    name: "leaf '' not a dictionary",
    base: 'v2',
    edit: (_t, i) => (d(d(i['file tree']).b)[L('c')] = { '': 5 }),
  },
  {
    name: "a directory with '' and a file",
    base: 'v2',
    edit: (_t, i) => (d(d(i['file tree']).b)[''] = { length: 1 }),
  },
  {
    name: 'a node that is not a dictionary',
    base: 'v2',
    edit: (_t, i) => (d(i['file tree']).x = Buffer.from('y')),
  },
  { name: 'an empty directory', base: 'v2', edit: (_t, i) => (d(i['file tree']).z = {}) },
  {
    name: 'a tree 50 directories deep',
    base: 'v2',
    edit: (_t, i) => (d(i['file tree']).deep = nested(50, { length: 0 })),
  },
  {
    name: 'a tree 120 directories deep',
    base: 'v2',
    edit: (_t, i) => (d(i['file tree']).deep = nested(120, { length: 0 })),
  },
  { name: 'v2 without name', base: 'v2', edit: (_t, i) => delete i.name },
  { name: 'v2 with SHA-1 pieces but no v1 files', base: 'hybrid', edit: (_t, i) => delete i.files },
  {
    name: 'v2 with a wrong number of SHA-1 pieces',
    base: 'hybrid',
    edit: (_t, i) => delete i.files && (i.pieces = Buffer.alloc(20)),
  },
  {
    name: 'hybrid: a v1 length differs',
    base: 'hybrid',
    edit: (_t, i) => (d((i.files as BDict[])[0]).length = 40_001),
  },
  {
    name: 'hybrid: a v1 name differs',
    base: 'hybrid',
    edit: (_t, i) => (d((i.files as BDict[])[0]).path = [Buffer.from('x')]),
  },
  {
    name: 'hybrid: v1 files without pads',
    base: 'hybrid',
    edit: (_t, i) => (i.files = (i.files as BDict[]).filter((f) => f.attr === undefined)),
  },
  {
    name: 'hybrid: v1 without the tail pad (older libtorrent)',
    base: 'hybrid',
    edit: (_t, i) => {
      const fs = i.files as BDict[];
      fs.pop();
      i.pieces = (i.pieces as Buffer).subarray(0, (i.pieces as Buffer).length);
    },
  },
  {
    name: 'hybrid: a v1 file too many',
    base: 'hybrid',
    edit: (_t, i) => (i.files as BDict[]).push({ length: 0, path: [Buffer.from('zz')] }),
  },
  {
    name: 'hybrid: SHA-1 pieces too few',
    base: 'hybrid',
    edit: (_t, i) => (i.pieces = (i.pieces as Buffer).subarray(20)),
  },
  { name: 'hybrid: no SHA-1 pieces', base: 'hybrid', edit: (_t, i) => delete i.pieces },
  { name: 'piece layers missing', base: 'v2', edit: (t) => delete t['piece layers'] },
  { name: 'piece layers not a dictionary', base: 'v2', edit: (t) => (t['piece layers'] = 5) },
  {
    name: 'a piece layer that does not hash to its root',
    base: 'v2',
    edit: (t) => {
      const pl = d(t['piece layers']);
      const k = Object.keys(pl)[0]!;
      const bad = Buffer.from(pl[k] as Buffer);
      bad[0]! ^= 1;
      pl[k] = bad;
    },
  },
  {
    name: 'a piece layer one hash short',
    base: 'v2',
    edit: (t) => {
      const pl = d(t['piece layers']);
      const k = Object.keys(pl)[0]!;
      pl[k] = (pl[k] as Buffer).subarray(32);
    },
  },
  {
    name: 'a piece layer with a 31-byte key',
    base: 'v2',
    edit: (t) => (d(t['piece layers'])[Buffer.alloc(31, 9).toString('latin1')] = Buffer.alloc(96)),
  },
  {
    name: 'a piece layer that is not whole hashes',
    base: 'v2',
    edit: (t) => (d(t['piece layers'])[Buffer.alloc(32, 9).toString('latin1')] = Buffer.alloc(95)),
  },
  {
    name: 'a piece layer for an unknown root',
    base: 'v2',
    edit: (t) => (d(t['piece layers'])[Buffer.alloc(32, 9).toString('latin1')] = Buffer.alloc(96)),
  },
  {
    name: 'a piece layer for a file of one piece',
    base: 'v2',
    edit: (t, i) => {
      const root = leafOf(i, 'b', 'c')['pieces root'] as Buffer;
      d(t['piece layers'])[root.toString('latin1')] = root;
    },
  },
  {
    name: 'unsorted keys in a v2 info dictionary',
    base: 'v2',
    edit: () => {},
    raw: (b) => {
      // "meta version" and "name" swapped in place: same bytes, wrong order.
      const s = b.toString('latin1');
      const mv = '12:meta versioni2e';
      const nm = s.slice(s.indexOf('4:name'), s.indexOf('12:piece length'));
      return Buffer.from(s.replace(mv + nm, nm + mv), 'latin1');
    },
  },
];

test('v2/hybrid .torrent acceptance matches libtorrent', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const tmp = await tempDir();
  try {
    const dir = join(tmp.path, 'src');
    await mkdir(join(dir, 'b'), { recursive: true });
    await writeFile(join(dir, 'a'), seededBytes(40_000, 1)); // 3 pieces: has a piece layer
    await writeFile(join(dir, 'b', 'c'), seededBytes(5000, 2));
    await writeFile(join(dir, 'e'), Buffer.alloc(0));
    const base = {
      v2: (await createTorrent(dir, { version: 2, pieceLength: 16384, date: false })).torrent,
      hybrid: (await createTorrent(dir, { version: 'hybrid', pieceLength: 16384, date: false })).torrent,
    };
    const paths: string[] = [];
    const inputs: Buffer[] = [];
    for (const [i, c] of cases.entries()) {
      let buf: Buffer;
      if (c.raw) buf = c.raw(base[c.base]);
      else {
        const torrent = d(decode(base[c.base]));
        c.edit(torrent, d(torrent.info));
        buf = encode(torrent);
      }
      const p = join(tmp.path, `case${i}.torrent`);
      await writeFile(p, buf);
      paths.push(p);
      inputs.push(buf);
    }
    const r = spawnSync('/usr/bin/python3', [join(peersDir, 'lt_create.py'), 'load', ...paths], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const verdicts = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ok: boolean; error?: string; v1?: string | null; v2?: string | null });
    const mismatches: string[] = [];
    cases.forEach((c, i) => {
      const lt = verdicts[i]!;
      let ours: { ok: boolean; why: string; v1?: string; v2?: string };
      try {
        const m = parseTorrent(inputs[i]!);
        ours = {
          ok: true,
          why: m.version.toString(),
          v1: m.infoHashes.v1?.toString('hex'),
          v2: m.infoHashes.v2?.toString('hex'),
        };
      } catch (e) {
        if (!(e instanceof NbtError)) throw e;
        ours = { ok: false, why: `${e.code}: ${e.message}` };
      }
      if (ours.ok !== lt.ok)
        mismatches.push(
          `${c.name}: libtorrent ${lt.ok ? 'accepts' : `refuses (${lt.error})`}, we ${ours.ok ? 'accept' : `refuse (${ours.why})`}`,
        );
      else if (ours.ok && ((ours.v1 ?? null) !== lt.v1 || ours.v2 !== lt.v2))
        mismatches.push(`${c.name}: hashes differ (${ours.v1}/${ours.v2} vs ${lt.v1}/${lt.v2})`);
    });
    assert.deepEqual(mismatches, []);
  } finally {
    await tmp.cleanup();
  }
});

test('a piece layer that does not hash to its root is dropped, the rest kept', async () => {
  const tmp = await tempDir();
  try {
    await writeFile(join(tmp.path, 'a'), seededBytes(40_000, 1));
    const { torrent, metainfo } = await createTorrent(join(tmp.path, 'a'), {
      version: 2,
      pieceLength: 16384,
      date: false,
    });
    assert.equal(metainfo.pieceLayers.size, 1);
    const t = d(decode(torrent));
    const pl = d(t['piece layers']);
    const k = Object.keys(pl)[0]!;
    const bad = Buffer.from(pl[k] as Buffer);
    bad[5]! ^= 0x40;
    pl[k] = bad;
    const m = parseTorrent(encode(t));
    assert.equal(m.pieceLayers.size, 0);
    assert.ok(m.infoHashes.v2!.equals(metainfo.infoHashes.v2!), 'the info dictionary is untouched');
  } finally {
    await tmp.cleanup();
  }
});
