/**
 * Joins tsc's output (dist/src, ~240 modules) into dist/bundle/all.js, one ES module, and writes
 * each entry of package.json's `exports` as a small module re-exporting its names from it (so
 * every entry shares one copy of each class: `instanceof` holds across them), plus the CLI as
 * dist/bundle/cli.js. The code is tsc's, unchanged; only `import.meta.url` in each module is set
 * to where that module is in dist/src, so paths relative to it (the hash worker, the web UI's
 * assets, package.json) still hold. The hash worker stays its own file (dist/src/hash/worker.js).
 *
 * Why: Node's ES module loader pays per file. Loading the Client from dist/src took ~125 ms of
 * CPU and left the process 12 MB larger than loading one file (33 ms); with esbuild's code
 * splitting (55 chunks) it was 48 ms and 6 MB larger. Measured 2026-12-02 (docs/engine.md).
 */
import { build } from 'esbuild';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bundle');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** One entry per export ('.' → index, './bencode' → bencode): tsc's file beside its types. */
const entries = [];
for (const [path, target] of Object.entries(pkg.exports)) {
  if (typeof target !== 'object' || !target.types) continue;
  const file = join(root, target.types.replace(/\.d\.ts$/, '.js'));
  const names = Object.keys(await import(pathToFileURL(file).href));
  entries.push({ name: path === '.' ? 'index' : path.slice(2), file, names });
}

/** `import.meta.url` of each module as it was in dist/src (not the CLI's: it asks "am I the program?"). */
const moduleUrl = {
  name: 'module-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, async (args) => {
      let contents = await readFile(args.path, 'utf8');
      if (args.path !== cli && contents.includes('import.meta.url')) {
        const rel = relative(out, args.path).split('\\').join('/');
        contents = contents.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(rel)}, import.meta.url).href`,
        );
      }
      return { contents, loader: 'js' };
    });
  },
};

const scratch = mkdtempSync(join(tmpdir(), 'nbt-bundle-'));
try {
  const all = join(scratch, 'all.js');
  writeFileSync(all, entries.map((e) => `export * as ${ns(e)} from ${JSON.stringify(e.file)};\n`).join(''));
  rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: { all, cli },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: Object.keys(pkg.dependencies ?? {}),
    plugins: [moduleUrl],
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: '// net-bittorrent: tsc output (dist/src) joined by scripts/bundle.mjs' },
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
// V8 keeps a module's source text for lazy compilation, and one non-ASCII character (a '→' in a
// comment; esbuild escapes those in strings only) makes it a two-byte string: 1.8 MB held in
// every process instead of 0.9. Escaped, each bundle stays one byte per character.
for (const name of ['all.js', 'cli.js']) {
  const file = join(out, name);
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (ascii !== text) writeFileSync(file, ascii);
}
chmodSync(join(out, 'cli.js'), 0o755);
for (const e of entries) {
  const lines = [`import { ${ns(e)} as m } from './all.js';`];
  for (const n of e.names)
    lines.push(n === 'default' ? 'export default m.default;' : `export const ${n} = m.${n};`);
  writeFileSync(join(out, `${e.name}.js`), `${lines.join('\n')}\n`);
}

function ns(e) {
  return `entry_${e.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}
