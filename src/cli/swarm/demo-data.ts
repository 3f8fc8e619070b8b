/** The demo's content: a few files of seeded pseudo-random bytes, and a byte-for-byte compare. */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface DemoFile {
  /** Path under the content folder. */
  path: string;
  length: number;
}

/** Splits `total` bytes over a small tree: one large file, a medium one, and two small ones. */
export function demoLayout(total: number): DemoFile[] {
  const small = Math.min(64 * 1024, Math.floor(total / 16));
  const notes = Math.min(1536 * 1024 + 123, Math.floor(total / 8));
  const medium = Math.floor((total - small - notes) * 0.35);
  const large = total - small - notes - medium;
  return [
    { path: 'README.txt', length: small },
    { path: 'media/video.bin', length: large },
    { path: 'media/audio.bin', length: medium },
    { path: 'notes/notes.bin', length: notes },
  ].filter((f) => f.length > 0);
}

/** Writes the files under `root`: AES-CTR keystream of a key derived from `seed` (fast, reproducible). */
export async function writeDemoData(root: string, files: DemoFile[], seed: number): Promise<void> {
  const key = createHash('sha256').update(`nbt demo ${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const zeros = Buffer.alloc(4 << 20);
  for (const f of files) {
    const abs = join(root, f.path);
    await mkdir(dirname(abs), { recursive: true });
    const fh = await open(abs, 'w');
    try {
      for (let off = 0; off < f.length; off += zeros.length) {
        const n = Math.min(zeros.length, f.length - off);
        await fh.write(cipher.update(zeros.subarray(0, n)), 0, n, off);
      }
    } finally {
      await fh.close();
    }
  }
}

/** True when every file under `a` equals the same file under `b`, byte for byte. */
export async function sameTree(a: string, b: string, files: DemoFile[]): Promise<boolean> {
  const chunk = 4 << 20;
  const bufA = Buffer.alloc(chunk);
  const bufB = Buffer.alloc(chunk);
  for (const f of files) {
    const fa = await open(join(a, f.path), 'r').catch(() => undefined);
    const fb = await open(join(b, f.path), 'r').catch(() => undefined);
    try {
      if (!fa || !fb) return false;
      if ((await fa.stat()).size !== f.length || (await fb.stat()).size !== f.length) return false;
      for (let off = 0; off < f.length; off += chunk) {
        const n = Math.min(chunk, f.length - off);
        await fa.read(bufA, 0, n, off);
        await fb.read(bufB, 0, n, off);
        if (!bufA.subarray(0, n).equals(bufB.subarray(0, n))) return false;
      }
    } finally {
      await fa?.close();
      await fb?.close();
    }
  }
  return true;
}
