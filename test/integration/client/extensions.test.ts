/** The extension and service hook points: names announced, messages routed, torrents reported. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client, type EngineExtension, type ClientService } from '../../../src/client/index.js';
import type { Torrent } from '../../../src/torrent/torrent.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

function echo(log: string[]): EngineExtension {
  return {
    name: 'x_echo',
    handshakeKeys: () => ({ x_echo_note: 7 }),
    peerHandshake: (_t, peer, hs) => {
      log.push(`hs:${hs.m.has('x_echo')}:${String(hs.extra['x_echo_note'])}`);
      peer.extended('x_echo', Buffer.from('ping'));
    },
    message: (_t, _peer, payload) => log.push(`msg:${payload.toString()}`),
    peerDetached: () => log.push('gone'),
  };
}

test('extensions exchange messages; services hear about torrents', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 100_000 }],
    pieceLength: 32768,
  });
  const a = new Client({ host: '127.0.0.1' });
  const b = new Client({ host: '127.0.0.1' });
  const logA: string[] = [];
  const logB: string[] = [];
  a.useExtension(echo(logA));
  b.useExtension(echo(logB));
  assert.throws(() => a.useExtension(echo([])), /already registered/);
  const seen: string[] = [];
  const svc: ClientService = {
    name: 'recorder',
    torrentAdded: (t: Torrent) => seen.push(`+${t.name}`),
    torrentRemoved: (t: Torrent) => seen.push(`-${t.name}`),
    close: () => void seen.push('closed'),
  };
  b.addService(svc);
  try {
    const portA = await a.listen(0);
    await b.listen(0);
    const seed = await a.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seeding');
    const t = await b.addTorrent(fx.torrent, { savePath: join(tmp.path, 'l') });
    t.addPeer('127.0.0.1', portA);
    await until(() => logA.includes('msg:ping') && logB.includes('msg:ping'), 5000, 'pings');
    assert.ok(logA.includes('hs:true:7'));
    assert.ok(logB.includes('hs:true:7'));
    await until(() => t.state === 'seeding', 10_000, 'downloaded');
    await b.removeTorrent(t);
    assert.deepEqual(seen, [`+${fx.name}`, `-${fx.name}`]);
  } finally {
    await a.close();
    await b.close();
    await tmp.cleanup();
  }
  assert.equal(seen.at(-1), 'closed');
});
