import { NbtError } from '../util/errors.js';
import { HASH_REF_LENGTH, MessageId, type HashRef, type Message } from './messages.js';

/**
 * Every encoder writes its small messages into one shared slab, bump-allocated and never
 * rewritten (a region handed out may still sit in a socket's write queue): an idle connection
 * holds no scratch of its own (1,000 of them held 1 KiB each), and a slab lives only as long as
 * chunks of it are queued.
 */
const SLAB = 16384;
const EMPTY = Buffer.alloc(0);
const shared = { slab: EMPTY, top: 0 };

export class WireEncoder {
  /** The shared slab while this encoder has unflushed bytes in it, else EMPTY. */
  private scratch = EMPTY;
  /** Start of the not-yet-handed-out region of the scratch buffer. */
  private start = 0;
  private pos = 0;
  /** The slab's top after our last reservation: unchanged means our region can grow. */
  private reserved = -1;
  private out: Buffer[] = [];
  private bytes = 0;

  /** Bytes queued and not yet flushed. */
  get pendingBytes(): number {
    return this.bytes;
  }

  get empty(): boolean {
    return this.bytes === 0;
  }

  /** Queues raw bytes (e.g. a handshake) in order with the messages. */
  queueRaw(data: Buffer): void {
    if (data.length <= 256) {
      data.copy(this.room(data.length), 0);
      this.pos += data.length;
    } else {
      this.cut();
      this.out.push(data);
    }
    this.bytes += data.length;
  }

  queue(msg: Message): void {
    switch (msg.type) {
      case 'keepAlive':
        this.header(0, -1);
        break;
      case 'choke':
        this.header(1, MessageId.choke);
        break;
      case 'unchoke':
        this.header(1, MessageId.unchoke);
        break;
      case 'interested':
        this.header(1, MessageId.interested);
        break;
      case 'notInterested':
        this.header(1, MessageId.notInterested);
        break;
      case 'haveAll':
        this.header(1, MessageId.haveAll);
        break;
      case 'haveNone':
        this.header(1, MessageId.haveNone);
        break;
      case 'have':
        this.indexMessage(MessageId.have, msg.index);
        break;
      case 'suggest':
        this.indexMessage(MessageId.suggest, msg.index);
        break;
      case 'allowedFast':
        this.indexMessage(MessageId.allowedFast, msg.index);
        break;
      case 'request':
        this.blockRef(MessageId.request, msg.index, msg.begin, msg.length);
        break;
      case 'cancel':
        this.blockRef(MessageId.cancel, msg.index, msg.begin, msg.length);
        break;
      case 'reject':
        this.blockRef(MessageId.reject, msg.index, msg.begin, msg.length);
        break;
      case 'port': {
        u16(msg.port, 'port');
        const b = this.header(3, MessageId.port);
        this.scratch.writeUInt16BE(msg.port, b);
        this.pos += 2;
        break;
      }
      case 'piece': {
        const index = u32(msg.index, 'index');
        const begin = u32(msg.begin, 'begin');
        const b = this.header(9 + msg.block.length, MessageId.piece, 8);
        this.scratch.writeUInt32BE(index, b);
        this.scratch.writeUInt32BE(begin, b + 4);
        this.pos += 8;
        this.attach(msg.block);
        break;
      }
      case 'bitfield':
        this.header(1 + msg.bits.length, MessageId.bitfield);
        this.attach(msg.bits);
        break;
      case 'hashRequest':
        this.hashRef(MessageId.hashRequest, msg, 0);
        break;
      case 'hashReject':
        this.hashRef(MessageId.hashReject, msg, 0);
        break;
      case 'hashes':
        if (msg.hashes.length % 32 !== 0)
          throw new NbtError('WIRE_BAD_ARGUMENT', `${msg.hashes.length} bytes are not whole hashes`);
        this.hashRef(MessageId.hashes, msg, msg.hashes.length);
        this.attach(msg.hashes);
        break;
      case 'extended': {
        const id = u8(msg.id, 'extended id');
        const b = this.header(2 + msg.payload.length, MessageId.extended, 1);
        this.scratch[b] = id;
        this.pos += 1;
        this.attach(msg.payload);
        break;
      }
    }
  }

  /** Returns the queued chunks (to write in order) and resets. */
  flush(): Buffer[] {
    this.cut();
    this.scratch = EMPTY;
    this.start = this.pos = 0;
    this.reserved = -1;
    const out = this.out;
    this.out = [];
    this.bytes = 0;
    return out;
  }

  private indexMessage(id: number, index: number): void {
    u32(index, 'index');
    const b = this.header(5, id, 4);
    this.scratch.writeUInt32BE(index, b);
    this.pos += 4;
  }

  /** Id, pieces root and the four integers of a BEP 52 message; `extra` bytes follow later. */
  private hashRef(id: number, ref: HashRef, extra: number): void {
    if (ref.piecesRoot.length !== 32) throw new NbtError('WIRE_BAD_ARGUMENT', 'pieces root must be 32 bytes');
    const ints = [ref.baseLayer, ref.index, ref.length, ref.proofLayers].map((v) => u32(v, 'hash field'));
    const b = this.header(1 + HASH_REF_LENGTH + extra, id, HASH_REF_LENGTH);
    ref.piecesRoot.copy(this.scratch, b);
    for (let i = 0; i < 4; i++) this.scratch.writeUInt32BE(ints[i]!, b + 32 + 4 * i);
    this.pos += HASH_REF_LENGTH;
  }

  private blockRef(id: number, index: number, begin: number, length: number): void {
    u32(index, 'index');
    u32(begin, 'begin');
    u32(length, 'length');
    const b = this.header(13, id, 12);
    this.scratch.writeUInt32BE(index, b);
    this.scratch.writeUInt32BE(begin, b + 4);
    this.scratch.writeUInt32BE(length, b + 8);
    this.pos += 12;
  }

  /**
   * Writes the length prefix and id (id < 0: none) and reserves `extra` more bytes; returns the
   * scratch offset where the caller writes those extra bytes. `bytes` counts the whole message
   * body, including data attached later.
   */
  private header(length: number, id: number, extra = 0): number {
    this.room(5 + extra);
    this.scratch.writeUInt32BE(length, this.pos);
    this.pos += 4;
    if (id >= 0) this.scratch[this.pos++] = id;
    this.bytes += 4 + length;
    return this.pos;
  }

  /** Small payloads are copied into the scratch (fewer chunks); big ones go out as their own chunk. */
  private attach(data: Buffer): void {
    if (data.length <= 64) {
      data.copy(this.room(data.length), 0);
      this.pos += data.length;
      return;
    }
    this.cut();
    this.out.push(data);
  }

  /** Makes sure `n` bytes fit in the scratch (reserved in the slab); returns a view at `pos`. */
  private room(n: number): Buffer {
    const extends_ =
      this.scratch === shared.slab && shared.top === this.reserved && this.pos + n <= this.scratch.length;
    if (!extends_) {
      // Another encoder took the bytes after ours, or the slab is full: a new region.
      this.cut();
      if (shared.top + n > shared.slab.length) {
        shared.slab = Buffer.allocUnsafeSlow(Math.max(SLAB, n));
        shared.top = 0;
      }
      this.scratch = shared.slab;
      this.start = this.pos = shared.top;
    }
    shared.top = this.reserved = this.pos + n;
    return this.scratch.subarray(this.pos);
  }

  /** Hands out the written part of the scratch as a chunk; later writes go after it. */
  private cut(): void {
    if (this.pos > this.start) {
      this.out.push(this.scratch.subarray(this.start, this.pos));
      this.start = this.pos;
    }
  }
}

/** Encodes one message as a single buffer (copies piece data: for tests and rare messages). */
export function encodeMessage(msg: Message): Buffer {
  const e = new WireEncoder();
  e.queue(msg);
  const chunks = e.flush();
  return chunks.length === 1 ? Buffer.from(chunks[0]!) : Buffer.concat(chunks);
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new NbtError('WIRE_BAD_ARGUMENT', `${what} ${v} is not a uint32`);
  return v;
}

function u16(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff)
    throw new NbtError('WIRE_BAD_ARGUMENT', `${what} ${v} is not a uint16`);
  return v;
}

function u8(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff)
    throw new NbtError('WIRE_BAD_ARGUMENT', `${what} ${v} is not a byte`);
  return v;
}
