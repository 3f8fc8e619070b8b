import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiskWatch, WatchedStorage } from '../../../src/torrent/disk-watch.js';
import { makeLayout } from '../../../src/storage/layout.js';
import type { FileStat, Storage } from '../../../src/storage/storage.js';
import { FakeClock } from '../../../src/util/clock.js';

/** Two files of 2 pieces each (piece 1 spans both); stats are whatever the test says. */
function setup() {
  const layout = makeLayout(100, [
    { path: ['a'], length: 150 },
    { path: ['b'], length: 250 },
  ]);
  const stats: (FileStat | undefined)[] = [
    { size: 150, mtimeMs: 1 },
    { size: 250, mtimeMs: 1 },
  ];
  let statCalls = 0;
  const storage = {
    layout,
    fileStats: async () => stats.map((s) => (s ? { ...s } : s)),
    fileStat: async (i: number) => {
      statCalls++;
      return stats[i] ? { ...stats[i] } : undefined;
    },
    write: async (_piece: number) => {
      stats[0] = { size: 150, mtimeMs: stats[0]!.mtimeMs + 1 };
    },
  } as unknown as Storage;
  const clock = new FakeClock(0);
  const watch = new DiskWatch(layout, { storage: () => storage }, clock, 5000);
  return { watch, stats, clock, storage, calls: () => statCalls };
}

test('files as checked: unchanged; a file changed behind our back: its pieces are suspect', async () => {
  const { watch, stats, clock, calls } = setup();
  await watch.rebaseline();
  assert.deepEqual(watch.filesOf(1), [0, 1]);
  assert.equal(await watch.pieceChanged(0), false);
  stats[1] = { size: 250, mtimeMs: 99 };
  // File 1 was never stat-ed since the check: its first read stats it.
  assert.equal(await watch.pieceChanged(3), true);
  assert.equal(await watch.pieceChanged(1), true, 'a piece spanning the changed file');
  stats[0] = { size: 10, mtimeMs: 1 };
  assert.equal(await watch.pieceChanged(0), false, 'file 0 stat-ed less than 5 s ago: not again');
  const before = calls();
  clock.advance(5000);
  assert.equal(await watch.pieceChanged(0), true, 'truncation seen once the interval passed');
  assert.equal(calls(), before + 1, 'one stat per file per interval');
  await watch.rebaseline();
  assert.equal(watch.changed.size, 0, 'a new check forgets old changes');
});

test('our own writes are not changes', async () => {
  const { watch, clock, storage } = setup();
  await watch.rebaseline();
  const ours = new WatchedStorage(storage, watch);
  await ours.write(0, 0, Buffer.alloc(10));
  assert.equal(await watch.pieceChanged(0), false);
  await ours.write(0, 0, Buffer.alloc(10));
  clock.advance(5000);
  assert.equal(await watch.pieceChanged(0), false);
});
