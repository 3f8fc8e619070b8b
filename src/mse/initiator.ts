/**
 * MSE initiator ("A"), sans-I/O: `start()` gives step 1, each `receive(chunk)` gives what to
 * send and, once step 4 is parsed, the outcome. Any chunking of the input works.
 */
import { NbtError } from '../util/errors.js';
import { checkMethods, methodBits, padLength, stateError } from './common.js';
import {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MSE_KEY_LENGTH,
  MSE_MAX_INITIAL_PAYLOAD,
  MSE_MAX_PAD,
  MSE_VC_LENGTH,
  MSE_VC_SYNC_LIMIT,
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
import type { CryptoMethod, MseInitiatorOptions, MseOutcome, MseStep } from './types.js';

type State = 'new' | 'awaitYb' | 'scanVc' | 'readSelect' | 'readPadD';

/** VC + crypto_select (4) + len(PadD) (2). */
const SELECT_HEADER = MSE_VC_LENGTH + 4 + 2;

export class MseInitiator extends MseParty<State> {
  private readonly infoHash: Buffer;
  private readonly provideBits: number;
  private readonly initialPayload: Buffer;
  private readonly random: RandomSource;
  private readonly padALength: number;
  private readonly padCLength: number;
  private readonly keys: MseKeyExchange;
  private encrypt: Rc4 | undefined;
  private decrypt: Rc4 | undefined;
  private vcPattern: Buffer | undefined;
  private method: CryptoMethod = 'rc4';
  private padDLength = 0;

  constructor(o: MseInitiatorOptions) {
    super('new', 'MseInitiator');
    if (o.infoHash.length !== 20) throw new NbtError('MSE_BAD_OPTIONS', 'infoHash must be 20 bytes');
    checkMethods(o.provide, 'provide');
    const ia = o.initialPayload ?? Buffer.alloc(0);
    if (ia.length > MSE_MAX_INITIAL_PAYLOAD)
      throw new NbtError(
        'MSE_BAD_OPTIONS',
        `initialPayload must be at most ${MSE_MAX_INITIAL_PAYLOAD} bytes`,
      );
    this.infoHash = Buffer.from(o.infoHash);
    this.provideBits = methodBits(o.provide);
    this.initialPayload = ia;
    this.random = o.random ?? defaultRandom;
    this.padALength = padLength(this.random, o.padLength, 'padLength');
    this.padCLength = padLength(this.random, o.cryptoPadLength ?? 0, 'cryptoPadLength');
    this.keys = (o.keyExchange ?? defaultKeyExchange)(this.random);
  }

  protected override checkCanReceive(): void {
    if (this.state === 'new') throw stateError('MseInitiator.receive() before start()');
  }

  /** Step 1: Ya and PadA. */
  start(): Buffer {
    if (this.state !== 'new') throw stateError('MseInitiator.start() called twice');
    this.state = 'awaitYb';
    return Buffer.concat([this.keys.publicKey, this.random(this.padALength)]);
  }

  protected advance(): MseStep {
    const step: MseStep = {};
    for (;;) {
      switch (this.state) {
        case 'awaitYb': {
          if (this.input.length < MSE_KEY_LENGTH) return step;
          step.send = this.step3(this.input.take(MSE_KEY_LENGTH));
          this.state = 'scanVc';
          break;
        }
        case 'scanVc': {
          // VC may start anywhere after PadB (0..512 bytes), so it must end within 616 bytes of Yb's start.
          const window = this.input.peek(MSE_VC_SYNC_LIMIT - MSE_KEY_LENGTH);
          const at = window.indexOf(this.vcPattern!);
          if (at < 0) {
            if (window.length >= MSE_VC_SYNC_LIMIT - MSE_KEY_LENGTH)
              throw new NbtError(
                'MSE_SYNC_FAILED',
                `encryption handshake: ENCRYPT(VC) not found within ${MSE_VC_SYNC_LIMIT} bytes of Yb`,
              );
            return step;
          }
          this.input.skip(at);
          this.state = 'readSelect';
          break;
        }
        case 'readSelect': {
          if (this.input.length < SELECT_HEADER) return step;
          const h = this.input.take(SELECT_HEADER);
          this.decrypt!.process(h);
          const select = h.readUInt32BE(MSE_VC_LENGTH);
          if (select === CRYPTO_RC4 && this.provideBits & CRYPTO_RC4) this.method = 'rc4';
          else if (select === CRYPTO_PLAINTEXT && this.provideBits & CRYPTO_PLAINTEXT)
            this.method = 'plaintext';
          else
            throw new NbtError(
              'MSE_NO_CRYPTO_METHOD',
              `encryption handshake: the responder selected 0x${select.toString(16)}, we provided 0x${this.provideBits.toString(16)}`,
            );
          this.padDLength = h.readUInt16BE(MSE_VC_LENGTH + 4);
          if (this.padDLength > MSE_MAX_PAD)
            throw new NbtError(
              'MSE_BAD_PAD',
              `encryption handshake: PadD of ${this.padDLength} bytes (max ${MSE_MAX_PAD})`,
            );
          this.state = 'readPadD';
          break;
        }
        case 'readPadD': {
          if (this.input.length < this.padDLength) return step;
          this.decrypt!.process(this.input.take(this.padDLength));
          step.done = this.finish();
          return step;
        }
        default:
          throw stateError(`MseInitiator in state ${this.state}`);
      }
    }
  }

  /** Step 3: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S), ENCRYPT(VC, provide, PadC, IA). */
  private step3(yb: Buffer): Buffer {
    const s = this.keys.secret(yb);
    this.encrypt = streamCipher('A', s, this.infoHash);
    this.decrypt = streamCipher('B', s, this.infoHash);
    const vc = Buffer.alloc(MSE_VC_LENGTH);
    streamCipher('B', s, this.infoHash).process(vc);
    this.vcPattern = vc;

    const ia = this.initialPayload;
    const plain = Buffer.alloc(MSE_VC_LENGTH + 4 + 2 + this.padCLength + 2 + ia.length);
    let o = MSE_VC_LENGTH;
    o = plain.writeUInt32BE(this.provideBits, o);
    o = plain.writeUInt16BE(this.padCLength, o);
    o += this.padCLength;
    o = plain.writeUInt16BE(ia.length, o);
    ia.copy(plain, o);
    this.encrypt.process(plain);
    return Buffer.concat([req1Hash(s), xor20(req2Hash(this.infoHash), req3Hash(s)), plain]);
  }

  private finish(): MseOutcome {
    this.state = 'done';
    const rc4 = this.method === 'rc4';
    const remainder = this.input.takeAll();
    if (rc4) this.decrypt!.process(remainder);
    return {
      method: this.method,
      infoHash: this.infoHash,
      encrypt: rc4 ? this.encrypt! : null,
      decrypt: rc4 ? this.decrypt! : null,
      initialPayload: Buffer.alloc(0),
      remainder,
    };
  }
}
