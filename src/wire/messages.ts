/**
 * Peer wire messages (BEP 3, BEP 6 Fast extension, BEP 10 extension protocol) as a
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
  | ExtendedMessage;

export type MessageType = Message['type'];

/** The message types that exist only with the Fast extension (BEP 6) negotiated. */
export const FAST_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  'suggest',
  'haveAll',
  'haveNone',
  'reject',
  'allowedFast',
]);
