import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/client/index.js';
import { buildMagnet } from '../../../src/metainfo/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from './fixtures.js';

test('DHT searches: at once on start, early every minIntervalMs while short of peers, on the FakeClock', async () => {
  const tmp = await tempDir();
  const clock = new FakeClock();
  const c = new Client({
    host: '127.0.0.1',
    clock,
    pex: false,
    trackers: false,
    dht: { host: '127.0.0.1', bootstrap: [], minIntervalMs: 60_000, intervalMs: 15 * 60_000 },
  });
  try {
    const port = await c.listen(0);
    await c.dht!.ready;
    assert.equal(c.dht!.port, port, 'the DHT shares the listen port');
    // Count this torrent's searches (the node's own maintenance makes lookups too).
    const node = c.dht!.node;
    const announce = node.announce.bind(node);
    let searches = 0;
    node.announce = (infoHash, port, implied) => {
      searches++;
      return announce(infoHash, port, implied);
    };
    const lookups = (): number => searches;
    const base = 0;
    const t = await c.addTorrent(buildMagnet({ infoHash: seededBytes(20, 5) }), { savePath: tmp.path });
    await until(() => t.state === 'metadata' && lookups() === base + 1, 5000, 'first search');
    clock.advance(30_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(lookups(), base + 1, 'not again before minIntervalMs');
    clock.advance(35_000);
    await until(() => lookups() === base + 2, 5000, 'early search while short of peers');
    await c.removeTorrent(t);
    clock.advance(20 * 60_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(lookups(), base + 2, 'a removed torrent is not searched');
  } finally {
    await c.close();
    await tmp.cleanup();
  }
});
