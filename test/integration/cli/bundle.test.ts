/**
 * The package as it ships (package.json `exports` and `bin`, built by scripts/bundle.mjs): every
 * entry exports what tsc's module exports, they share one copy of each class, and the bundled
 * CLI runs a whole job (the loopback demo swarm, verified).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; import: string } | string>;
};

test('every package entry exports the same names as its dist/src module', async () => {
  for (const [path, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.match(target.import, /^\.\/dist\/bundle\//, `${path} ships the bundle`);
    const shipped = Object.keys(await import(pathToFileURL(join(root, target.import)).href)).sort();
    const source = Object.keys(
      await import(pathToFileURL(join(root, target.types.replace(/\.d\.ts$/, '.js'))).href),
    ).sort();
    assert.deepEqual(shipped, source, path);
  }
});

test('package entries share one copy of each class (an error from a subpath is the root NbtError)', async () => {
  const rootApi = await import('net-bittorrent');
  const bencode = await import('net-bittorrent/bencode');
  const storage = await import('net-bittorrent/storage');
  assert.equal(storage.MemoryStorage, rootApi.MemoryStorage);
  assert.throws(
    () => bencode.decode(Buffer.from('x')),
    (e) => rootApi.isNbtError(e) && e instanceof rootApi.NbtError,
  );
});

test('the bundled nbt runs the demo swarm to a verified end', async () => {
  const bin = join(root, pkg.bin['nbt']!);
  const proc = spawn(process.execPath, [bin, 'demo', '--size', '8M', '--json', '--timeout', '18'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => proc.on('exit', r));
  assert.equal(code, 0, out.slice(-2000));
  const summary = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((e) => e['event'] === 'summary');
  assert.equal(summary?.['verified'], true, out.slice(-2000));
  const version = spawn(process.execPath, [bin, '--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let v = '';
  version.stdout.on('data', (c: Buffer) => (v += c.toString()));
  await new Promise((r) => version.on('exit', r));
  assert.equal(v.trim(), `nbt ${pkg.version}`);
});
