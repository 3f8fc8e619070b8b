export {
  HashPool,
  sharedHashPool,
  type HashPoolOptions,
  type HashPiecesOptions,
  type FileSegment,
  type MerklePiece,
  type PlacedSegment,
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
