import type { Rc4 } from './rc4.js';
import type { MseKeyExchangeFactory, RandomSource } from './dh.js';

export type CryptoMethod = 'plaintext' | 'rc4';

/** The result of a completed MSE handshake. */
export interface MseOutcome {
  /** The method the responder selected. */
  method: CryptoMethod;
  /** SKEY: the info-hash (for the responder, the one that matched HASH('req2', SKEY)). */
  infoHash: Buffer;
  /** Encrypts our outgoing stream after the handshake (null = plaintext). */
  encrypt: Rc4 | null;
  /** Decrypts the incoming stream after the handshake (null = plaintext). */
  decrypt: Rc4 | null;
  /** Responder: the initiator's decrypted IA (usually the 68-byte BT handshake). Initiator: empty. */
  initialPayload: Buffer;
  /** Bytes received after the handshake in the same chunk, already decrypted if rc4. */
  remainder: Buffer;
}

/** What one `receive` call yields: bytes to write to the socket and/or the finished handshake. */
export interface MseStep {
  send?: Buffer;
  done?: MseOutcome;
}

export interface MseInitiatorOptions {
  /** SKEY: the info-hash of the torrent we connect for (20 bytes). */
  infoHash: Buffer;
  /** The methods we offer in crypto_provide (at least one). */
  provide: CryptoMethod[];
  /** IA: sent encrypted in step 3, usually our 68-byte BT handshake. */
  initialPayload?: Buffer;
  random?: RandomSource;
  /** The key exchange (default: the real Diffie-Hellman; tests and the fuzzer inject others). */
  keyExchange?: MseKeyExchangeFactory;
  /** Length of PadA (default: random 0..512). */
  padLength?: number;
  /** Length of PadC (default 0; its bytes are zeros, encrypted). */
  cryptoPadLength?: number;
}

export interface MseResponderOptions {
  /** The info-hashes we serve; asked once, when HASH('req2', SKEY) arrives. */
  infoHashes: () => Iterable<Buffer>;
  /** The methods we accept. */
  allow: CryptoMethod[];
  /** When both are allowed and provided: RC4 unless this says 'plaintext'. */
  prefer?: CryptoMethod;
  random?: RandomSource;
  /** The key exchange (default: the real Diffie-Hellman; tests and the fuzzer inject others). */
  keyExchange?: MseKeyExchangeFactory;
  /** Length of PadB (default: random 0..512). */
  padLength?: number;
  /** Length of PadD (default 0). */
  cryptoPadLength?: number;
  /** Largest IA accepted (default 65535, the u16 maximum). */
  maxInitialPayload?: number;
}
