import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent, parseInfoDict } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { blockHashes, merkleRoot, nextPow2, rootFromProof, splitHashes } from '../../../src/hash/merkle.js';
import {
  HASH_REQUEST_TIMEOUT_MS,
  HASH_REQUESTS_PER_PEER,
  HashExchange,
} from '../../../src/torrent/hash-exchange.js';
import { unverifiablePieces } from '../../../src/torrent/verification.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

const PIECE = 32 * 1024;

/** A v2 torrent with a 520-piece file (two 512-hash chunks), a 3-piece one and a small one. */
const dirs = new WeakMap<Metainfo, string>();
const dirOf = (m: Metainfo): string => dirs.get(m)!;

async function fixture(): Promise<{ full: Metainfo; bare: Metainfo; cleanup: () => Promise<void> }> {
  const tmp = await tempDir();
  await mkdir(join(tmp.path, 'd'));
  await writeFile(join(tmp.path, 'd', 'big'), seededBytes(520 * PIECE - 1000, 1));
  await writeFile(join(tmp.path, 'd', 'mid'), seededBytes(3 * PIECE - 5, 2));
  await writeFile(join(tmp.path, 'd', 'small'), seededBytes(100, 3));
  const { metainfo } = await createTorrent(join(tmp.path, 'd'), {
    version: 2,
    pieceLength: PIECE,
    date: false,
  });
  dirs.set(metainfo, join(tmp.path, 'd'));
  // What a magnet gets: the bare info dict, no piece layers.
  return { full: metainfo, bare: parseInfoDict(metainfo.info), cleanup: tmp.cleanup };
}

const all = (): boolean => true;

test('a magnet fetches its piece layers from a seed, each chunk proven against the pieces root', async () => {
  const { full, bare, cleanup } = await fixture();
  try {
    const seed = new HashExchange(full);
    const leech = new HashExchange(bare);
    assert.equal(leech.missingLayers, 2);
    assert.equal(unverifiablePieces(bare).length, 523);
    const peer = {};
    const refs = [];
    for (let r = leech.nextRequest(peer, all, 0); r; r = leech.nextRequest(peer, all, 0)) refs.push(r);
    // big: chunks at 0 (512) and 512 (8 left → 8 hashes, padded); mid: 3 pieces → 4 hashes
    assert.deepEqual(
      refs.map((r) => [r.baseLayer, r.index, r.length, r.proofLayers]).sort(),
      [
        [1, 0, 4, 1],
        [1, 0, 512, 9],
        [1, 512, 8, 9],
      ].sort(),
    );
    for (const r of refs) {
      const hashes = seed.answer(r);
      assert.ok(hashes, 'the seed serves the piece layer and its proof');
      assert.equal(leech.onHashes(peer, r, hashes).verdict, 'ok');
    }
    assert.equal(leech.missingLayers, 0);
    for (const [hex, layer] of full.pieceLayers) assert.ok(bare.pieceLayers.get(hex)?.equals(layer), hex);
    assert.deepEqual(unverifiablePieces(bare), []);
    assert.equal(leech.nextRequest(peer, all, 0), undefined);
  } finally {
    await cleanup();
  }
});

test('a lying answer is refused and the chunk goes to another peer; unsolicited answers are ignored', async () => {
  const { full, bare, cleanup } = await fixture();
  try {
    const seed = new HashExchange(full);
    const leech = new HashExchange(bare);
    const liar = {};
    const honest = {};
    const r = leech.nextRequest(liar, all, 0)!;
    const hashes = Buffer.from(seed.answer(r)!);
    hashes[40]! ^= 1;
    assert.equal(
      leech.onHashes(honest, r, hashes).verdict,
      'unsolicited',
      'asked of the liar, not of this peer',
    );
    assert.equal(leech.onHashes(liar, r, hashes).verdict, 'bad');
    assert.equal(leech.onHashes(liar, r, seed.answer(r)!).verdict, 'unsolicited', 'no longer outstanding');
    // the liar is never asked for that chunk again; the honest peer is
    const again: string[] = [];
    for (let x = leech.nextRequest(liar, all, 1); x; x = leech.nextRequest(liar, all, 1)) again.push(key(x));
    assert.ok(!again.includes(key(r)));
    const h = leech.nextRequest(honest, all, 1)!;
    assert.equal(key(h), key(r));
    assert.equal(leech.onHashes(honest, h, seed.answer(h)!).verdict, 'ok');
  } finally {
    await cleanup();
  }
});

test('requests go only to peers with a piece of the chunk, are capped per peer, time out, and survive rejects and departures', async () => {
  const { bare, cleanup } = await fixture();
  try {
    const leech = new HashExchange(bare);
    const none = {};
    assert.equal(
      leech.nextRequest(none, () => false, 0),
      undefined,
    );
    const a = {};
    const mid = bare.files.find((f) => f.name === 'd/mid')!;
    const first = mid.offset / PIECE;
    const r = leech.nextRequest(a, (p) => p === first + 2, 0)!;
    assert.equal(r.length, 4, 'only the chunk of mid, whose last piece the peer has');
    assert.equal(
      leech.nextRequest(a, (p) => p === first + 2, 0),
      undefined,
    );
    // rejected: someone else may have it
    leech.onReject(a, r);
    const b = {};
    assert.equal(key(leech.nextRequest(b, (p) => p >= first, 0)!), key(r));
    // b goes away: its request is free again at once
    leech.peerGone(b);
    const c = {};
    const sent = [];
    for (let x = leech.nextRequest(c, all, 0); x; x = leech.nextRequest(c, all, 0)) sent.push(x);
    assert.equal(sent.length, 3);
    // nobody answers: after the timeout another peer is asked
    const d = {};
    assert.equal(leech.nextRequest(d, all, HASH_REQUEST_TIMEOUT_MS - 1), undefined);
    assert.ok(leech.nextRequest(d, all, HASH_REQUEST_TIMEOUT_MS));
    assert.ok(HASH_REQUESTS_PER_PEER >= 1);
  } finally {
    await cleanup();
  }
});

test('the seed refuses requests it cannot or should not answer', async () => {
  const { full, cleanup } = await fixture();
  try {
    const seed = new HashExchange(full);
    const big = full.files.find((f) => f.name === 'd/big')!;
    const ok = { piecesRoot: big.piecesRoot!, baseLayer: 1, index: 0, length: 512, proofLayers: 9 };
    assert.equal(seed.answer(ok)!.length, 32 * (512 + 1));
    // whole upper layers are fine too: two hashes just below the root
    assert.equal(seed.answer({ ...ok, baseLayer: 10, length: 2, proofLayers: 0 })!.length, 64);
    for (const bad of [
      { ...ok, piecesRoot: Buffer.alloc(32, 1) }, // no such file
      { ...ok, baseLayer: 0, length: 2, proofLayers: 0 }, // leaf hashes: not kept
      { ...ok, index: 1024 }, // past the layer
      { ...ok, proofLayers: 10 }, // above the root
      { ...ok, baseLayer: 12, length: 2, proofLayers: 0 }, // above the root
      { ...ok, length: 1, proofLayers: 0 }, // BEP 52: at least two
    ])
      assert.equal(seed.answer(bad), undefined, JSON.stringify({ ...bad, piecesRoot: undefined }));
    // a small file has no piece layer to ask for
    const small = full.files.find((f) => f.name === 'd/small')!;
    assert.equal(
      seed.answer({ ...ok, piecesRoot: small.piecesRoot!, baseLayer: 0, length: 2, proofLayers: 0 }),
      undefined,
    );
  } finally {
    await cleanup();
  }
});

function key(r: { piecesRoot: Buffer; index: number }): string {
  return `${r.piecesRoot.toString('hex')}/${r.index}`;
}

test('leaf hashes are answered from a piece we have, with a proof that leads to the pieces root', async () => {
  const { full, cleanup } = await fixture();
  try {
    const seed = new HashExchange(full);
    const bpp = PIECE / 16384;
    const check = async (name: string, pieceInFile: number, length: number): Promise<void> => {
      const f = full.files.find((x) => x.name === name)!;
      const height = Math.log2(nextPow2(Math.ceil(f.length / 16384)));
      const ref = {
        piecesRoot: f.piecesRoot!,
        baseLayer: 0,
        index: pieceInFile * bpp,
        length,
        proofLayers: height - 1,
      };
      const piece = seed.leafPiece(ref);
      assert.equal(piece, f.offset / PIECE + pieceInFile);
      const data = await readFile(join(dirOf(full), name.split('/').slice(1).join('/')));
      const pieceData = data.subarray(pieceInFile * PIECE, (pieceInFile + 1) * PIECE);
      const hashes = seed.answerLeaves(ref, pieceData)!;
      assert.ok(hashes, `${name} piece ${pieceInFile}`);
      const leaves = splitHashes(hashes.subarray(0, length * 32));
      assert.deepEqual(leaves.slice(0, Math.ceil(pieceData.length / 16384)), blockHashes(pieceData));
      const uncles = splitHashes(hashes.subarray(length * 32));
      assert.equal(uncles.length, height - Math.log2(length));
      assert.ok(rootFromProof(merkleRoot(leaves, length), ref.index / length, uncles).equals(f.piecesRoot!));
      // bytes that are not the piece's: refused
      const wrong = Buffer.from(pieceData);
      wrong[0]! ^= 1;
      assert.equal(seed.answerLeaves(ref, wrong), undefined);
    };
    await check('d/big', 0, 2);
    await check('d/big', 519, 2); // the last, partial piece
    await check('d/mid', 1, 2);
    // a one-block file: its root is its only leaf, there is nothing to ask for
    const small = full.files.find((x) => x.name === 'd/small')!;
    assert.equal(
      seed.leafPiece({ piecesRoot: small.piecesRoot!, baseLayer: 0, index: 0, length: 2, proofLayers: 0 }),
      undefined,
    );
    // not a leaf request, or outside the tree
    const big = full.files.find((x) => x.name === 'd/big')!;
    assert.equal(
      seed.leafPiece({ piecesRoot: big.piecesRoot!, baseLayer: 1, index: 0, length: 2, proofLayers: 0 }),
      undefined,
    );
    assert.equal(
      seed.leafPiece({ piecesRoot: big.piecesRoot!, baseLayer: 0, index: 0, length: 4, proofLayers: 0 }),
      undefined,
    );
    assert.equal(
      seed.leafPiece({ piecesRoot: big.piecesRoot!, baseLayer: 0, index: 2000, length: 2, proofLayers: 0 }),
      undefined,
    );
  } finally {
    await cleanup();
  }
});
