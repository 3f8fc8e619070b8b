/**
 * Choking fairness (tit-for-tat): in a swarm whose seed is the scarce resource, a leecher
 * that uploads (almost) nothing must not finish before the leechers that trade.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimSwarm, mbit } from '../../sim/index.js';

test('a free rider finishes after the leechers that upload', async (t) => {
  const sw = new SimSwarm({ seed: 4 });
  try {
    const torrent = sw.makeTorrent(2 << 20, 64 << 10);
    await sw.addSeed(torrent, { link: { link: { latencyMs: 20, bitsPerSecond: 512_000 } } });
    const leechers = [];
    for (let i = 0; i < 7; i++)
      leechers.push(
        await sw.addLeecher(torrent, {
          link: {
            link: { latencyMs: 20 + 10 * i },
            up: { bitsPerSecond: mbit(4) },
            down: { bitsPerSecond: mbit(16) },
          },
          // Four slots for six other leechers: tit-for-tat only shows where slots are scarce (with
          // the default eight, every peer here would be unchoked, as libtorrent would).
          client: { limits: { unchokeSlots: 4 }, ...(i === 0 ? { uploadRateLimit: 1000 } : {}) },
        }),
      );
    sw.introduceAll();
    assert.ok(await sw.runUntilComplete(1_800_000));
    const [rider, ...traders] = leechers;
    const times = traders.map((m) => m.doneAt!).sort((a, b) => a - b);
    const median = times[times.length >> 1]!;
    t.diagnostic(
      `free rider done at ${(rider!.doneAt! / 1000).toFixed(1)} s (uploaded ${rider!.host.stats.sentBytes} bytes on the wire); ` +
        `traders ${(times[0]! / 1000).toFixed(1)}–${(times[times.length - 1]! / 1000).toFixed(1)} s, median ${(median / 1000).toFixed(1)} s`,
    );
    assert.ok(rider!.doneAt! > median, 'the free rider is not served ahead of those who trade');
  } finally {
    await sw.close();
  }
});
