export {
  HashPool,
  sharedHashPool,
  type HashPoolOptions,
  type HashPiecesOptions,
  type FileSegment,
} from './pool.js';
export {
  MERKLE_BLOCK,
  MerkleHasher,
  blockHashes,
  fileRootOfLeaves,
  merkleLayers,
  merkleRoot,
  padHash,
  pieceLayerOf,
  proofOf,
  rootFromProof,
  rootOfPieceLayer,
  verifyBlock,
} from './merkle.js';
