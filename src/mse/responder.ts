/**
 * MSE responder ("B"), sans-I/O: each `receive(chunk)` gives what to send and, once the
 * initiator's step 3 (with its IA) is parsed, the outcome. Any chunking of the input works.
 */
import { NbtError } from '../util/errors.js';
import { checkMethods, methodBits, padLength, stateError } from './common.js';
import {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MSE_KEY_LENGTH,
  MSE_MAX_INITIAL_PAYLOAD,
  MSE_MAX_PAD,
  MSE_REQ1_SYNC_LIMIT,
  MSE_VC_LENGTH,
} from './constants.js';
import {
  defaultRandom,
  defaultKeyExchange,
  req1Hash,
  req2Hash,
  req3Hash,
  streamCipher,
  xor20,
  type MseKeyExchange,
  type RandomSource,
} from './dh.js';
import { MseParty } from './party.js';
import type { Rc4 } from './rc4.js';
import type { CryptoMethod, MseOutcome, MseResponderOptions, MseStep } from './types.js';

type State = 'awaitYa' | 'scanReq1' | 'readSkey' | 'readProvide' | 'readPadC' | 'readIa';

/** VC + crypto_provide (4) + len(PadC) (2). */
const PROVIDE_HEADER = MSE_VC_LENGTH + 4 + 2;

export class MseResponder extends MseParty<State> {
  private readonly options: MseResponderOptions;
  private readonly allowBits: number;
  private readonly random: RandomSource;
  private readonly padDLength: number;
  private readonly maxInitialPayload: number;
  private readonly keys: MseKeyExchange;
  private secret: Buffer | undefined;
  private req1: Buffer | undefined;
  private infoHash: Buffer | undefined;
  private encrypt: Rc4 | undefined;
  private decrypt: Rc4 | undefined;
  private method: CryptoMethod = 'rc4';
  private padCLength = 0;
  private iaLength = 0;

  constructor(o: MseResponderOptions) {
    super('awaitYa', 'MseResponder');
    checkMethods(o.allow, 'allow');
    this.options = o;
    this.allowBits = methodBits(o.allow);
    this.random = o.random ?? defaultRandom;
    this.maxInitialPayload = o.maxInitialPayload ?? MSE_MAX_INITIAL_PAYLOAD;
    padLength(this.random, o.padLength ?? 0, 'padLength'); // validate early
    this.padDLength = padLength(this.random, o.cryptoPadLength ?? 0, 'cryptoPadLength');
    this.keys = (o.keyExchange ?? defaultKeyExchange)(this.random);
  }

  protected advance(): MseStep {
    const step: MseStep = {};
    for (;;) {
      switch (this.state) {
        case 'awaitYa': {
          if (this.input.length < MSE_KEY_LENGTH) return step;
          this.secret = this.keys.secret(this.input.take(MSE_KEY_LENGTH));
          this.req1 = req1Hash(this.secret);
          const padB = this.random(padLength(this.random, this.options.padLength, 'padLength'));
          step.send = Buffer.concat([this.keys.publicKey, padB]);
          this.state = 'scanReq1';
          break;
        }
        case 'scanReq1': {
          // req1 follows PadA (0..512 bytes), so it must end within 628 bytes of the connection start.
          const windowLength = MSE_REQ1_SYNC_LIMIT - MSE_KEY_LENGTH;
          const window = this.input.peek(windowLength);
          const at = window.indexOf(this.req1!);
          if (at < 0) {
            if (window.length >= windowLength)
              throw new NbtError(
                'MSE_SYNC_FAILED',
                `encryption handshake: HASH('req1', S) not found within ${MSE_REQ1_SYNC_LIMIT} bytes`,
              );
            return step;
          }
          this.input.skip(at + 20);
          this.state = 'readSkey';
          break;
        }
        case 'readSkey': {
          if (this.input.length < 20) return step;
          const wanted = xor20(this.input.take(20), req3Hash(this.secret!));
          this.infoHash = this.findSkey(wanted);
          this.decrypt = streamCipher('A', this.secret!, this.infoHash);
          this.encrypt = streamCipher('B', this.secret!, this.infoHash);
          this.state = 'readProvide';
          break;
        }
        case 'readProvide': {
          if (this.input.length < PROVIDE_HEADER) return step;
          const h = this.input.take(PROVIDE_HEADER);
          this.decrypt!.process(h);
          for (let i = 0; i < MSE_VC_LENGTH; i++)
            if (h[i] !== 0)
              throw new NbtError('MSE_BAD_VC', 'encryption handshake: bad verification constant');
          this.method = this.select(h.readUInt32BE(MSE_VC_LENGTH));
          this.padCLength = h.readUInt16BE(MSE_VC_LENGTH + 4);
          if (this.padCLength > MSE_MAX_PAD)
            throw new NbtError(
              'MSE_BAD_PAD',
              `encryption handshake: PadC of ${this.padCLength} bytes (max ${MSE_MAX_PAD})`,
            );
          this.state = 'readPadC';
          break;
        }
        case 'readPadC': {
          if (this.input.length < this.padCLength + 2) return step;
          const p = this.input.take(this.padCLength + 2);
          this.decrypt!.process(p);
          this.iaLength = p.readUInt16BE(this.padCLength);
          if (this.iaLength > this.maxInitialPayload)
            throw new NbtError(
              'MSE_TOO_MUCH_DATA',
              `encryption handshake: initial payload of ${this.iaLength} bytes (max ${this.maxInitialPayload})`,
            );
          this.state = 'readIa';
          break;
        }
        case 'readIa': {
          if (this.input.length < this.iaLength) return step;
          const ia = this.input.take(this.iaLength);
          this.decrypt!.process(ia);
          step.send = this.step4();
          step.done = this.finish(ia);
          return step;
        }
        default:
          throw stateError(`MseResponder in state ${this.state}`);
      }
    }
  }

  private findSkey(wanted: Buffer): Buffer {
    for (const h of this.options.infoHashes())
      if (h.length === 20 && req2Hash(h).equals(wanted)) return Buffer.from(h);
    throw new NbtError(
      'MSE_UNKNOWN_SKEY',
      'encryption handshake: the initiator asked for a torrent we do not serve',
    );
  }

  private select(provide: number): CryptoMethod {
    const common = provide & this.allowBits;
    const rc4 = (common & CRYPTO_RC4) !== 0;
    const plain = (common & CRYPTO_PLAINTEXT) !== 0;
    if (rc4 && plain) return this.options.prefer === 'plaintext' ? 'plaintext' : 'rc4';
    if (rc4) return 'rc4';
    if (plain) return 'plaintext';
    throw new NbtError(
      'MSE_NO_CRYPTO_METHOD',
      `encryption handshake: the initiator provides 0x${provide.toString(16)}, we allow 0x${this.allowBits.toString(16)}`,
    );
  }

  /** Step 4: ENCRYPT(VC, crypto_select, len(PadD), PadD). */
  private step4(): Buffer {
    const out = Buffer.alloc(MSE_VC_LENGTH + 4 + 2 + this.padDLength);
    out.writeUInt32BE(this.method === 'rc4' ? CRYPTO_RC4 : CRYPTO_PLAINTEXT, MSE_VC_LENGTH);
    out.writeUInt16BE(this.padDLength, MSE_VC_LENGTH + 4);
    this.encrypt!.process(out);
    return out;
  }

  private finish(ia: Buffer): MseOutcome {
    this.state = 'done';
    const rc4 = this.method === 'rc4';
    const remainder = this.input.takeAll();
    if (rc4) this.decrypt!.process(remainder);
    return {
      method: this.method,
      infoHash: this.infoHash!,
      encrypt: rc4 ? this.encrypt! : null,
      decrypt: rc4 ? this.decrypt! : null,
      initialPayload: ia,
      remainder,
    };
  }
}
