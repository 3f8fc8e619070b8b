/**
 * Hash workers for `nbt create`, started before the create module and its imports load, so
 * the workers' boot (~50 ms each, more on a busy machine) overlaps module loading.
 */
import { HashPool } from '../../hash/pool.js';

let early: HashPool | undefined;

/** Starts a default-sized pool now (called by the command registry before loading create). */
export function prestartHashPool(): void {
  early ??= new HashPool();
  early.warmUp();
}

/** The prestarted pool when it has the wanted size, otherwise a new one (the other is closed). */
export async function takeHashPool(threads: number | undefined): Promise<HashPool> {
  const pool = early;
  early = undefined;
  if (pool && (threads === undefined || threads === pool.threads)) return pool;
  await pool?.close();
  return new HashPool(threads === undefined ? {} : { threads });
}
