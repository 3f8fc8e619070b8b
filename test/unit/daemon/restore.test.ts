/**
 * A daemon restarting with many saved torrents: every one comes back in its queue order and
 * seeds, and the checks ending one after another do not each run the queue policy over all
 * torrents (that was O(n²) at start-up: 1,000 torrents, 1,000 runs over 1,000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon } from '../../../src/daemon/daemon.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { until } from '../client/fixtures.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

const N = 40;

test('restart with 40 saved torrents: all back in queue order and seeding; the policy runs once per burst', async () => {
  const dir = await tempDir('nbt-daemon-restore-');
  try {
    const data = join(dir.path, 'data');
    await mkdir(data);
    const torrents: Buffer[] = [];
    for (let i = 0; i < N; i++) {
      const p = join(data, `f${i}.bin`);
      await writeFile(p, seededBytes(20_000, i + 1));
      torrents.push((await createTorrent(p, { pieceLength: 16 * 1024, date: false })).torrent);
    }
    const configDir = join(dir.path, 'cfg');
    const client = { dht: false, trackers: false, pex: false, lsd: false, host: '127.0.0.1' } as const;
    const first = await Daemon.open({ configDir, downloadDir: data, port: 0, client });
    const ids: number[] = [];
    try {
      for (const t of torrents) ids.push((await first.add({ metainfo: t })).entry.record.id);
      await until(() => first.list().every((e) => e.torrent?.state === 'seeding'), 20_000, 'seeding');
    } finally {
      await first.close();
    }

    // Count the policy's runs over the restart; the fake clock stands still, so whatever the
    // check ends asked for after the first run waits for the clock.
    let runs = 0;
    const apply = Daemon.prototype.applyPolicy;
    Daemon.prototype.applyPolicy = function (this: Daemon): void {
      runs++;
      apply.call(this);
    };
    const clock = new FakeClock();
    let again: Daemon | undefined;
    try {
      again = await Daemon.open({ configDir, downloadDir: data, port: 0, client: { ...client, clock } });
      const d = again;
      await until(() => d.list().every((e) => e.torrent?.state === 'seeding'), 20_000, 'seeding again');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        d.list().map((e) => e.record.id),
        ids,
      );
      assert.ok(runs <= 3, `${runs} policy runs for ${N} checks ending`);
      const before = runs;
      clock.advance(250);
      assert.equal(runs, before + 1, 'the coalesced run comes once the clock moves');
    } finally {
      Daemon.prototype.applyPolicy = apply;
      await again?.close();
    }
  } finally {
    await dir.cleanup();
  }
});
