/**
 * Decoded bencode values. Byte strings are Buffers (views into the input, never copies);
 * integers are numbers when they fit in 2^53 and bigints beyond; dictionary keys are
 * binary strings (one char per byte, 'latin1'), so any key round-trips exactly.
 */
export type BValue = number | bigint | Buffer | BValue[] | BDict;
export interface BDict {
  [key: string]: BValue;
}

/** What the encoder accepts: decoded values plus text (UTF-8), Uint8Array and Maps. */
export type BEncodable =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly BEncodable[]
  | ReadonlyMap<string, BEncodable>
  | { readonly [key: string]: BEncodable | undefined };

export interface Span {
  /** Offset of the value's first byte in the input. */
  start: number;
  /** Offset one past the value's last byte. */
  end: number;
}
