#!/usr/bin/env node
// Regenerates the README's generated parts from the code (run after `npm run build`):
// each `<!-- example: path -->` block becomes that file verbatim, and the disconnect table is
// built from DisconnectReason. test/unit/docs/readme.test.ts fails when they drift apart.
// Usage: node scripts/readme.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';

const { DisconnectReason, disconnectDescriptions } = await import('../dist/src/peer/disconnect.js');

const README = 'README.md';
const text = readFileSync(README, 'utf8');

function disconnectTable() {
  const rows = Object.entries(DisconnectReason)
    .filter(([name, value]) => typeof value === 'number' && Number.isNaN(Number(name)))
    .map(([name, value]) => [
      String(value),
      `\`${name}\``,
      disconnectDescriptions[value].replaceAll('|', '\\|'),
    ]);
  const head = ['number', 'name', 'description'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

let out = text.replace(
  /(<!-- example: (\S+) -->\n\n```ts\n)[\s\S]*?(```\n)/g,
  (_, open, path, close) => `${open}${readFileSync(path, 'utf8')}${close}`,
);
out = out.replace(
  /(<!-- disconnect-reasons -->\n)[\s\S]*?(<!-- \/disconnect-reasons -->)/,
  (_, open, close) => `${open}\n${disconnectTable()}\n\n${close}`,
);

if (process.argv.includes('--check')) {
  if (out !== text) {
    console.error('README.md is out of date: run node scripts/readme.mjs');
    process.exit(1);
  }
} else if (out !== text) {
  writeFileSync(README, out);
  console.log('README.md updated');
}
