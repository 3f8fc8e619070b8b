/**
 * ut_metadata (BEP 9) message codec: a bencoded dict, followed for `data` messages by up to
 * 16 KiB of raw metadata. Pure; throws only NbtError (METADATA_*, BENCODE_*).
 */
import { decodePrefix, encode, dictGet, isDict, type BDict } from '../bencode/index.js';
import { NbtError } from '../util/errors.js';

export const METADATA_PIECE_SIZE = 16 * 1024;
/** Default largest metadata (info dict) we accept: 8 MiB, about 400k pieces. */
export const DEFAULT_MAX_METADATA_SIZE = 8 * 1024 * 1024;
/** Above any sane info dict; the per-fetcher limit is normally lower. */
const HARD_MAX_METADATA_SIZE = 64 * 1024 * 1024;

export type MetadataMessage =
  | { type: 'request'; piece: number }
  | { type: 'data'; piece: number; totalSize: number; data: Buffer }
  | { type: 'reject'; piece: number }
  /** BEP 9: unknown msg_type values must be ignored, so they decode rather than throw. */
  | { type: 'unknown'; msgType: number };

const TYPE_IDS = { request: 0, data: 1, reject: 2 } as const;

function fail(code: string, message: string, offset?: number): never {
  throw new NbtError(code, `ut_metadata: ${message}`, offset === undefined ? undefined : { offset });
}

export function pieceCount(metadataSize: number): number {
  return Math.ceil(metadataSize / METADATA_PIECE_SIZE);
}

/** Exact length piece `piece` must have in metadata of `metadataSize` bytes. */
export function pieceLength(metadataSize: number, piece: number): number {
  return Math.min(METADATA_PIECE_SIZE, metadataSize - piece * METADATA_PIECE_SIZE);
}

export function encodeMetadataMessage(msg: Exclude<MetadataMessage, { type: 'unknown' }>): Buffer {
  if (msg.type === 'data') {
    const head = encode({ msg_type: TYPE_IDS.data, piece: msg.piece, total_size: msg.totalSize });
    return Buffer.concat([head, msg.data]);
  }
  return encode({ msg_type: TYPE_IDS[msg.type], piece: msg.piece });
}

function smallInt(d: BDict, key: string, max: number): number {
  const v = dictGet(d, key);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    fail('METADATA_BAD_FIELD', `"${key}" missing or out of range`);
  return v;
}

export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage {
  const { value, end } = decodePrefix(payload, { maxDepth: 4, maxTokens: 64, allowUnsorted: true });
  if (!isDict(value)) fail('METADATA_NOT_DICT', 'message is not a dictionary', 0);
  const msgType = dictGet(value, 'msg_type');
  if (typeof msgType !== 'number') fail('METADATA_BAD_FIELD', '"msg_type" missing or not an integer');
  if (msgType !== 0 && msgType !== 1 && msgType !== 2) return { type: 'unknown', msgType };
  const piece = smallInt(value, 'piece', Math.ceil(HARD_MAX_METADATA_SIZE / METADATA_PIECE_SIZE));
  if (msgType === 0) return { type: 'request', piece };
  if (msgType === 2) return { type: 'reject', piece };
  const totalSize = smallInt(value, 'total_size', HARD_MAX_METADATA_SIZE);
  const data = Buffer.from(payload.buffer, payload.byteOffset + end, payload.length - end);
  if (data.length > METADATA_PIECE_SIZE)
    fail('METADATA_PIECE_TOO_LARGE', `piece of ${data.length} bytes`, end);
  return { type: 'data', piece, totalSize, data };
}

/**
 * `metadata_size` from a peer's decoded extension handshake (BEP 10 dict), when it is a
 * plausible positive size; undefined otherwise.
 */
export function metadataSizeFromHandshake(
  handshake: BDict,
  maxSize = DEFAULT_MAX_METADATA_SIZE,
): number | undefined {
  const v = dictGet(handshake, 'metadata_size');
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= maxSize ? v : undefined;
}
