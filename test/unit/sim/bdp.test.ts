/**
 * Throughput against the bandwidth-delay product: one leech behind a 100 Mbit/s link with a
 * 200 ms round trip (BDP 2.5 MB) downloading from a well-connected seed must reach at least
 * 90 % of the link rate once TCP's window has grown. That needs the engine to keep ≥ 2.5 MB of
 * requests outstanding and the seed to keep the connection's send buffer full.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimSwarm, mbit } from '../../sim/index.js';

test('one leech on a 100 Mbit/s, 200 ms RTT link reaches ≥ 90 % of the link rate', async (t) => {
  const size = 24 << 20;
  const sw = new SimSwarm({ seed: 3 });
  const wall = performance.now();
  try {
    const torrent = sw.makeTorrent(size, 1 << 20);
    await sw.addSeed(torrent, {
      link: { link: { latencyMs: 1, bitsPerSecond: mbit(1000), queueBytes: 4 << 20 } },
    });
    const leech = await sw.addLeecher(torrent, {
      link: { link: { latencyMs: 99, bitsPerSecond: mbit(100), queueBytes: 2 << 20 } },
    });
    sw.introduceAll();
    const marks: [number, number][] = [];
    const tick = sw.sim.clock.setInterval(
      () => marks.push([sw.sim.now(), leech.torrent.stats().downloaded]),
      250,
    );
    assert.ok(await sw.runUntilComplete(120_000), 'download complete');
    tick.cancel();
    // Steady state: from when half the bytes had arrived to the end.
    const from = marks.find(([, n]) => n >= size / 2)!;
    const rate = ((leech.torrent.stats().downloaded - from[1]) * 8) / ((leech.doneAt! - from[0]) / 1000);
    const share = rate / mbit(100);
    t.diagnostic(
      `steady payload rate ${(rate / 1e6).toFixed(1)} Mbit/s (${(share * 100).toFixed(1)} % of the link), ` +
        `whole download ${(leech.doneAt! / 1000).toFixed(2)} s virtual, ${((performance.now() - wall) / 1000).toFixed(2)} s wall`,
    );
    assert.ok(share >= 0.9, `${(share * 100).toFixed(1)} % of the link rate`);
  } finally {
    await sw.close();
  }
});
