/** docs/engine.md's settings table is the registry's (scripts/settings-table.mjs --write). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { settingsTable } from '../../../src/settings/table.js';

/** Table rows as trimmed cells, so prettier's column padding does not matter. */
function rows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

test('the settings table in docs/engine.md matches the registry', async () => {
  const doc = await readFile('docs/engine.md', 'utf8');
  const block = /<!-- settings-table:start -->([\s\S]*?)<!-- settings-table:end -->/.exec(doc);
  assert.ok(block, 'docs/engine.md has the settings-table block');
  assert.deepEqual(rows(block[1]!), rows(settingsTable()), 'run: node scripts/settings-table.mjs --write');
});
