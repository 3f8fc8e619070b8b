/**
 * `npm run bench [-- name...]`: runs every bench/*.bench.js (or those whose name contains one
 * of the arguments) and prints each figure; a JSON summary goes to bench-results.json.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Reporter, type Figure } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

const all: Figure[] = [];
for (const file of files) {
  const name = file.replace(/\.bench\.js$/, '');
  process.stdout.write(`\n# ${name}\n`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: (r: Reporter) => Promise<void> };
  const r = new Reporter(name);
  try {
    await mod.run(r);
  } catch (e) {
    process.stdout.write(`  FAILED: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  }
  all.push(...r.figures);
}
writeFileSync(
  'bench-results.json',
  JSON.stringify({ date: new Date().toISOString(), figures: all }, null, 2),
);
process.stdout.write(`\n${all.length} figures written to bench-results.json\n`);
