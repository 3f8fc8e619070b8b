/**
 * Peer wire messages (BEP 3, BEP 6 Fast extension, BEP 10 extension protocol, BEP 52 hashes) as a
 * discriminated union on `type`. Payload buffers (`bits`, `block`, `payload`) handed out by the
 * decoder are views into the received chunks whenever the message lay inside one chunk; copy them
 * if you keep them long after the chunk would otherwise be freed.
 */

/** Message ids on the wire (the byte after the 4-byte length). */
export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  extended: 20,
  hashRequest: 21,
  hashes: 22,
  hashReject: 23,
} as const;

/** Default and usual largest block length of a request (16 KiB). */
export const BLOCK_LENGTH = 16 * 1024;

/** A block reference: request, cancel and reject carry the same three integers. */
export interface BlockRef {
  index: number;
  begin: number;
  length: number;
}

export type KeepAliveMessage = { type: 'keepAlive' };
export type ChokeMessage = { type: 'choke' };
export type UnchokeMessage = { type: 'unchoke' };
export type InterestedMessage = { type: 'interested' };
export type NotInterestedMessage = { type: 'notInterested' };
export type HaveMessage = { type: 'have'; index: number };
/** The raw bitfield bytes (piece 0 = high bit of byte 0). */
export type BitfieldMessage = { type: 'bitfield'; bits: Buffer };
export type RequestMessage = { type: 'request' } & BlockRef;
export type PieceMessage = { type: 'piece'; index: number; begin: number; block: Buffer };
export type CancelMessage = { type: 'cancel' } & BlockRef;
/** BEP 5: the sender's DHT UDP port. */
export type PortMessage = { type: 'port'; port: number };
export type SuggestMessage = { type: 'suggest'; index: number };
export type HaveAllMessage = { type: 'haveAll' };
export type HaveNoneMessage = { type: 'haveNone' };
export type RejectMessage = { type: 'reject' } & BlockRef;
export type AllowedFastMessage = { type: 'allowedFast'; index: number };
/**
 * BEP 52: which hashes of one file's Merkle tree. `baseLayer` counts layers above the 16 KiB
 * leaves (0 = leaf hashes); `length` hashes of that layer start at `index` (a multiple of
 * `length`, a power of two); `proofLayers` ancestor layers of uncle hashes are asked for too.
 */
export interface HashRef {
  /** The file's 32-byte `pieces root`. */
  piecesRoot: Buffer;
  baseLayer: number;
  index: number;
  length: number;
  proofLayers: number;
}

/** Largest `length` of a hash request (libtorrent's limit: 8192, a 128 MiB piece's leaves). */
export const MAX_HASH_COUNT = 8192;
/** Largest `baseLayer` / `proofLayers`: no file tree is higher (2^30 blocks at most). */
export const MAX_HASH_LAYERS = 63;
/** Bytes of a hash request / reject body after the id: root + four uint32. */
export const HASH_REF_LENGTH = 32 + 16;

/**
 * Uncle hashes a `hashes` answer carries after its `length` base-layer hashes: the proof layers
 * the base hashes themselves cover (the first log2(length) - 1) are left out, as BEP 52 and
 * libtorrent do.
 */
export function uncleCount(ref: Pick<HashRef, 'length' | 'proofLayers'>): number {
  return Math.max(0, ref.proofLayers - Math.log2(ref.length) + 1);
}

export type HashRequestMessage = { type: 'hashRequest' } & HashRef;
/** `hashes`: `length` base-layer hashes then the uncle hashes, bottom up, 32 bytes each. */
export type HashesMessage = { type: 'hashes'; hashes: Buffer } & HashRef;
export type HashRejectMessage = { type: 'hashReject' } & HashRef;
/** BEP 10: `id` 0 is the extension handshake; other ids are the receiver's local extension ids. */
export type ExtendedMessage = { type: 'extended'; id: number; payload: Buffer };

export type Message =
  | KeepAliveMessage
  | ChokeMessage
  | UnchokeMessage
  | InterestedMessage
  | NotInterestedMessage
  | HaveMessage
  | BitfieldMessage
  | RequestMessage
  | PieceMessage
  | CancelMessage
  | PortMessage
  | SuggestMessage
  | HaveAllMessage
  | HaveNoneMessage
  | RejectMessage
  | AllowedFastMessage
  | ExtendedMessage
  | HashRequestMessage
  | HashesMessage
  | HashRejectMessage;

export type MessageType = Message['type'];

/** The message types that exist only with the Fast extension (BEP 6) negotiated. */
export const FAST_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  'suggest',
  'haveAll',
  'haveNone',
  'reject',
  'allowedFast',
]);
