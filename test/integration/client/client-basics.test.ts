import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, PEER_ID_PREFIX, makePeerId } from '../../../src/client/index.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { freePort, tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

test('peer ids are Azureus style and random', () => {
  const a = makePeerId();
  const b = makePeerId();
  assert.equal(a.length, 20);
  assert.equal(a.subarray(0, 8).toString(), PEER_ID_PREFIX);
  assert.match(a.toString('latin1'), /^-NB0100-[0-9A-Za-z]{12}$/);
  assert.ok(!a.equals(b));
  assert.throws(() => new Client({ peerId: 'short' }), RangeError);
});

test('listen takes the first free port of a range and reports it', async () => {
  const busy = createServer();
  const first = await freePort();
  await new Promise<void>((r) => busy.listen(first, '127.0.0.1', () => r()));
  const client = new Client({ host: '127.0.0.1' });
  const ports: number[] = [];
  client.on('listening', (p) => ports.push(p));
  try {
    const port = await client.listen([first, first + 20]);
    assert.ok(port > first && port <= first + 20);
    assert.deepEqual(ports, [port]);
    assert.equal(client.port, port);
  } finally {
    await client.close();
    busy.close();
  }
  await client.close();
  await assert.rejects(client.listen(0), (e) => isNbtError(e, 'CLIENT_CLOSED'));
});

test('addTorrent from a path, bytes or metainfo; duplicates refused; getTorrent; remove', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'f.bin', size: 50_000 }], pieceLength: 16384 });
  const client = new Client({ host: '127.0.0.1' });
  const added: string[] = [];
  client.on('torrent-added', (t) => added.push(t.infoHashHex));
  try {
    const t = await client.addTorrent(fx.torrentPath, { savePath: fx.dir });
    assert.equal(client.getTorrent(fx.metainfo.infoHashHex), t);
    assert.equal(client.getTorrent(fx.metainfo.infoHash), t);
    await assert.rejects(client.addTorrent(fx.torrent), (e) => isNbtError(e, 'TORRENT_EXISTS'));
    await assert.rejects(client.addTorrent(parseTorrent(fx.torrent)), (e) => isNbtError(e, 'TORRENT_EXISTS'));
    await until(() => t.state === 'seeding', 5000, 'seeding');
    const st = t.stats();
    assert.equal(st.progress, 1);
    assert.equal(st.bytesDone, fx.metainfo.length);
    assert.equal(st.pieces.have, fx.metainfo.pieceCount);
    await client.removeTorrent(t);
    assert.equal(client.torrents.length, 0);
    const again = await client.addTorrent(parseTorrent(fx.torrent), {
      savePath: join(tmp.path, 'elsewhere'),
      paused: true,
    });
    await until(() => again.state === 'paused', 5000, 'paused after check');
    assert.deepEqual(added, [fx.metainfo.infoHashHex, fx.metainfo.infoHashHex]);
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});
