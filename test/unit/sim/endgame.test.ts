/**
 * Endgame: a leech downloading from a fast seed and a very slow one (128 kbit/s, 300 ms RTT)
 * must not wait for the slow one's last blocks — those are requested from the fast seed too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimSwarm, mbit } from '../../sim/index.js';

async function finish(withSlowSeed: boolean): Promise<{ doneAt: number; fromSlow: number; wasted: number }> {
  const sw = new SimSwarm({ seed: 8 });
  try {
    const torrent = sw.makeTorrent(4 << 20, 256 << 10);
    await sw.addSeed(torrent, { link: { link: { latencyMs: 20, bitsPerSecond: mbit(20) } } });
    const slow = withSlowSeed
      ? await sw.addSeed(torrent, { link: { link: { latencyMs: 150, bitsPerSecond: 128_000 } } })
      : undefined;
    const leech = await sw.addLeecher(torrent, {
      link: { link: { latencyMs: 20, bitsPerSecond: mbit(50) } },
    });
    sw.introduceAll();
    assert.ok(await sw.runUntilComplete(600_000));
    return {
      doneAt: leech.doneAt!,
      fromSlow: slow?.torrent.stats().uploaded ?? 0,
      wasted: leech.torrent.stats().wasted,
    };
  } finally {
    await sw.close();
  }
}

test('endgame: a very slow peer does not delay the last pieces', async (t) => {
  const alone = await finish(false);
  const both = await finish(true);
  t.diagnostic(
    `fast seed alone: ${alone.doneAt.toFixed(0)} ms; with a 128 kbit/s seed too: ${both.doneAt.toFixed(0)} ms ` +
      `(${both.fromSlow} bytes from the slow seed, ${both.wasted} wasted)`,
  );
  assert.ok(both.fromSlow > 0, 'the slow seed was used');
  assert.ok(both.doneAt <= alone.doneAt * 1.1 + 500, 'the finish does not wait for the slow seed');
  assert.ok(both.wasted <= 4 * 16384, 'endgame duplicates stay few');
});
