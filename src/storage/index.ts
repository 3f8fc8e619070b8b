export {
  type StorageLayout,
  type StorageFile,
  type FileSpan,
  mapRange,
  filePieces,
  pieceSize,
  pieceRangeOffset,
  validateLayout,
  makeLayout,
} from './layout.js';
export type { Storage, ByteRange, FileStat, ReadIntoOptions } from './storage.js';
export { FileStorage, type FileStorageOptions } from './file-storage.js';
export { MemoryStorage } from './memory-storage.js';
export { checkStorage, checkFiles, type CheckOptions, type PieceHasher, type PieceHashes } from './check.js';
export {
  encodeResume,
  decodeResume,
  trustResume,
  RESUME_VERSION,
  MAX_RESUME_BYTES,
  type ResumeData,
  type ResumeExpect,
  type UnfinishedPiece,
  type TrustDecision,
} from './resume.js';
export { writeFileAtomic, readFileIfExists } from './atomic.js';
export { safeJoin, isInside, assertNotReserved } from './paths.js';
export { storageError } from './errors.js';
export { FilePool, type Lease } from './fd-pool.js';
export { PieceReadCache } from './read-cache.js';
