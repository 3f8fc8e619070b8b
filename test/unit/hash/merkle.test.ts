import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  MERKLE_BLOCK,
  MerkleHasher,
  blockHashes,
  fileRootOfLeaves,
  merkleLayers,
  merkleRoot,
  nextPow2,
  padHash,
  pieceLayerOf,
  proofOf,
  rootFromProof,
  rootOfPieceLayer,
  verifyBlock,
} from '../../../src/hash/merkle.js';
import { isNbtError } from '../../../src/util/errors.js';
import { prng, seededBytes } from '../../helpers/tmp.js';

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The textbook tree: pad the leaves to `width` with zeros, hash pairs up to one. */
function naiveRoot(leaves: Buffer[], width: number): Buffer {
  let row = [...leaves];
  while (row.length < width) row.push(Buffer.alloc(32));
  while (row.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < row.length; i += 2) up.push(sha256(row[i]!, row[i + 1]!));
    row = up;
  }
  return row[0]!;
}

test('pad hashes are roots of all-zero subtrees', () => {
  assert.ok(padHash(0).equals(Buffer.alloc(32)));
  assert.ok(padHash(1).equals(sha256(Buffer.alloc(64))));
  assert.ok(padHash(3).equals(naiveRoot([], 8)));
  assert.throws(
    () => padHash(-1),
    (e: unknown) => isNbtError(e, 'MERKLE_BAD_INPUT'),
  );
});

test('merkleRoot hashes only real nodes yet equals the fully padded tree', () => {
  const r = prng(52);
  for (let n = 0; n <= 17; n++) {
    const leaves = Array.from({ length: n }, (_, i) => sha256(Buffer.from([i, Math.floor(r() * 256)])));
    for (const width of [nextPow2(n), nextPow2(n) * 4]) {
      const want = naiveRoot(leaves, width);
      assert.ok(merkleRoot(leaves, width).equals(want), `n=${n} width=${width}`);
      const layers = merkleLayers(leaves, width);
      assert.ok(layers[layers.length - 1]![0]!.equals(want));
      assert.equal(layers[0]!.length, width);
    }
  }
  // Pad subtrees above the leaves: a piece layer of 3 pieces of 4 blocks each.
  const layer = [sha256(Buffer.from('a')), sha256(Buffer.from('b')), sha256(Buffer.from('c'))];
  const viaLeaves = naiveRoot([...layer, padHash(2)], 4);
  assert.ok(rootOfPieceLayer(layer, 4).equals(viaLeaves));
  assert.throws(
    () => merkleRoot(layer, 3),
    (e: unknown) => isNbtError(e, 'MERKLE_BAD_INPUT'),
  );
  assert.throws(
    () => merkleRoot(layer, 2),
    (e: unknown) => isNbtError(e, 'MERKLE_BAD_INPUT'),
  );
});

test('file roots: small files are trees of their own leaves, large ones of their piece layer', () => {
  const bpp = 4; // 64 KiB pieces
  const oneBlock = seededBytes(100, 1);
  assert.ok(
    fileRootOfLeaves(blockHashes(oneBlock), bpp).equals(sha256(oneBlock)),
    'one leaf is its own root',
  );
  const three = seededBytes(2 * MERKLE_BLOCK + 1, 2);
  const l3 = blockHashes(three);
  assert.equal(l3.length, 3);
  assert.ok(
    l3[2]!.equals(sha256(three.subarray(2 * MERKLE_BLOCK))),
    'the last leaf hashes the short block as is',
  );
  assert.ok(fileRootOfLeaves(l3, bpp).equals(naiveRoot(l3, 4)));
  const big = seededBytes(9 * MERKLE_BLOCK + 5, 3); // 10 blocks: 3 pieces of 4 blocks
  const leaves = blockHashes(big);
  const layer = pieceLayerOf(leaves, bpp);
  assert.equal(layer.length, 3);
  assert.ok(layer[2]!.equals(naiveRoot(leaves.slice(8), 4)), 'the last piece is padded with zero leaves');
  // The whole tree over 16 leaves (10 real) has the same root as the piece layer's tree.
  assert.ok(fileRootOfLeaves(leaves, bpp).equals(naiveRoot(leaves, 16)));
});

test('proofs: every leaf verifies with its uncles, nothing else does', () => {
  const data = seededBytes(11 * MERKLE_BLOCK + 300, 4);
  const leaves = blockHashes(data);
  const layers = merkleLayers(leaves, 16);
  const root = layers[layers.length - 1]![0]!;
  for (let i = 0; i < leaves.length; i++) {
    const uncles = proofOf(layers, i);
    assert.equal(uncles.length, 4);
    const block = data.subarray(i * MERKLE_BLOCK, (i + 1) * MERKLE_BLOCK);
    assert.ok(verifyBlock(block, i, uncles, root), `block ${i}`);
    assert.ok(rootFromProof(leaves[i]!, i, uncles).equals(root));
    const bad = Buffer.from(block);
    bad[bad.length - 1]! ^= 1;
    assert.equal(verifyBlock(bad, i, uncles, root), false, `corrupt block ${i}`);
    assert.equal(verifyBlock(block, i ^ 1, uncles, root), false, `block ${i} at the wrong index`);
  }
  assert.equal(verifyBlock(Buffer.alloc(MERKLE_BLOCK + 1), 0, proofOf(layers, 0), root), false);
  assert.throws(
    () => rootFromProof(leaves[0]!, 16, proofOf(layers, 0)),
    (e: unknown) => isNbtError(e, 'MERKLE_BAD_INPUT'),
  );
  assert.throws(
    () => proofOf(layers, 16),
    (e: unknown) => isNbtError(e, 'MERKLE_BAD_INPUT'),
  );
  assert.throws(
    () => rootFromProof(leaves[0]!, 0, [Buffer.alloc(31)]),
    (e: unknown) => isNbtError(e, 'MERKLE_BAD_INPUT'),
  );
});

test('MerkleHasher streams any chunking, hashes only the data length', () => {
  const r = prng(7);
  const data = seededBytes(6 * MERKLE_BLOCK + 1234, 5);
  const want = merkleRoot(blockHashes(data), 8);
  for (let round = 0; round < 20; round++) {
    const h = new MerkleHasher(data.length, 8);
    for (let at = 0; at < data.length;) {
      const n = 1 + Math.floor(r() * 40_000);
      h.update(data.subarray(at, at + n));
      at += n;
    }
    assert.ok(h.digest().equals(want));
  }
  // Bytes after the data (pad zeros in the piece) do not count.
  const padded = Buffer.concat([data, Buffer.alloc(8 * MERKLE_BLOCK - data.length)]);
  assert.ok(new MerkleHasher(data.length, 8).update(padded).digest().equals(want));
  assert.throws(
    () => new MerkleHasher(9 * MERKLE_BLOCK, 8),
    (e: unknown) => isNbtError(e, 'MERKLE_BAD_INPUT'),
  );
  assert.throws(
    () => new MerkleHasher(10, 6),
    (e: unknown) => isNbtError(e, 'MERKLE_BAD_INPUT'),
  );
});
