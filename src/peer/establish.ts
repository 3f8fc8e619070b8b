/**
 * The part of a connection before the BitTorrent handshake is complete, as a sans-I/O state
 * machine: optional MSE (initiator or responder), then the remote's 68-byte plaintext handshake.
 * Bytes in; bytes to send and, at the end, the handshake plus the ciphers and leftover bytes out.
 * Failures are NbtErrors (WIRE_*, MSE_*, PEER_*) that `reasonForError` maps to disconnect reasons.
 */
import { NbtError } from '../util/errors.js';
import { MseInitiator, MseResponder, type Rc4, type CryptoMethod, type MseStep } from '../mse/index.js';
import {
  HANDSHAKE_LENGTH,
  PROTOCOL_NAME,
  checkHandshakeStart,
  parseHandshake,
  type Handshake,
} from '../wire/index.js';
import type { EncryptionPolicy, PeerEncryption } from './types.js';

export interface Established {
  handshake: Handshake;
  encryption: PeerEncryption;
  /** Cipher for everything we send from now on (null = plaintext). */
  encrypt: Rc4 | null;
  decrypt: Rc4 | null;
  /** Decrypted bytes that followed the handshake (the first wire messages). */
  rest: Buffer;
}

export interface StageStep {
  send?: Buffer;
  done?: Established;
}

/** Most bytes we buffer while looking for the handshake (it is 68; MSE bounds itself). */
const MAX_PENDING = 64 * 1024;

abstract class Stage {
  protected pending: Buffer = Buffer.alloc(0);
  protected decrypt: Rc4 | null = null;
  protected encrypt: Rc4 | null = null;
  protected encryption: PeerEncryption = 'none';
  /** The info-hash the remote's handshake must name (outgoing: ours; incoming MSE: the SKEY). */
  protected expectedInfoHash: Buffer | undefined;
  /** A second name the reply may use (a hybrid's truncated v2 hash: BEP 52's upgrade to v2). */
  protected alsoAccepted: Buffer | undefined;
  protected finished = false;

  /** Collects plaintext handshake bytes; returns the result once 68 bytes are there. */
  protected readHandshake(data: Buffer): Established | undefined {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    checkHandshakeStart(this.pending);
    if (this.pending.length < HANDSHAKE_LENGTH) {
      if (this.pending.length > MAX_PENDING) throw new NbtError('WIRE_BAD_HANDSHAKE', 'handshake too long');
      return undefined;
    }
    const handshake = parseHandshake(this.pending);
    const ih = handshake.infoHash;
    if (this.expectedInfoHash && !ih.equals(this.expectedInfoHash) && !this.alsoAccepted?.equals(ih))
      throw new NbtError(
        'PEER_HANDSHAKE_INFOHASH',
        `handshake names info-hash ${handshake.infoHash.toString('hex')}, expected ${this.expectedInfoHash.toString('hex')}`,
      );
    this.finished = true;
    const rest = this.pending.subarray(HANDSHAKE_LENGTH);
    this.pending = Buffer.alloc(0);
    return { handshake, encryption: this.encryption, encrypt: this.encrypt, decrypt: this.decrypt, rest };
  }

  protected afterMse(step: MseStep, out: StageStep): void {
    if (step.send) out.send = step.send;
    const o = step.done;
    if (!o) return;
    this.encrypt = o.encrypt;
    this.decrypt = o.decrypt;
    this.encryption = o.method === 'rc4' ? 'rc4' : 'plaintext-negotiated';
    this.expectedInfoHash = o.infoHash;
    const data = o.initialPayload.length ? Buffer.concat([o.initialPayload, o.remainder]) : o.remainder;
    const done = this.readHandshake(data);
    if (done) out.done = done;
  }

  protected decryptChunk(chunk: Buffer): Buffer {
    if (this.decrypt) this.decrypt.process(chunk);
    return chunk;
  }
}

/** We connect: MSE initiator (our handshake rides as its IA) or a plaintext handshake. */
export class OutgoingStage extends Stage {
  private readonly mse: MseInitiator | undefined;
  private readonly ourHandshake: Buffer;

  constructor(o: {
    infoHash: Buffer;
    ourHandshake: Buffer;
    mse: false | CryptoMethod[];
    altInfoHash?: Buffer | undefined;
  }) {
    super();
    this.expectedInfoHash = o.infoHash;
    this.alsoAccepted = o.altInfoHash;
    this.ourHandshake = o.ourHandshake;
    if (o.mse)
      this.mse = new MseInitiator({ infoHash: o.infoHash, provide: o.mse, initialPayload: o.ourHandshake });
  }

  get usesMse(): boolean {
    return this.mse !== undefined;
  }

  /** Still inside the MSE exchange (a failure now may be retried in plaintext). */
  get encrypting(): boolean {
    return this.mse !== undefined && this.encryption === 'none';
  }

  /** The first bytes to send (MSE step 1, or our plaintext handshake). */
  start(): Buffer {
    return this.mse ? this.mse.start() : this.ourHandshake;
  }

  receive(chunk: Buffer): StageStep {
    const out: StageStep = {};
    if (this.finished) throw new NbtError('PEER_STATE', 'handshake stage already finished');
    if (this.mse && this.encryption === 'none') {
      this.afterMse(this.mse.receive(chunk), out);
      return out;
    }
    const done = this.readHandshake(this.decryptChunk(chunk));
    if (done) out.done = done;
    return out;
  }
}

/** They connect: plaintext or MSE responder, chosen by the first bytes and our policy. */
export class IncomingStage extends Stage {
  private mse: MseResponder | undefined;
  private mode: 'sniff' | 'plain' | 'mse' = 'sniff';

  constructor(private readonly o: { policy: EncryptionPolicy; infoHashes: () => Iterable<Buffer> }) {
    super();
  }

  receive(chunk: Buffer): StageStep {
    const out: StageStep = {};
    if (this.finished) throw new NbtError('PEER_STATE', 'handshake stage already finished');
    if (this.mode === 'sniff') {
      const seen = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      const n = Math.min(seen.length, 20);
      let plain = seen[0] === 19;
      for (let i = 1; plain && i < n; i++) if (seen[i] !== PROTOCOL_NAME[i - 1]) plain = false;
      if (this.o.policy === 'disabled') {
        if (seen[0] !== 19)
          throw new NbtError(
            'PEER_ENCRYPTION_DISABLED',
            'the peer sent an encrypted handshake; encryption is disabled',
          );
        this.mode = 'plain';
        this.pending = Buffer.alloc(0);
        const done = this.readHandshake(seen);
        if (done) out.done = done;
        return out;
      }
      if (plain && n < 20) {
        this.pending = seen;
        return out;
      }
      this.pending = Buffer.alloc(0);
      if (plain) {
        if (this.o.policy === 'required')
          throw new NbtError(
            'PEER_ENCRYPTION_REQUIRED',
            'the peer sent a plaintext handshake; encryption is required',
          );
        this.mode = 'plain';
        const done = this.readHandshake(seen);
        if (done) out.done = done;
        return out;
      }
      this.mode = 'mse';
      const allow: CryptoMethod[] = this.o.policy === 'required' ? ['rc4'] : ['rc4', 'plaintext'];
      this.mse = new MseResponder({ infoHashes: this.o.infoHashes, allow });
      this.afterMse(this.mse.receive(seen), out);
      return out;
    }
    if (this.mode === 'mse' && this.encryption === 'none') {
      this.afterMse(this.mse!.receive(chunk), out);
      return out;
    }
    const done = this.readHandshake(this.decryptChunk(chunk));
    if (done) out.done = done;
    return out;
  }
}
