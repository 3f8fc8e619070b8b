#!/usr/bin/env node
/**
 * Summarises a V8 heap snapshot (.heapsnapshot from `node --heapsnapshot-signal` or
 * `v8.writeHeapSnapshot()`) by constructor: count and self size, largest first. With a second
 * snapshot, prints the difference (after − before), which is what a per-torrent or
 * per-connection cost needs. Usage: node scripts/heap-summary.mjs [before.heapsnapshot] after.heapsnapshot [top]
 */
import { readFileSync } from 'node:fs';

function summarise(path) {
  const snap = JSON.parse(readFileSync(path, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const nodes = snap.nodes;
  const strings = snap.strings;
  const byKey = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name = strings[nodes[i + iName]];
    // Strings, code and numbers: group by type, not by their (unique) contents.
    if (type !== 'object' && type !== 'closure' && type !== 'native') name = '';
    if (type === 'closure') name = name || '(anonymous)';
    const key = `${type}:${name.slice(0, 60)}`;
    const e = byKey.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += nodes[i + iSize];
    byKey.set(key, e);
  }
  return byKey;
}

const args = process.argv.slice(2);
const top = Number(args.at(-1)) > 0 ? Number(args.pop()) : 40;
const after = summarise(args.at(-1));
const before = args.length > 1 ? summarise(args[0]) : new Map();
const rows = [];
for (const [key, a] of after) {
  const b = before.get(key) ?? { count: 0, size: 0 };
  rows.push({ key, count: a.count - b.count, size: a.size - b.size });
}
for (const [key, b] of before) if (!after.has(key)) rows.push({ key, count: -b.count, size: -b.size });
rows.sort((x, y) => y.size - x.size);
const total = rows.reduce((s, r) => s + r.size, 0);
console.log(`total self size ${(total / 1024).toFixed(0)} KiB`);
for (const r of rows.slice(0, top))
  console.log(`${(r.size / 1024).toFixed(1).padStart(10)} KiB ${String(r.count).padStart(8)}  ${r.key}`);
