/**
 * The coverage-guided fuzzer as CI runs it: every target, a fixed number of runs from its
 * committed corpus (test/fuzz/corpus) with a fixed seed. Fails on any finding (an exception
 * other than NbtError, an input slower than the limit, a heap that keeps growing), and if a
 * target's instrumentation or corpus stopped working (no coverage, no executions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

const RUNS = Number(process.env.NBT_FUZZ_RUNS ?? 1500);

test(`fuzz: every target, ${RUNS} coverage-guided runs from the corpus, finds nothing`, async () => {
  const tmp = await tempDir('nbt-fuzz-ci-');
  try {
    const json = join(tmp.path, 'fuzz.json');
    const r = spawnSync(
      process.execPath,
      [
        'dist/test/fuzz/run.js',
        '--runs',
        String(RUNS),
        '--seed',
        '20261202',
        '--slow-ms',
        '5000',
        '--json',
        json,
      ],
      { encoding: 'utf8', timeout: 600_000 },
    );
    assert.equal(r.status, 0, `fuzzer exit ${r.status}:\n${r.stdout}\n${r.stderr}`);
    const results = JSON.parse(readFileSync(json, 'utf8')) as {
      target: string;
      execs: number;
      counters: number;
      corpus: number;
      findings: unknown[];
    }[];
    assert.ok(results.length >= 16, `${results.length} targets`);
    for (const t of results) {
      assert.ok(t.execs >= RUNS, `${t.target}: ${t.execs} execs`);
      assert.ok(t.counters > 10, `${t.target}: coverage ${t.counters} counters (instrumentation broken?)`);
      assert.ok(t.corpus > 1, `${t.target}: corpus ${t.corpus}`);
      assert.deepEqual(t.findings, [], t.target);
    }
  } finally {
    await tmp.cleanup();
  }
});
