export {
  METADATA_PIECE_SIZE,
  DEFAULT_MAX_METADATA_SIZE,
  pieceCount as metadataPieceCount,
  pieceLength as metadataPieceLength,
  encodeMetadataMessage,
  decodeMetadataMessage,
  metadataSizeFromHandshake,
  type MetadataMessage,
} from './ut-metadata.js';
export {
  MetadataFetcher,
  type MetadataFetcherOptions,
  type FetcherAction,
  type DropReason,
} from './metadata-fetcher.js';
export { MetadataServer, type MetadataServerOptions } from './metadata-server.js';
export {
  PexFlags,
  PEX_MAX_PEERS,
  PEX_MAX_PAYLOAD,
  encodePex,
  decodePex,
  pexAllowed,
  type PexPeer,
  type PexSourcedPeer,
  type PexMessage,
  type DecodedPex,
} from './ut-pex.js';
export { PexState, PEX_INTERVAL_MS, type PexStateOptions } from './pex-state.js';
