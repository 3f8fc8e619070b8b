/**
 * BEP 16 super-seeding with our own clients on 127.0.0.1: the seed hides its bitfield (have-none,
 * then one HAVE), refuses requests for pieces it did not offer, the leechers complete by
 * trading, and the seed uploads about one copy. A torrent that is not complete turns it off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { Torrent } from '../../../src/torrent/torrent.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';
import { RawPeer } from '../../unit/client/raw-peer.js';

test('a super-seed announces have-none and one piece, and serves only that piece', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'x.bin', size: 300_000 }], pieceLength: 32768 });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled', dht: false, lsd: false });
  try {
    const port = await client.listen(0);
    const t = await client.addTorrent(fx.torrent, { savePath: fx.dir, superSeeding: true });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    assert.equal(t.superSeeding, true);
    const raw = await RawPeer.connect(port);
    raw.sendHandshake(fx.metainfo.infoHash);
    assert.ok(await raw.waitFor((r) => r.messages.some((m) => m.type === 'have')));
    const types = raw.messages.map((m) => m.type);
    assert.equal(types.includes('haveAll'), false, 'no have-all');
    assert.equal(types.includes('bitfield'), false, 'no bitfield');
    assert.equal(types[0], 'haveNone', types.join());
    const haves = raw.messages.filter((m) => m.type === 'have');
    assert.equal(haves.length, 1);
    const offered = haves[0]!.type === 'have' ? haves[0]!.index : -1;
    const other = (offered + 1) % fx.metainfo.pieceCount;
    raw.send({ type: 'interested' });
    assert.ok(await raw.waitFor((r) => r.messages.some((m) => m.type === 'unchoke'), 15_000), 'unchoked');
    // The last piece is short (300,000 is not a multiple of 32 KiB): ask for no more than a piece holds.
    const ask = (i: number) => Math.min(16384, fx.metainfo.pieceSize(i));
    raw.send({ type: 'request', index: other, begin: 0, length: ask(other) });
    raw.send({ type: 'request', index: offered, begin: 0, length: ask(offered) });
    assert.ok(await raw.waitFor((r) => r.messages.some((m) => m.type === 'piece'), 15_000), 'served');
    await until(() => raw.messages.some((m) => m.type === 'reject'), 5000, 'reject');
    const pieces = raw.messages
      .filter((m) => m.type === 'piece')
      .map((m) => (m.type === 'piece' ? m.index : -1));
    const rejects = raw.messages
      .filter((m) => m.type === 'reject')
      .map((m) => (m.type === 'reject' ? m.index : -1));
    assert.deepEqual(pieces, [offered]);
    assert.deepEqual(rejects, [other]);
    // Turned off: the peer learns every other piece.
    t.setSuperSeeding(false);
    await until(
      () => raw.messages.filter((m) => m.type === 'have').length === fx.metainfo.pieceCount,
      5000,
      'all pieces announced',
    );
    raw.close();
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});

test('super-seeding turns itself off on a torrent that is not complete', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'x.bin', size: 100_000 }], pieceLength: 32768 });
  const client = new Client({ host: '127.0.0.1', dht: false, lsd: false });
  try {
    await client.listen(0);
    const t = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'empty'), superSeeding: true });
    assert.equal(t.superSeeding, true, 'wanted until the check says otherwise');
    await until(() => t.state === 'downloading', 5000, 'downloading');
    assert.equal(t.superSeeding, false);
    t.setSuperSeeding(true);
    assert.equal(t.superSeeding, false, 'not for a leech');
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});

async function swarm(superSeeding: boolean): Promise<{ uploaded: number; length: number }> {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'one.bin', size: 2_000_000 }],
    pieceLength: 32768,
  });
  const limits = { maxPerHost: 10 };
  const seedClient = new Client({ host: '127.0.0.1', limits, dht: false, lsd: false });
  const leechClients = Array.from(
    { length: 3 },
    () => new Client({ host: '127.0.0.1', limits, dht: false, lsd: false }),
  );
  const clients = [seedClient, ...leechClients];
  try {
    const ports = await Promise.all(clients.map((c) => c.listen(0)));
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir, superSeeding });
    await until(() => seed.state === 'seeding', 5000, 'seed checked');
    const leeches: Torrent[] = [];
    for (const [i, c] of leechClients.entries())
      leeches.push(await c.addTorrent(fx.torrent, { savePath: join(tmp.path, `leech${i}`) }));
    for (const [i, t] of leeches.entries()) {
      t.addPeer('127.0.0.1', ports[0]!);
      for (let j = 0; j < i; j++) t.addPeer('127.0.0.1', ports[j + 1]!);
    }
    await until(() => leeches.every((t) => t.state === 'seeding'), 60_000, 'all leechers done');
    for (const [i] of leeches.entries())
      assert.deepEqual(await sameFiles(fx, join(tmp.path, `leech${i}`)), []);
    return { uploaded: seed.stats().sessionUploaded, length: fx.metainfo.length };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await tmp.cleanup();
  }
}

test('one super-seed and three leechers: all complete, the seed uploads about one copy', async () => {
  const { uploaded, length } = await swarm(true);
  assert.ok(uploaded >= length, `the seed sent ${uploaded} of ${length}`);
  assert.ok(uploaded <= 1.25 * length, `the super-seed sent ${(uploaded / length).toFixed(2)} copies`);
});
