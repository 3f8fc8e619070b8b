/**
 * The Client's `network` option: two Clients whose listen socket and dialing both go through an
 * in-memory Network (test/helpers/memory-transport.ts) — no TCP — and still trade a torrent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { Peer } from '../../../src/peer/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { MemoryHub, MemoryNetwork } from '../../helpers/memory-transport.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

test('two Clients over an in-memory network: listen, dial, download, transport "mem"', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 300_000 }],
    pieceLength: 32768,
  });
  const hub = new MemoryHub();
  const seedNet = new MemoryNetwork(hub, '10.0.0.1');
  const leechNet = new MemoryNetwork(hub, '10.0.0.2');
  const quiet = { dht: false, trackers: false, pex: false } as const;
  const seeder = new Client({ ...quiet, network: seedNet });
  const leecher = new Client({ ...quiet, network: leechNet });
  const joined: Peer<unknown>[] = [];
  seeder.on('peer-connect', (_t, p) => joined.push(p));
  leecher.on('peer-connect', (_t, p) => joined.push(p));
  try {
    assert.equal(await seeder.listen(6881), 6881);
    assert.ok(hub.listeners.has('10.0.0.1:6881'));
    const seed = await seeder.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed checked');
    const leech = await leecher.addTorrent(fx.torrent, {
      savePath: join(tmp.path, 'leech'),
      peers: [{ host: '10.0.0.1', port: 6881 }],
    });
    await until(() => leech.state === 'seeding', 20_000, 'leech complete');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    assert.ok(leechNet.connects >= 1);
    assert.equal(seedNet.connects, 0);
    assert.equal(joined.length, 2);
    for (const p of joined) assert.equal(p.transport, 'mem');
    assert.deepEqual(joined.map((p) => p.host).sort(), ['10.0.0.1', '10.0.0.2']);
  } finally {
    await leecher.close();
    await seeder.close();
    await tmp.cleanup();
  }
  assert.equal(hub.listeners.size, 0, 'close() closed the listener');
});
