/**
 * kill -9 at random points during adds and a download: every torrent whose add was
 * acknowledged comes back after the restart, in its state, and the downloaded data is correct.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { createTorrent } from '../../src/metainfo/index.js';
import { TrackerServer } from '../../src/tracker/server/index.js';
import { makeFixture, sameFiles } from '../unit/client/fixtures.js';
import { prng, tempDir } from '../helpers/tmp.js';
import { NbtDaemon } from '../helpers/nbt-daemon.js';
import { RpcClient } from '../helpers/rpc-client.js';

const KILLS = Number(process.env.KILLS ?? 10);

test(
  'kill -9 during adds and a download: acknowledged torrents come back, data is correct',
  { timeout: 180_000 },
  async () => {
    const dir = await tempDir('nbt-daemon-kill9-');
    const tracker = new TrackerServer({ host: '127.0.0.1', http: { port: 0 }, intervalS: 60 });
    await tracker.listen();
    const seedDir = join(dir.path, 'seed');
    const fx = await makeFixture(seedDir, {
      name: 'big',
      files: [
        { path: 'a.bin', size: 3_000_000 },
        { path: 'b.bin', size: 1_000_001 },
      ],
    });
    const { torrent: bigTorrent } = await createTorrent(join(seedDir, 'big'), {
      pieceLength: 64 * 1024,
      date: false,
      trackers: [tracker.announceUrls().http!],
    });
    const seeder = new Client({ host: '127.0.0.1', dht: false, pex: false, limits: { maxPerHost: 10 } });
    await seeder.listen(0);
    await seeder.addTorrent(bigTorrent, { savePath: seedDir });
    // Small torrents to add while being killed (no peers: they stay downloading).
    const small: Buffer[] = [];
    for (let i = 0; i < 3 * KILLS; i++) {
      const d = join(dir.path, `src${i}`);
      await mkdir(d, { recursive: true });
      await writeFile(join(d, `s${i}.bin`), Buffer.alloc(1000 + i, i));
      small.push((await createTorrent(join(d, `s${i}.bin`), { pieceLength: 16384, date: false })).torrent);
    }
    const cfg = join(dir.path, 'cfg');
    const dl = join(dir.path, 'dl');
    await mkdir(cfg, { recursive: true });
    // Everything is on 127.0.0.1: allow more than one connection per host.
    await writeFile(join(cfg, 'daemon.json'), JSON.stringify({ engine: { connections_per_host_limit: 20 } }));
    const acknowledged = new Map<string, boolean>(); // hash → stopped
    const rnd = prng(9);
    let daemon: NbtDaemon | undefined;
    try {
      let next = 0;
      for (let round = 0; round < KILLS; round++) {
        daemon = await NbtDaemon.start(cfg, dl);
        const rpc = new RpcClient(daemon.rpcPort);
        const got = (await rpc.ok('torrent-get', { fields: ['hashString', 'status'] }))['torrents'] as {
          hashString: string;
          status: number;
        }[];
        const hashes = new Set(got.map((t) => t.hashString));
        for (const [h, stopped] of acknowledged) {
          assert.ok(hashes.has(h), `round ${round}: acknowledged torrent ${h} is back`);
          if (stopped) assert.equal(got.find((t) => t.hashString === h)!.status, 0, 'still stopped');
        }
        if (round === 0) {
          // Slow enough that the kills land in the middle of the download.
          await rpc.ok('session-set', { 'speed-limit-down': 400, 'speed-limit-down-enabled': true });
          const a = await rpc.ok('torrent-add', { metainfo: bigTorrent.toString('base64') });
          acknowledged.set((a['torrent-added'] as { hashString: string }).hashString, false);
        }
        const killAt = Date.now() + 300 + rnd() * 1500;
        // Adds race the kill; only those answered count as acknowledged.
        const adding = (async () => {
          while (next < small.length && Date.now() < killAt + 1000) {
            const paused = next % 3 === 0;
            const i = next++;
            try {
              const a = await rpc.ok('torrent-add', { metainfo: small[i]!.toString('base64'), paused });
              acknowledged.set((a['torrent-added'] as { hashString: string }).hashString, paused);
            } catch {
              return; // killed mid-request
            }
          }
        })();
        await new Promise((r) => setTimeout(r, Math.max(0, killAt - Date.now())));
        await daemon.kill('SIGKILL');
        await adding;
      }
      daemon = await NbtDaemon.start(cfg, dl);
      const rpc = new RpcClient(daemon.rpcPort);
      await rpc.ok('session-set', { 'speed-limit-down-enabled': false });
      const bigHash = [...acknowledged.keys()][0]!;
      const t0 = Date.now();
      for (;;) {
        const t = (
          (
            await rpc.ok('torrent-get', {
              ids: [bigHash],
              fields: ['percentDone', 'status', 'peersConnected', 'errorString'],
            })
          )['torrents'] as { percentDone: number; status: number }[]
        )[0]!;
        if (t.percentDone === 1 && t.status === 6) break;
        if (Date.now() - t0 > 60_000)
          throw new Error(
            `download did not finish: ${JSON.stringify(t)} seeder connections ${seeder.connectionCount} ${JSON.stringify(daemon.log.slice(-10))}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(await sameFiles(fx, dl), []);
      const all = (await rpc.ok('torrent-get', { fields: ['hashString'] }))['torrents'] as {
        hashString: string;
      }[];
      // An add cut off before its answer may be back too; an acknowledged one must be.
      const back = new Set(all.map((t) => t.hashString));
      assert.deepEqual(
        [...acknowledged.keys()].filter((h) => !back.has(h)),
        [],
      );
      assert.ok(acknowledged.size >= KILLS, `${acknowledged.size} adds were acknowledged`);
      const term = await daemon.kill('SIGTERM');
      assert.equal(term.code, 0, 'SIGTERM: saves and exits 0');
    } finally {
      await daemon?.kill('SIGKILL');
      await seeder.close();
      await tracker.close();
      await dir.cleanup();
    }
  },
);
