export { HashPool, sharedHashPool, type HashPoolOptions, type HashPiecesOptions } from './pool.js';
