/**
 * The layering of docs/ARCHITECTURE.md holds: every src/<layer> file imports only its own layer
 * and the layers its "depends on" column lists (no upward imports, e.g. torrent → client).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('src layers import only the layers ARCHITECTURE.md lets them', async () => {
  const doc = await readFile('docs/ARCHITECTURE.md', 'utf8');
  const allowed = new Map<string, Set<string>>();
  for (const m of doc.matchAll(/^\| `src\/([a-z]+)`\s*\|[^|]*\|([^|]*)\|/gm)) {
    const deps = m[2]!
      .split(/[,;]/)
      .map((d) => d.trim().split(/\s/)[0]!)
      .filter((d) => /^[a-z]+$/.test(d));
    allowed.set(m[1]!, new Set([m[1]!, ...deps]));
  }
  assert.ok(allowed.size >= 10, 'the layer table was found');
  const bad: string[] = [];
  for (const [layer, ok] of allowed) {
    for (const f of await files(join('src', layer))) {
      const text = await readFile(f, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)) {
        const target = relative('src', join(f, '..', m[1]!)).split(sep);
        if (target.length < 2) continue; // src/index.ts and the like
        if (!ok.has(target[0]!)) bad.push(`${f} → ${m[1]}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});
