/**
 * A swarm too big for the unit suite, run by hand: 1 seed + N leechers over 20–200 ms round
 * trips with mixed bandwidths, reporting virtual time, wall time and their ratio.
 *
 *   node dist/test/sim/run-swarm.js [--leechers 30] [--mib 100] [--piece-kib 256] [--mss 1460] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { SimSwarm } from './swarm.js';
import { mbit } from './link.js';

const { values } = parseArgs({
  options: {
    leechers: { type: 'string', default: '30' },
    mib: { type: 'string', default: '100' },
    'piece-kib': { type: 'string', default: '256' },
    mss: { type: 'string', default: '1460' },
    seed: { type: 'string', default: '1' },
  },
});
const leechers = Number(values.leechers);
const size = Number(values.mib) * 1024 * 1024;

const wall = performance.now();
const cpu = process.cpuUsage();
const sw = new SimSwarm({ seed: Number(values.seed), network: { tcp: { mss: Number(values.mss) } } });
const torrent = sw.makeTorrent(size, Number(values['piece-kib']) * 1024);
const seed = await sw.addSeed(torrent, { link: { link: { latencyMs: 10, bitsPerSecond: mbit(10) } } });
for (let i = 0; i < leechers; i++) {
  const latencyMs = 10 + sw.sim.rng.int(91);
  const up = [2, 5, 10, 20][sw.sim.rng.int(4)]!;
  await sw.addLeecher(torrent, {
    link: { link: { latencyMs }, up: { bitsPerSecond: mbit(up) }, down: { bitsPerSecond: mbit(4 * up) } },
  });
}
sw.introduceAll();
const complete = await sw.runUntilComplete(24 * 3600_000);
const used = process.cpuUsage(cpu);
const wallMs = performance.now() - wall;
const virtualMs = sw.sim.now();
const others = sw.members.filter((m) => !m.seed);
const downloaded = others.reduce((n, m) => n + m.torrent.stats().downloaded, 0);
const byLeechers = others.reduce((n, m) => n + m.torrent.stats().uploaded, 0);
console.log(
  JSON.stringify(
    {
      complete,
      clients: sw.members.length,
      mib: size / 2 ** 20,
      mss: Number(values.mss),
      virtualS: +(virtualMs / 1000).toFixed(1),
      wallS: +(wallMs / 1000).toFixed(1),
      cpuS: +((used.user + used.system) / 1e6).toFixed(1),
      virtualPerWall: +(virtualMs / wallMs).toFixed(2),
      events: sw.sim.events,
      seedCopies: +(seed.torrent.stats().uploaded / size).toFixed(2),
      leecherShareOfUploads: +(byLeechers / downloaded).toFixed(3),
      firstDoneS: +(Math.min(...others.map((m) => m.doneAt ?? Infinity)) / 1000).toFixed(1),
      traceHash: sw.sim.traceHash,
    },
    null,
    1,
  ),
);
await sw.close();
