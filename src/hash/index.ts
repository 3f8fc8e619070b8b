export {
  HashPool,
  sharedHashPool,
  type HashPoolOptions,
  type HashPiecesOptions,
  type FileSegment,
} from './pool.js';
