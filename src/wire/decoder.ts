import { NbtError } from '../util/errors.js';
import {
  BLOCK_LENGTH,
  HASH_REF_LENGTH,
  MAX_HASH_COUNT,
  MAX_HASH_LAYERS,
  MessageId,
  uncleCount,
  type HashRef,
  type Message,
} from './messages.js';

export interface DecoderOptions {
  /**
   * Pieces in the torrent. When known, a bitfield must be exactly ceil(n/8) bytes with zero
   * spare bits and piece indices must be < n. Unknown (magnet links): bitfields up to
   * `maxBitfieldBytes` pass and the caller validates them later. Change it with `setPieceCount`.
   */
  pieceCount?: number;
  /** Largest length a request/cancel/reject may name, and largest piece block. Default 16 KiB. */
  maxRequestLength?: number;
  /** Bitfield size limit while the piece count is unknown. Default 256 KiB (2M pieces). */
  maxBitfieldBytes?: number;
  /** Largest extended message payload (BEP 10). Default 256 KiB. */
  maxExtendedLength?: number;
}

type Sink = (m: Message) => void;

const HEADER_NONE = -1;

/**
 * Incremental peer-wire decoder (after the handshake). Chunks are kept as a list and never
 * concatenated; a message body that lies inside one chunk is handed on as a subarray (piece
 * blocks included), and only bodies split across chunks are copied once.
 *
 * Limits are checked as soon as the length prefix and id byte are known, so an oversized
 * message fails before its body is buffered (a prefix longer than any message may be fails on
 * its 4 bytes alone). Every failure is an NbtError with a WIRE_* code and
 * the stream offset of the offending message.
 */
export class WireDecoder {
  private chunks: Buffer[] = [];
  private head = 0;
  /** Read position inside chunks[head]. */
  private pos = 0;
  private buffered = 0;
  /** Stream offset of the next unread byte (for error offsets). */
  private consumed = 0;
  /** Body length of the message being read (after its 4-byte prefix), or HEADER_NONE. */
  private need = HEADER_NONE;
  private failed: NbtError | undefined;
  /** The chunk being drained will be reused by the caller (see push). */
  private transient = false;
  private pieceCount: number | undefined;
  private readonly maxRequestLength: number;
  private readonly maxBitfieldBytes: number;
  private readonly maxExtendedLength: number;

  constructor(options: DecoderOptions = {}) {
    this.pieceCount = options.pieceCount;
    this.maxRequestLength = options.maxRequestLength ?? BLOCK_LENGTH;
    this.maxBitfieldBytes = options.maxBitfieldBytes ?? 256 * 1024;
    this.maxExtendedLength = options.maxExtendedLength ?? 256 * 1024;
  }

  /** Longest message (body length after the prefix) any id may have under the current limits. */
  get maxMessageLength(): number {
    const bitfield = this.pieceCount === undefined ? this.maxBitfieldBytes : (this.pieceCount + 7) >>> 3;
    return Math.max(9 + this.maxRequestLength, 1 + bitfield, 1 + this.maxExtendedLength);
  }

  setPieceCount(pieceCount: number | undefined): void {
    this.pieceCount = pieceCount;
  }

  /** Bytes received but not yet decoded. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds a chunk and returns the messages it completed (or passes each to `sink` and returns an
   * empty array). After an error every further push throws the same error.
   *
   * `transient`: the caller reuses `chunk`'s memory once push returns (a shared socket read
   * buffer). Then bitfield and extended payloads are copied, bytes of an unfinished message are
   * copied, and only piece blocks stay views — valid until the sink returns.
   */
  push(chunk: Buffer, sink?: Sink, transient = false): Message[] {
    if (this.failed) throw this.failed;
    const out: Message[] = [];
    const emit: Sink = sink ?? ((m) => void out.push(m));
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    try {
      this.transient = transient;
      this.drain(emit);
      if (transient && this.buffered > 0) this.ownTail(chunk);
    } catch (e) {
      if (e instanceof NbtError) this.failed = e;
      throw e;
    }
    return out;
  }

  private drain(emit: Sink): void {
    for (;;) {
      if (this.need === HEADER_NONE) {
        if (this.buffered < 4) return;
        const len = this.readUInt32(0);
        if (len === 0) {
          this.skip(4);
          emit({ type: 'keepAlive' });
          continue;
        }
        // Longer than any message may be: fail on the prefix alone, without waiting for the id.
        if (len > this.maxMessageLength)
          throw new NbtError('WIRE_MESSAGE_TOO_LARGE', `message of ${len} bytes`, { offset: this.consumed });
        if (this.buffered < 5) return;
        this.checkLength(this.byteAt(4), len);
        this.skip(4);
        this.need = len;
      }
      if (this.buffered < this.need) return;
      const len = this.need;
      const start = this.consumed;
      const body = this.take(len);
      this.need = HEADER_NONE;
      emit(this.parse(body, start));
    }
  }

  private checkLength(id: number, len: number): void {
    const at = this.consumed;
    const fixed = (want: number): void => {
      if (len !== want)
        throw new NbtError('WIRE_MALFORMED', `message id ${id} has length ${len}, expected ${want}`, {
          offset: at,
        });
    };
    switch (id) {
      case MessageId.choke:
      case MessageId.unchoke:
      case MessageId.interested:
      case MessageId.notInterested:
      case MessageId.haveAll:
      case MessageId.haveNone:
        return fixed(1);
      case MessageId.have:
      case MessageId.suggest:
      case MessageId.allowedFast:
        return fixed(5);
      case MessageId.request:
      case MessageId.cancel:
      case MessageId.reject:
        return fixed(13);
      case MessageId.port:
        return fixed(3);
      case MessageId.piece:
        if (len < 9) throw new NbtError('WIRE_MALFORMED', `piece message of length ${len}`, { offset: at });
        if (len > 9 + this.maxRequestLength)
          throw new NbtError(
            'WIRE_MESSAGE_TOO_LARGE',
            `piece block of ${len - 9} bytes exceeds ${this.maxRequestLength}`,
            {
              offset: at,
            },
          );
        return;
      case MessageId.bitfield: {
        if (this.pieceCount !== undefined) {
          const want = (this.pieceCount + 7) >>> 3;
          if (len - 1 !== want)
            throw new NbtError('WIRE_BAD_BITFIELD', `bitfield of ${len - 1} bytes, expected ${want}`, {
              offset: at,
            });
        } else if (len - 1 > this.maxBitfieldBytes)
          throw new NbtError(
            'WIRE_MESSAGE_TOO_LARGE',
            `bitfield of ${len - 1} bytes exceeds ${this.maxBitfieldBytes}`,
            {
              offset: at,
            },
          );
        return;
      }
      case MessageId.extended:
        if (len < 2) throw new NbtError('WIRE_MALFORMED', 'extended message without an id', { offset: at });
        if (len - 2 > this.maxExtendedLength)
          throw new NbtError(
            'WIRE_MESSAGE_TOO_LARGE',
            `extended message of ${len - 2} bytes exceeds ${this.maxExtendedLength}`,
            {
              offset: at,
            },
          );
        return;
      case MessageId.hashRequest:
      case MessageId.hashReject:
        return fixed(1 + HASH_REF_LENGTH);
      case MessageId.hashes:
        // Bounded by maxMessageLength (the drain loop checked it): ~8,000 hashes, more than we
        // ever ask for in one request (512 piece hashes, or one piece's leaves).
        if (len < 1 + HASH_REF_LENGTH + 32 || (len - 1 - HASH_REF_LENGTH) % 32 !== 0)
          throw new NbtError('WIRE_BAD_HASHES', `hashes message of length ${len}`, { offset: at });
        return;
      default:
        if (len > this.maxMessageLength)
          throw new NbtError('WIRE_MESSAGE_TOO_LARGE', `message of ${len} bytes`, { offset: at });
        throw new NbtError('WIRE_UNKNOWN_MESSAGE', `unknown message id ${id}`, { offset: at });
    }
  }

  private parse(body: Buffer, at: number): Message {
    const id = body[0]!;
    switch (id) {
      case MessageId.choke:
        return { type: 'choke' };
      case MessageId.unchoke:
        return { type: 'unchoke' };
      case MessageId.interested:
        return { type: 'interested' };
      case MessageId.notInterested:
        return { type: 'notInterested' };
      case MessageId.haveAll:
        return { type: 'haveAll' };
      case MessageId.haveNone:
        return { type: 'haveNone' };
      case MessageId.have:
        return { type: 'have', index: this.index(body, at) };
      case MessageId.suggest:
        return { type: 'suggest', index: this.index(body, at) };
      case MessageId.allowedFast:
        return { type: 'allowedFast', index: this.index(body, at) };
      case MessageId.request:
      case MessageId.cancel:
      case MessageId.reject: {
        const index = this.index(body, at);
        const begin = body.readUInt32BE(5);
        const length = body.readUInt32BE(9);
        if (length === 0 || length > this.maxRequestLength)
          throw new NbtError(
            'WIRE_BAD_REQUEST',
            `block length ${length} outside 1..${this.maxRequestLength}`,
            {
              offset: at,
            },
          );
        const type = id === MessageId.request ? 'request' : id === MessageId.cancel ? 'cancel' : 'reject';
        return { type, index, begin, length };
      }
      case MessageId.piece:
        return {
          type: 'piece',
          index: this.index(body, at),
          begin: body.readUInt32BE(5),
          block: body.subarray(9),
        };
      case MessageId.port:
        return { type: 'port', port: body.readUInt16BE(1) };
      case MessageId.bitfield: {
        const bits = this.transient ? Buffer.from(body.subarray(1)) : body.subarray(1);
        if (this.pieceCount !== undefined) checkSpareBits(bits, this.pieceCount, at);
        return { type: 'bitfield', bits };
      }
      case MessageId.hashRequest:
        return { type: 'hashRequest', ...hashRef(body, at) };
      case MessageId.hashReject:
        return { type: 'hashReject', ...hashRef(body, at) };
      case MessageId.hashes: {
        const ref = hashRef(body, at);
        const hashes = Buffer.from(body.subarray(1 + HASH_REF_LENGTH));
        if (hashes.length !== 32 * (ref.length + uncleCount(ref)))
          throw new NbtError(
            'WIRE_BAD_HASHES',
            `hashes message with ${hashes.length / 32} hashes for ${ref.length} and ${uncleCount(ref)} uncles`,
            { offset: at },
          );
        return { type: 'hashes', ...ref, hashes };
      }
      default:
        // Only extended remains: checkLength rejected every other id.
        return {
          type: 'extended',
          id: body[1]!,
          payload: this.transient ? Buffer.from(body.subarray(2)) : body.subarray(2),
        };
    }
  }

  private index(body: Buffer, at: number): number {
    const index = body.readUInt32BE(1);
    if (this.pieceCount !== undefined && index >= this.pieceCount)
      throw new NbtError('WIRE_BAD_INDEX', `piece index ${index} >= piece count ${this.pieceCount}`, {
        offset: at,
      });
    return index;
  }

  /** Byte at `offset` from the read position (offset < buffered). */
  private byteAt(offset: number): number {
    let i = this.head;
    let o = this.pos + offset;
    while (o >= this.chunks[i]!.length) {
      o -= this.chunks[i]!.length;
      i++;
    }
    return this.chunks[i]![o]!;
  }

  private readUInt32(offset: number): number {
    const c = this.chunks[this.head]!;
    const p = this.pos + offset;
    if (p + 4 <= c.length) return c.readUInt32BE(p);
    return (
      ((this.byteAt(offset) << 24) |
        (this.byteAt(offset + 1) << 16) |
        (this.byteAt(offset + 2) << 8) |
        this.byteAt(offset + 3)) >>>
      0
    );
  }

  private skip(n: number): void {
    this.buffered -= n;
    this.consumed += n;
    while (n > 0) {
      const c = this.chunks[this.head]!;
      const left = c.length - this.pos;
      if (n < left) {
        this.pos += n;
        return;
      }
      n -= left;
      this.advanceChunk();
    }
  }

  /** Takes n bytes (n <= buffered): a view when they lie in one chunk, else one copy. */
  private take(n: number): Buffer {
    const c = this.chunks[this.head]!;
    if (this.pos + n <= c.length) {
      const view = c.subarray(this.pos, this.pos + n);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const cur = this.chunks[this.head]!;
      const k = Math.min(n - filled, cur.length - this.pos);
      cur.copy(out, filled, this.pos, this.pos + k);
      filled += k;
      this.skip(k);
    }
    return out;
  }

  /** Replaces the unread part of `chunk` (the last one buffered) with a copy. */
  private ownTail(chunk: Buffer): void {
    const last = this.chunks.length - 1;
    if (this.chunks[last] !== chunk) return;
    const from = last === this.head ? this.pos : 0;
    this.chunks[last] = Buffer.from(chunk.subarray(from));
    if (last === this.head) this.pos = 0;
  }

  private advanceChunk(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.pos = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 64) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The BEP 52 request fields after the id, checked: base and proof layers below 64, length a
 * power of two up to MAX_HASH_COUNT, index a multiple of length. The root is copied (hash
 * messages are rare; the chunk may be a reused read buffer).
 */
function hashRef(body: Buffer, at: number): HashRef {
  const baseLayer = body.readUInt32BE(33);
  const index = body.readUInt32BE(37);
  const length = body.readUInt32BE(41);
  const proofLayers = body.readUInt32BE(45);
  const bad = (why: string): never => {
    throw new NbtError('WIRE_BAD_HASH_REQUEST', `hash request: ${why}`, { offset: at });
  };
  if (baseLayer > MAX_HASH_LAYERS) bad(`base layer ${baseLayer} above ${MAX_HASH_LAYERS}`);
  if (proofLayers > MAX_HASH_LAYERS) bad(`${proofLayers} proof layers above ${MAX_HASH_LAYERS}`);
  if (length === 0 || length > MAX_HASH_COUNT || (length & (length - 1)) !== 0)
    bad(`length ${length} is not a power of two in 1..${MAX_HASH_COUNT}`);
  if (index % length !== 0) bad(`index ${index} is not a multiple of length ${length}`);
  return { piecesRoot: Buffer.from(body.subarray(1, 33)), baseLayer, index, length, proofLayers };
}

/** Throws WIRE_BAD_BITFIELD when bits past `pieceCount` are set or the length is wrong. */
export function checkSpareBits(bits: Uint8Array, pieceCount: number, at = 0): void {
  const want = (pieceCount + 7) >>> 3;
  if (bits.length !== want)
    throw new NbtError('WIRE_BAD_BITFIELD', `bitfield of ${bits.length} bytes, expected ${want}`, {
      offset: at,
    });
  const spare = want * 8 - pieceCount;
  if (spare > 0 && (bits[want - 1]! & ((1 << spare) - 1)) !== 0)
    throw new NbtError('WIRE_BAD_BITFIELD', 'bitfield has spare bits set', { offset: at });
}
