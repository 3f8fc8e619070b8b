/**
 * Under an upload rate limit, the seed's `uploaded` counts what left through the limit, not
 * what the uploader handed to the peer's queue (found with the simulator: 98 KiB reported after
 * 10 s while 34 KiB had gone out at 2 kB/s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimSwarm, mbit } from '../../sim/index.js';

test('uploaded follows the rate limit, and equals what the leech received', async () => {
  const sw = new SimSwarm({ seed: 5 });
  try {
    const torrent = sw.makeTorrent(1 << 20, 32 << 10);
    const link = { link: { latencyMs: 20, bitsPerSecond: mbit(10) } };
    const seed = await sw.addSeed(torrent, { link, client: { uploadRateLimit: 16 * 1024 } });
    const leech = await sw.addLeecher(torrent, { link });
    sw.introduceAll();
    await sw.sim.run({ for: 10_000 });
    const up = seed.torrent.stats().uploaded;
    const got = leech.torrent.stats().downloaded;
    t_diag(`after 10 s at 16 KiB/s: seed uploaded ${up} B, leech received ${got} B`);
    // 10 s at 16 KiB/s plus at most a second's burst; not the blocks queued behind the limit.
    assert.ok(up <= 11 * 16 * 1024, `uploaded ${up}`);
    assert.ok(up > 0);
    // At most one block is on the wire at this rate.
    assert.ok(up - got <= 16 * 1024, `reported ${up} vs received ${got}`);
  } finally {
    await sw.close();
  }
});

function t_diag(s: string): void {
  process.stdout.write(`# ${s}\n`);
}
