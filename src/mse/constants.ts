/** Wire constants and limits of Message Stream Encryption (docs/mse.md, /work/shared/specs/mse.md). */

/** The 768-bit MSE prime. Not RFC 2409's modp1 (which ends ...3620FFFFFFFFFFFFFFFF). */
export const MSE_PRIME = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
  'hex',
);
export const MSE_GENERATOR = 2;
/** Ya, Yb and S are this long, big-endian, left-padded with zeros. */
export const MSE_KEY_LENGTH = 96;
/** Bytes of randomness in our private exponent (160 bits, as the spec's minimum and Transmission). */
export const MSE_PRIVATE_KEY_LENGTH = 20;
/** PadA, PadB, PadC and PadD are each at most this long. */
export const MSE_MAX_PAD = 512;
export const MSE_VC_LENGTH = 8;
/** Keystream bytes dropped from each RC4 key before use. */
export const MSE_RC4_DISCARD = 1024;

/** crypto_provide / crypto_select bits. */
export const CRYPTO_PLAINTEXT = 0x01;
export const CRYPTO_RC4 = 0x02;

/** Responder: HASH('req1', S) must end within this many bytes from the connection start (96 + 512 + 20). */
export const MSE_REQ1_SYNC_LIMIT = MSE_KEY_LENGTH + MSE_MAX_PAD + 20;
/** Initiator: ENCRYPT(VC) must end within this many bytes from the start of Yb (96 + 512 + 8). */
export const MSE_VC_SYNC_LIMIT = MSE_KEY_LENGTH + MSE_MAX_PAD + MSE_VC_LENGTH;
/** The initial payload length is a u16; the responder accepts at most this by default. */
export const MSE_MAX_INITIAL_PAYLOAD = 65535;
/**
 * The Peer's time limit for each side's first 96 bytes (Ya / Yb) and for the whole handshake.
 * The state machines have no timers; this is exported for the I/O layer.
 */
export const MSE_KEY_TIMEOUT_MS = 30_000;
export const MSE_HANDSHAKE_TIMEOUT_MS = 30_000;
