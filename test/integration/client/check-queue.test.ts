/** active_checking: torrents added together read their data for the hash check a few at a time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/client/index.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import type { ByteRange, ReadIntoOptions } from '../../../src/storage/storage.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until, type Fixture } from '../../unit/client/fixtures.js';

/** Adds every fixture at once and returns the most torrents that were reading at one time. */
async function peakCheckingAt(
  slots: number,
  fixtures: Fixture[],
): Promise<{ peak: number; states: string[] }> {
  const reading = new Set<FileStorage>();
  let peak = 0;
  class SlowStorage extends FileStorage {
    override async readInto(offset: number, target: Uint8Array, o?: ReadIntoOptions): Promise<ByteRange[]> {
      reading.add(this);
      peak = Math.max(peak, reading.size);
      try {
        await new Promise((r) => setTimeout(r, 30));
        return await super.readInto(offset, target, o);
      } finally {
        reading.delete(this);
      }
    }
  }
  const client = new Client({
    host: '127.0.0.1',
    trackers: false,
    dht: false,
    settings: { active_checking: slots },
  });
  try {
    const torrents = await Promise.all(
      fixtures.map((fx) =>
        client.addTorrent(fx.torrent, { savePath: fx.dir, storage: (m) => new SlowStorage(m, fx.dir) }),
      ),
    );
    await until(() => reading.size > 0, 5000, 'a check reading');
    const states = torrents.map((t) => t.state);
    await until(() => torrents.every((t) => t.state === 'seeding'), 20_000, 'all seeding');
    return { peak, states };
  } finally {
    await client.close();
  }
}

test('active_checking bounds the torrents reading for their check at once; the rest wait as checking', async () => {
  const tmp = await tempDir();
  try {
    const fixtures: Fixture[] = [];
    for (let i = 0; i < 5; i++)
      fixtures.push(
        await makeFixture(tmp.path, {
          name: `t${i}`,
          seed: 100 + i * 10,
          files: [{ path: 'a.bin', size: 300_000 }],
          pieceLength: 16384,
        }),
      );
    const one = await peakCheckingAt(1, fixtures);
    assert.equal(one.peak, 1, 'one torrent reads at a time');
    assert.ok(
      one.states.every((s) => s === 'checking'),
      `queued torrents show checking: ${one.states.join(',')}`,
    );
    const all = await peakCheckingAt(5, fixtures);
    assert.ok(all.peak > 1, `with 5 slots checks overlap (peak ${all.peak})`);
  } finally {
    await tmp.cleanup();
  }
});
