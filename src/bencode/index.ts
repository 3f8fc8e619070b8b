export type { BValue, BDict, BEncodable, Span } from './types.js';
export { decode, decodePrefix, forEachListItem, spanOf, type DecodeOptions } from './decode.js';
export { encode } from './encode.js';
export { isDict, isBytes, isInt, dictGet, text } from './access.js';
