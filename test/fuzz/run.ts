/**
 * `npm run fuzz`: coverage-guided fuzzing of every decoder and state machine (targets.ts).
 *
 *   node dist/test/fuzz/run.js [--time SECONDS | --runs N] [--seed S] [--save] [--json FILE] [target…]
 *
 * The engine's modules are instrumented as they load (hooks.ts, instrument.ts); each input's
 * coverage is compared with what the target has reached so far, and inputs that reach more join
 * the corpus (with --save, also test/fuzz/corpus/<target>/, which later runs and CI start from).
 * A finding is an exception other than NbtError (saved to test/fuzz/crashes/), an input slower
 * than --slow-ms, or a heap that keeps growing. Exit status 1 if anything was found.
 */
import { register } from 'node:module';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MAP_GLOBAL, USED_GLOBAL } from './coverage-globals.js';
import { Rng, mutate } from './mutate.js';

const MAP_SIZE = 1 << 16;
const STACK_LIMIT = Error.stackTraceLimit;
const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/fuzz → the repository root. */
const root = resolve(here, '..', '..', '..');
const corpusRoot = join(root, 'test', 'fuzz', 'corpus');
const crashRoot = join(root, 'test', 'fuzz', 'crashes');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    time: { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string', default: '1' },
    save: { type: 'boolean', default: false },
    json: { type: 'string' },
    'max-len': { type: 'string', default: '4096' },
    'slow-ms': { type: 'string', default: '1000' },
    quiet: { type: 'boolean', default: false },
    minimize: { type: 'boolean', default: false },
  },
});

const coverage = new Uint8Array(MAP_SIZE);
(globalThis as Record<string, unknown>)[MAP_GLOBAL] = coverage;
register(pathToFileURL(join(here, 'hooks.js')), {
  data: { prefix: pathToFileURL(join(root, 'dist', 'src') + '/').href, mapSize: MAP_SIZE },
});
const { TARGETS } = await import('./targets.js');
const { NbtError } = await import('../../src/util/errors.js');

const words = new Uint32Array(coverage.buffer);
/** Counters in use by the modules loaded so far (a multiple of 4 past it, for the word scan). */
const used = (): number =>
  Math.min(MAP_SIZE, (Number((globalThis as Record<string, unknown>)[USED_GLOBAL] ?? MAP_SIZE) + 3) & ~3);
/** AFL's hit-count classes: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
const BUCKET = new Uint8Array(256).map((_, n) =>
  n === 0
    ? 0
    : n === 1
      ? 1
      : n === 2
        ? 2
        : n === 3
          ? 4
          : n < 8
            ? 8
            : n < 16
              ? 16
              : n < 32
                ? 32
                : n < 128
                  ? 64
                  : 128,
);

/** Folds this run's counters into `seen`; true if anything new (a new block or hit class). */
function newCoverage(seen: Uint8Array, end: number): boolean {
  let fresh = false;
  for (let w = 0; w < end >> 2; w++) {
    if (words[w] === 0) continue;
    for (let i = w * 4; i < w * 4 + 4; i++) {
      const bits = BUCKET[coverage[i]!]!;
      if (bits & ~seen[i]!) {
        seen[i]! |= bits;
        fresh = true;
      }
    }
  }
  return fresh;
}

interface Finding {
  kind: 'crash' | 'slow' | 'growth';
  message: string;
  file?: string;
}

interface TargetResult {
  target: string;
  execs: number;
  seconds: number;
  execsPerSecond: number;
  corpus: number;
  added: number;
  counters: number;
  slowestMs: number;
  heapGrowthMB: number;
  findings: Finding[];
}

async function loadCorpus(name: string): Promise<Buffer[]> {
  const dir = join(corpusRoot, name);
  const names = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(names.sort().map((n) => readFile(join(dir, n))));
}

const digest = (b: Buffer): string => createHash('sha1').update(b).digest('hex').slice(0, 16);

async function fuzz(
  t: (typeof TARGETS)[number],
  budget: { ms?: number; runs?: number },
  seed: number,
): Promise<TargetResult> {
  const seen = new Uint8Array(MAP_SIZE);
  const corpus: Buffer[] = [];
  const findings: Finding[] = [];
  const crashKeys = new Set<string>();
  const maxLength = Number(values['max-len']);
  const slowMs = Number(values['slow-ms']);
  let slowest = 0;
  let execs = 0;
  let added = 0;
  const writes: [string, Buffer][] = [];
  let end = used();
  // The stack trace of every NbtError the decoders throw by design was most of the time of some
  // targets; a crash is rare, so it is run again with stacks to get where it came from.
  const withStack = (input: Buffer, first: unknown): Error => {
    Error.stackTraceLimit = STACK_LIMIT;
    try {
      t.run(input);
    } catch (e) {
      if (!(e instanceof NbtError)) first = e;
    } finally {
      Error.stackTraceLimit = 0;
    }
    return first instanceof Error ? first : new Error(String(first));
  };
  const rerunMs = (input: Buffer): number => {
    const t0 = performance.now();
    try {
      t.run(input);
    } catch {
      // Only the time matters here; the first run reported any crash.
    }
    return performance.now() - t0;
  };
  const exec = (input: Buffer): boolean => {
    coverage.fill(0, 0, end);
    const t0 = performance.now();
    try {
      t.run(input);
    } catch (e) {
      if (!(e instanceof NbtError)) {
        const err = withStack(input, e);
        const key = `${err.name}: ${err.message.slice(0, 80)} @ ${(err.stack ?? '').split('\n')[1]?.trim() ?? ''}`;
        if (!crashKeys.has(key)) {
          crashKeys.add(key);
          const file = join(crashRoot, `${t.name}-${digest(input)}`);
          writes.push([file, input]);
          findings.push({ kind: 'crash', message: `${key}\n${err.stack ?? ''}`, file });
        }
      }
    }
    let ms = performance.now() - t0;
    execs++;
    // On a loaded machine a process can lose the CPU for a second: an input is slow only if it
    // stays slow when run again (the fastest of three).
    if (ms > slowMs) ms = Math.min(ms, rerunMs(input), rerunMs(input), rerunMs(input));
    if (ms > slowest) slowest = ms;
    if (ms > slowMs && findings.filter((f) => f.kind === 'slow').length < 5) {
      const file = join(crashRoot, `${t.name}-slow-${digest(input)}`);
      writes.push([file, input]);
      findings.push({ kind: 'slow', message: `${ms.toFixed(0)} ms for ${input.length} bytes`, file });
    }
    // A module loaded lazily by this input extends the map in use.
    end = used();
    return newCoverage(seen, end);
  };
  const flush = async (): Promise<void> => {
    for (const [file, data] of writes.splice(0)) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, data);
    }
  };
  const start = [...(await t.seeds()), ...(await loadCorpus(t.name))];
  Error.stackTraceLimit = 0;
  for (const s of start) if (exec(s) || corpus.length === 0) corpus.push(s);
  const dictionary = (t.dictionary ?? []).map((d) => Buffer.from(d, 'latin1'));
  const rng = new Rng(seed);
  const ctx = { rng, maxLength, dictionary, other: () => corpus[rng.below(corpus.length)]! };
  const t0 = performance.now();
  const heap0 = process.memoryUsage().heapUsed;
  let heapMax = heap0;
  const saveDir = join(corpusRoot, t.name);
  const done = (): boolean =>
    budget.runs !== undefined ? execs >= budget.runs : performance.now() - t0 >= (budget.ms ?? 10_000);
  while (!done()) {
    // Newer entries (deeper coverage) a little more often than the seeds.
    const pick = rng.below(2)
      ? corpus.length - 1 - rng.below(Math.min(corpus.length, 8))
      : rng.below(corpus.length);
    const input = mutate(corpus[pick]!, ctx);
    if (exec(input)) {
      corpus.push(input);
      added++;
      if (values.save) writes.push([join(saveDir, digest(input)), input]);
    }
    if ((execs & 0x3fff) === 0) {
      await flush();
      const h = process.memoryUsage().heapUsed;
      heapMax = Math.max(heapMax, h);
    }
  }
  Error.stackTraceLimit = STACK_LIMIT;
  await flush();
  const seconds = (performance.now() - t0) / 1000;
  const heapGrowthMB = (heapMax - heap0) / 1e6;
  if (heapGrowthMB > 1024)
    findings.push({ kind: 'growth', message: `heap grew ${heapGrowthMB.toFixed(0)} MB` });
  let counters = 0;
  for (let i = 0; i < MAP_SIZE; i++) if (seen[i]) counters++;
  return {
    target: t.name,
    execs,
    seconds,
    execsPerSecond: execs / Math.max(seconds, 1e-9),
    corpus: corpus.length,
    added,
    counters,
    slowestMs: slowest,
    heapGrowthMB,
    findings,
  };
}

const chosen = positionals.length ? TARGETS.filter((t) => positionals.includes(t.name)) : TARGETS;
const unknown = positionals.filter((p) => !TARGETS.some((t) => t.name === p));
if (unknown.length) {
  process.stderr.write(
    `unknown target(s): ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}\n`,
  );
  process.exit(2);
}
const budget =
  values.runs !== undefined ? { runs: Number(values.runs) } : { ms: Number(values.time ?? 10) * 1000 };
/**
 * `--minimize`: rewrites each chosen target's corpus folder to the smallest inputs that keep its
 * coverage (shortest first, each kept only if it reaches something the seeds and the shorter
 * ones did not), as afl-cmin does, so campaigns with --save do not leave thousands of files.
 */
async function minimize(t: (typeof TARGETS)[number]): Promise<void> {
  const seen = new Uint8Array(MAP_SIZE);
  const run = (input: Buffer): boolean => {
    const end = used();
    coverage.fill(0, 0, end);
    try {
      t.run(input);
    } catch {
      // Crashes are the fuzzer's business; here only coverage counts.
    }
    return newCoverage(seen, used());
  };
  for (const s of await t.seeds()) run(s);
  const dir = join(corpusRoot, t.name);
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries = await Promise.all(names.map(async (n) => ({ n, b: await readFile(join(dir, n)) })));
  entries.sort((x, y) => x.b.length - y.b.length || (x.n < y.n ? -1 : 1));
  let kept = 0;
  for (const e of entries) {
    if (run(e.b)) kept++;
    else await rm(join(dir, e.n));
  }
  process.stdout.write(`${t.name.padEnd(24)} corpus ${entries.length} -> ${kept}\n`);
}

if (values.minimize) {
  for (const t of chosen) await minimize(t);
  process.exit(0);
}

const results: TargetResult[] = [];
for (const t of chosen) {
  const r = await fuzz(t, budget, Number(values.seed));
  results.push(r);
  if (!values.quiet)
    process.stdout.write(
      `${r.target.padEnd(24)} ${String(r.execs).padStart(10)} execs ${r.execsPerSecond.toFixed(0).padStart(7)}/s  ` +
        `corpus ${r.corpus} (+${r.added})  counters ${r.counters}  slowest ${r.slowestMs.toFixed(1)} ms  ` +
        `heap +${r.heapGrowthMB.toFixed(0)} MB  findings ${r.findings.length}\n`,
    );
  for (const f of r.findings)
    process.stdout.write(
      `  ${f.kind}: ${f.message.split('\n').slice(0, 6).join('\n    ')}${f.file ? `\n    input: ${f.file}` : ''}\n`,
    );
}
if (values.json) await writeFile(values.json, JSON.stringify(results, null, 2) + '\n');
process.exit(results.some((r) => r.findings.length > 0) ? 1 : 0);
