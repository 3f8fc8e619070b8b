/** Small pieces both handshake roles share. */
import { NbtError } from '../util/errors.js';
import { CRYPTO_PLAINTEXT, CRYPTO_RC4, MSE_MAX_PAD } from './constants.js';
import type { RandomSource } from './dh.js';
import type { CryptoMethod } from './types.js';

export function methodBits(methods: readonly CryptoMethod[]): number {
  let bits = 0;
  for (const m of methods) bits |= m === 'rc4' ? CRYPTO_RC4 : CRYPTO_PLAINTEXT;
  return bits;
}

export function checkMethods(methods: readonly CryptoMethod[], what: string): void {
  if (methods.length === 0 || methods.some((m) => m !== 'rc4' && m !== 'plaintext'))
    throw new NbtError('MSE_BAD_OPTIONS', `${what} must name one or more of 'rc4', 'plaintext'`);
}

/** A pad length: the given one (checked) or uniformly random in 0..512. */
export function padLength(random: RandomSource, given: number | undefined, what: string): number {
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < 0 || given > MSE_MAX_PAD)
      throw new NbtError('MSE_BAD_OPTIONS', `${what} must be an integer in 0..${MSE_MAX_PAD}`);
    return given;
  }
  return random(2).readUInt16BE(0) % (MSE_MAX_PAD + 1);
}

/** The state machines stop for good after an error; later calls rethrow it. */
export function failure(e: unknown): NbtError {
  return e instanceof NbtError
    ? e
    : new NbtError('MSE_INTERNAL', 'encryption handshake: internal error', { cause: e });
}

export function stateError(message: string): NbtError {
  return new NbtError('MSE_STATE', message);
}
