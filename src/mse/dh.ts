/**
 * The MSE Diffie-Hellman exchange and the key derivations built on it.
 *
 * `createDiffieHellman(P, 2)` checks the prime on creation (about 24 ms here), so one instance
 * is made lazily and shared: each handshake keeps its own private key and loads it right before
 * the (synchronous) computation, which JavaScript's single thread makes safe.
 */
import { createDiffieHellman, randomBytes, type DiffieHellman } from 'node:crypto';
import { NbtError } from '../util/errors.js';
import { sha1 } from '../util/sha1.js';
import {
  MSE_GENERATOR,
  MSE_KEY_LENGTH,
  MSE_PRIME,
  MSE_PRIVATE_KEY_LENGTH,
  MSE_RC4_DISCARD,
} from './constants.js';
import { Rc4 } from './rc4.js';

export type RandomSource = (n: number) => Buffer;
export const defaultRandom: RandomSource = (n) => randomBytes(n);

let shared: DiffieHellman | undefined;
function dh(): DiffieHellman {
  shared ??= createDiffieHellman(MSE_PRIME, MSE_GENERATOR);
  return shared;
}

function leftPad(b: Buffer): Buffer {
  if (b.length === MSE_KEY_LENGTH) return Buffer.from(b);
  const out = Buffer.alloc(MSE_KEY_LENGTH);
  b.copy(out, MSE_KEY_LENGTH - b.length);
  return out;
}

/**
 * One side's key exchange: our public key and the shared secret S from the other side's. The
 * default is the real 768-bit Diffie-Hellman (`DhKeyPair`); the fuzzer injects a cheap stand-in
 * so its executions go to the handshake parser and state machine rather than to modular powers.
 */
export interface MseKeyExchange {
  /** Our public key, exactly 96 bytes. */
  readonly publicKey: Buffer;
  /** S, exactly 96 bytes; throws an NbtError for a key the exchange rejects. */
  secret(otherPublicKey: Buffer): Buffer;
}

export type MseKeyExchangeFactory = (random: RandomSource) => MseKeyExchange;

export const defaultKeyExchange: MseKeyExchangeFactory = (random) => new DhKeyPair(random);

export class DhKeyPair implements MseKeyExchange {
  readonly privateKey: Buffer;
  /** Our public key, exactly 96 bytes. */
  readonly publicKey: Buffer;

  constructor(random: RandomSource) {
    const priv = Buffer.from(random(MSE_PRIVATE_KEY_LENGTH));
    // An all-zero exponent would give the public key 1; any other 160-bit value is fine.
    if (priv.every((b) => b === 0)) priv[priv.length - 1] = 1;
    this.privateKey = priv;
    const d = dh();
    d.setPrivateKey(priv);
    d.generateKeys();
    this.publicKey = leftPad(d.getPublicKey());
  }

  /** S, exactly 96 bytes. Throws MSE_BAD_PUBLIC_KEY for keys OpenSSL rejects (0, 1, >= P). */
  secret(otherPublicKey: Buffer): Buffer {
    const d = dh();
    d.setPrivateKey(this.privateKey);
    try {
      return leftPad(d.computeSecret(otherPublicKey));
    } catch (e) {
      throw new NbtError('MSE_BAD_PUBLIC_KEY', 'encryption handshake: invalid Diffie-Hellman public key', {
        cause: e,
      });
    }
  }
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const REQ1 = ascii('req1');
const REQ2 = ascii('req2');
const REQ3 = ascii('req3');
const KEY_A = ascii('keyA');
const KEY_B = ascii('keyB');

export function req1Hash(s: Buffer): Buffer {
  return sha1(REQ1, s);
}

export function req2Hash(skey: Buffer): Buffer {
  return sha1(REQ2, skey);
}

export function req3Hash(s: Buffer): Buffer {
  return sha1(REQ3, s);
}

export function xor20(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(20);
  for (let i = 0; i < 20; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The RC4 stream of the initiator ('A', keyA) or the responder ('B', keyB), first 1024 bytes dropped. */
export function streamCipher(side: 'A' | 'B', s: Buffer, skey: Buffer): Rc4 {
  const rc4 = new Rc4(sha1(side === 'A' ? KEY_A : KEY_B, s, skey));
  rc4.discard(MSE_RC4_DISCARD);
  return rc4;
}
