import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NbtError } from '../util/errors.js';

/** Bad command-line usage: reported as one line, exit code 2. */
export class UsageError extends NbtError {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/**
 * node:util parseArgs in strict mode, with its errors turned into UsageError so the user
 * sees one clear line.
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg =
      e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, '') : String(e);
    throw new UsageError(msg);
  }
}

/** Exactly `n` positional arguments, named for the error message. */
export function positionals(list: string[], names: string[]): string[] {
  if (list.length < names.length)
    throw new UsageError(
      `missing ${names
        .slice(list.length)
        .map((n) => `<${n}>`)
        .join(' ')}`,
    );
  if (list.length > names.length) throw new UsageError(`unexpected argument "${list[names.length]}"`);
  return list;
}
