/**
 * What the creation benches (create, create-v2) share: the test file, `nbt create` run as a
 * process, and picking the best of alternating runs.
 */
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { measureProcess, type ProcessMeasure } from './harness.js';

const mainJs = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** `size` bytes of xorshift noise, each 64 MiB block different, synced to disk. */
export async function writeTestFile(path: string, size: number): Promise<void> {
  const block = Buffer.allocUnsafe(64 << 20);
  let x = 0x12345678;
  for (let i = 0; i < block.length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    block.writeUInt32LE(x, i);
  }
  const fh = await open(path, 'w');
  try {
    for (let off = 0; off < size; off += block.length) {
      block[0] = off / block.length; // blocks differ, so no two pieces are alike
      await fh.write(block, 0, Math.min(block.length, size - off), off);
    }
    await fh.sync(); // no writeback competing with the timed runs
  } finally {
    await fh.close();
  }
}

/** `nbt create file -o out` with 1 MiB pieces, no date, `threads` hashers and `flags` (--v2…). */
export function measureNbtCreate(
  file: string,
  out: string,
  threads: number,
  timeoutMs: number,
  flags: string[] = [],
): Promise<ProcessMeasure> {
  return measureProcess(
    process.execPath,
    [
      mainJs,
      'create',
      file,
      '-o',
      out,
      '-l',
      '20',
      '--no-date',
      '--force',
      ...flags,
      '--threads',
      String(threads),
    ],
    { timeoutMs },
  );
}

/** The run with the least wall time. */
export function fastest(runs: ProcessMeasure[]): ProcessMeasure {
  return runs.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
}
