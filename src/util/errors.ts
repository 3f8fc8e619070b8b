/**
 * Every error this library throws on purpose carries a stable string `code`, so callers can
 * branch on it without parsing messages. Decoders add the byte `offset` where they stopped.
 */
export class NbtError extends Error {
  readonly code: string;
  readonly offset: number | undefined;

  constructor(code: string, message: string, options?: { offset?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NbtError';
    this.code = code;
    this.offset = options?.offset;
  }
}

export function isNbtError(e: unknown, code?: string): e is NbtError {
  return e instanceof NbtError && (code === undefined || e.code === code);
}

/** A short message for any thrown value (for events and CLI output). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
