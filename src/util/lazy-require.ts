/**
 * Modules that only some sessions use, required on first use instead of imported at start-up.
 * Synchronous (createRequire), so callers stay as they are.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that requires `id` the first time it is called. */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}

// Importing node:https (with node:tls) grew every process by ~1 MB, though only HTTPS
// trackers, web seeds and proxies need them.
export const httpsModule = lazyRequire<typeof import('node:https')>('node:https');
export const tlsModule = lazyRequire<typeof import('node:tls')>('node:tls');
