/**
 * Torrent states and upload serving over real sockets: pause (no requests, every peer choked),
 * resume, stop (TORRENT_STOPPED), remove (TORRENT_REMOVED, files deleted), and the seed side's
 * answers to good and bad requests (Fast rejects).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { DisconnectReason, type DisconnectInfo } from '../../../src/peer/disconnect.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';
import { RawPeer } from '../../unit/client/raw-peer.js';

test('pause stops transfers but keeps connections; resume finishes; stop and remove disconnect', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 2_000_000 }],
    pieceLength: 32768,
  });
  const seedClient = new Client({ host: '127.0.0.1', uploadRateLimit: 1_000_000 });
  const client = new Client({ host: '127.0.0.1' });
  const seedCloses: DisconnectInfo[] = [];
  seedClient.on('peer-disconnect', (_p, info) => seedCloses.push(info));
  const states: string[] = [];
  try {
    const seedPort = await seedClient.listen(0);
    await client.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const t = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    t.on('state', (s) => states.push(s));
    t.addPeer('127.0.0.1', seedPort);
    await until(() => t.have.count >= 5, 10_000, 'some pieces');
    t.pause();
    assert.equal(t.state, 'paused');
    const leechPeer = t.peers[0]!;
    assert.equal(leechPeer.amChoking, true);
    assert.equal(leechPeer.amInterested, false);
    // Let the blocks already on the wire land, then nothing more may arrive.
    await new Promise((r) => setTimeout(r, 300));
    const have = t.have.count;
    const got = t.stats().sessionDownloaded;
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(t.have.count, have);
    assert.equal(t.stats().sessionDownloaded, got);
    assert.equal(t.peerCount, 1, 'connections stay while paused');
    t.resume();
    await until(() => t.state === 'seeding', 20_000, 'download finished after resume');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    assert.deepEqual(states, ['checking', 'downloading', 'paused', 'downloading', 'seeding']);

    // Both seeds now, so reconnect a fresh leech to test stop and remove.
    const other = await client
      .addTorrent(fx.torrent, { savePath: join(tmp.path, 'x') })
      .catch((e: Error) => e);
    assert.ok(other instanceof Error && /already/.test(other.message));
    await seed.stop();
    assert.equal(seed.state, 'stopped');
    seed.start();
    await until(() => seed.state === 'seeding', 5000, 'seed restarted');
    await client.removeTorrent(t, { deleteFiles: true });
    assert.equal(client.torrents.length, 0);
    await assert.rejects(access(join(tmp.path, 'leech', fx.name)));
  } finally {
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});

test('upload serving: valid requests answered, bad ones rejected (Fast), cancels honoured', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'f.bin', size: 200_000 }], pieceLength: 32768 });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  try {
    const port = await client.listen(0);
    const t = await client.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    const raw = await RawPeer.connect(port);
    raw.sendHandshake(fx.metainfo.infoHash);
    await raw.waitFor((r) => r.messages.some((m) => m.type === 'haveAll'));
    // Choked: a request is rejected.
    raw.send({ type: 'request', index: 0, begin: 0, length: 16384 });
    await raw.waitFor((r) => r.messages.some((m) => m.type === 'reject'));
    raw.send({ type: 'interested' });
    await raw.waitFor((r) => r.messages.some((m) => m.type === 'unchoke'));
    // Past the end of a piece, and past the end of the (short) last piece.
    const bad = [
      { index: 0, begin: 32768 - 100, length: 16384 },
      { index: 6, begin: 0, length: 16384 },
    ];
    for (const b of bad) raw.send({ type: 'request', ...b });
    raw.send({ type: 'request', index: 1, begin: 16384, length: 16384 });
    await raw.waitFor((r) => r.messages.some((m) => m.type === 'piece'));
    await new Promise((r) => setTimeout(r, 100));
    const rejects = raw.messages.filter((m) => m.type === 'reject');
    assert.equal(
      rejects.length,
      3,
      `rejects: ${JSON.stringify(raw.messages.map((m) => m.type))} closed ${raw.isClosed}`,
    );
    // A cancelled request is answered with a reject (or the piece, if it was already sent).
    raw.send({ type: 'request', index: 2, begin: 0, length: 16384 });
    raw.send({ type: 'cancel', index: 2, begin: 0, length: 16384 });
    await raw.waitFor((r) =>
      r.messages.some((m) => (m.type === 'reject' || m.type === 'piece') && m.index === 2),
    );
    const piece = raw.messages.find((m) => m.type === 'piece');
    assert.ok(piece?.type === 'piece');
    const expect = (await import('node:fs/promises')).readFile(join(fx.dir, fx.name, 'f.bin'));
    assert.ok(piece.block.equals((await expect).subarray(32768 + 16384, 32768 + 32768)));
    raw.close();
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});

test('stopping a torrent disconnects its peers with TORRENT_STOPPED', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'f.bin', size: 100_000 }], pieceLength: 32768 });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  const closes: DisconnectInfo[] = [];
  client.on('peer-disconnect', (_p, info) => closes.push(info));
  try {
    const port = await client.listen(0);
    const t = await client.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    const raw = await RawPeer.connect(port);
    raw.sendHandshake(fx.metainfo.infoHash);
    await until(() => t.peerCount === 1, 5000, 'attached');
    await t.stop();
    await raw.closed;
    assert.equal(closes[0]?.reason, DisconnectReason.TORRENT_STOPPED);
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});
