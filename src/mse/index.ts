export { Rc4 } from './rc4.js';
export { MseInitiator } from './initiator.js';
export { MseResponder } from './responder.js';
export type { CryptoMethod, MseOutcome, MseStep, MseInitiatorOptions, MseResponderOptions } from './types.js';
export type { MseKeyExchange, MseKeyExchangeFactory, RandomSource } from './dh.js';
export {
  MSE_PRIME,
  MSE_GENERATOR,
  MSE_KEY_LENGTH,
  MSE_MAX_PAD,
  MSE_VC_LENGTH,
  MSE_RC4_DISCARD,
  MSE_REQ1_SYNC_LIMIT,
  MSE_VC_SYNC_LIMIT,
  MSE_MAX_INITIAL_PAYLOAD,
  MSE_KEY_TIMEOUT_MS,
  MSE_HANDSHAKE_TIMEOUT_MS,
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
} from './constants.js';
