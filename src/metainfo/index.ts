export type { Metainfo, TorrentFile, FileSlice } from './types.js';
export {
  infoHashesOf,
  infoHashesHex,
  sameTorrent,
  wireInfoHash,
  wireInfoHashes,
  type InfoHashes,
} from './info-hash.js';
export { parseTorrent, parseInfoDict, MAX_TORRENT_BYTES, type ParseOptions } from './parse.js';
export { sanitizeComponent, sanitizePath } from './paths.js';
export { parseMagnet, buildMagnet, type MagnetLink, type MagnetInput } from './magnet.js';
export { createTorrent, autoPieceLength, type CreateOptions, type CreateProgress } from './create.js';
