/**
 * Incoming connections and the candidate list: a source port is not an address. Each incoming
 * peer used to be marked connected under its ephemeral source port, which its close (knowing
 * only a listen port) never released — one entry left behind per incoming connection, for as
 * long as the torrent ran, and the address counted as proven for resume data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/client/index.js';
import { encode } from '../../../src/bencode/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';
import { RawPeer } from '../../unit/client/raw-peer.js';

test('incoming peers: marked connected only under a listen port they name, released on close', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'x.bin', size: 100_000 }], pieceLength: 16384 });
  const c = new Client({
    host: '127.0.0.1',
    encryption: 'disabled',
    trackers: false,
    dht: false,
    limits: { maxConnections: 200, maxPeersPerTorrent: 200, maxPerHost: 200, maxPendingIncoming: 200 },
  });
  try {
    const port = await c.listen(0);
    const t = await c.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    // Rounds of peers that never name a listen port: nothing stays behind after they leave.
    for (let round = 0; round < 3; round++) {
      const raws: RawPeer[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await RawPeer.connect(port);
        r.sendHandshake(fx.metainfo.infoHash);
        raws.push(r);
      }
      await until(() => t.peerCount === 20, 5000, 'all attached');
      assert.equal(t.candidates.busyCount, 0, 'no address marked for a source port');
      for (const r of raws) r.close();
      await until(() => t.peerCount === 0, 5000, 'all gone');
    }
    assert.equal(t.candidates.busyCount, 0);
    assert.equal(t.candidates.size, 0, 'no source port became a candidate');
    assert.deepEqual(t.candidates.addresses(), []);

    // A peer that names its listen port in the extended handshake: that address is connected
    // while it stays, and a candidate to dial again after it leaves.
    const named = await RawPeer.connect(port);
    named.sendHandshake(fx.metainfo.infoHash, undefined, true, true);
    named.send({ type: 'extended', id: 0, payload: Buffer.from(encode({ m: {}, p: 7001 })) });
    await until(() => t.candidates.busyCount === 1, 5000, 'listen address marked');
    // Renaming the port again does not mark a second address.
    named.send({ type: 'extended', id: 0, payload: Buffer.from(encode({ m: {}, p: 7002 })) });
    await until(() => [...t.peers][0]?.listenPort === 7002, 5000, 'second handshake read');
    assert.equal(t.candidates.busyCount, 1);
    named.close();
    await until(() => t.peerCount === 0, 5000, 'named peer gone');
    assert.equal(t.candidates.busyCount, 0, 'released on close');
    assert.equal(t.candidates.size, 1, 'its listen address is a candidate again');
  } finally {
    await c.close();
    await tmp.cleanup();
  }
});
