/**
 * The shape of a fuzz target and the input splitting targets share (targets.ts, targets-mse.ts).
 */

export interface FuzzTarget {
  name: string;
  /** Valid inputs to start from. */
  seeds(): Buffer[] | Promise<Buffer[]>;
  /** Runs one input; throws only what `accepted` allows for bad input. */
  run(input: Buffer): void;
  /** Tokens the mutator may insert (keys, magic numbers). */
  dictionary?: string[];
}

/** Splits an input into chunks whose sizes come from its own first byte (0: one chunk). */
export function chunks(input: Buffer): Buffer[] {
  if (input.length === 0) return [input];
  const step = input[0]! % 17;
  const rest = input.subarray(1);
  if (step === 0) return [rest];
  const out: Buffer[] = [];
  for (let at = 0; at < rest.length; at += step) out.push(rest.subarray(at, at + step));
  return out;
}
