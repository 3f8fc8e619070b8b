#!/usr/bin/env node
/**
 * Summarises a V8 heap snapshot (.heapsnapshot from `node --heapsnapshot-signal` or
 * `v8.writeHeapSnapshot()`) by constructor: count and self size, largest first. With a second
 * snapshot, prints the difference (after − before), which is what a per-torrent or
 * per-connection cost needs. `--owners` groups by what holds each object as well
 * (`array <- Map.table`, `Map <- PeerSession.inflight`): which field of which type a cost comes from.
 * Usage: node scripts/heap-summary.mjs [--owners] [before.heapsnapshot] after.heapsnapshot [top]
 */
import { readFileSync } from 'node:fs';

function summarise(path, owners) {
  const snap = JSON.parse(readFileSync(path, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const width = fields.length;
  const edgeWidth = meta.edge_fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const iEdges = fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const { nodes, edges, strings } = snap;
  const count = nodes.length / width;
  const label = (n) => {
    const type = types[nodes[n * width + iType]];
    let name = strings[nodes[n * width + iName]];
    // Strings, code and numbers: group by type, not by their (unique) contents.
    if (type !== 'object' && type !== 'closure' && type !== 'native') name = '';
    if (type === 'closure') name = name || '(anonymous)';
    return `${type}:${String(name).slice(0, 60)}`;
  };
  // The first strong retainer of each node, and the edge it holds it by.
  const owner = owners ? new Int32Array(count).fill(-1) : undefined;
  const ownerEdge = owners ? new Array(count) : undefined;
  if (owners) {
    let e = 0;
    for (let n = 0; n < count; n++) {
      const parentType = types[nodes[n * width + iType]];
      for (let k = nodes[n * width + iEdges]; k > 0; k--, e += edgeWidth) {
        const type = edgeTypes[edges[e + eType]];
        const to = edges[e + eTo] / width;
        if (type === 'weak' || owner[to] !== -1 || parentType === 'synthetic') continue;
        owner[to] = n;
        ownerEdge[to] =
          type === 'element' || type === 'hidden' ? `[${type}]` : String(strings[edges[e + eName]]);
      }
    }
  }
  const byKey = new Map();
  for (let n = 0; n < count; n++) {
    let key = label(n);
    if (owner) key += owner[n] >= 0 ? `  <-  ${label(owner[n])} .${ownerEdge[n]}` : '  <-  (root)';
    const e = byKey.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += nodes[n * width + iSize];
    byKey.set(key, e);
  }
  return byKey;
}

const args = process.argv.slice(2);
const owners = args[0] === '--owners' ? Boolean(args.shift()) : false;
const top = Number(args.at(-1)) > 0 ? Number(args.pop()) : 40;
const after = summarise(args.at(-1), owners);
const before = args.length > 1 ? summarise(args[0], owners) : new Map();
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
