#!/usr/bin/env node
// Prints the settings table of docs/engine.md from the registry (build first), or with --write
// replaces the table between the settings-table markers in docs/engine.md (then run prettier).
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable } from '../dist/src/settings/table.js';

const START = '<!-- settings-table:start -->';
const END = '<!-- settings-table:end -->';
const table = settingsTable();
if (process.argv.includes('--write')) {
  const path = 'docs/engine.md';
  const doc = readFileSync(path, 'utf8');
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${path} has no ${START} … ${END} block`);
  writeFileSync(path, `${doc.slice(0, a + START.length)}\n\n${table}\n${doc.slice(b)}`);
} else process.stdout.write(table);
