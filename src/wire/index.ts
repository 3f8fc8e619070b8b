export * from './messages.js';
export * from './handshake.js';
export * from './extension.js';
export { WireDecoder, checkSpareBits, type DecoderOptions } from './decoder.js';
export { WireEncoder, encodeMessage } from './encoder.js';
export { allowedFastSet } from './allowed-fast.js';
