/**
 * uTP in the Client, over real UDP sockets on 127.0.0.1: uTP first when both sides speak it,
 * TCP when the other side refuses uTP, uTP when the other side refuses TCP, and a swarm that
 * mixes uTP-only, TCP-only and dual clients completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client, type ClientOptions } from '../../../src/client/index.js';
import type { Torrent } from '../../../src/torrent/torrent.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';
import { connectedPeers } from '../../../src/torrent/pex-exchange.js';
import { PexFlags } from '../../../src/extensions/ut-pex.js';

const files = [{ path: 'u.bin', size: 1_500_000 }];

async function transfer(seedOptions: ClientOptions, leechOptions: ClientOptions): Promise<string[]> {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files, pieceLength: 32768 });
  const seedClient = new Client({ host: '127.0.0.1', dht: false, ...seedOptions });
  const leechClient = new Client({ host: '127.0.0.1', dht: false, ...leechOptions });
  try {
    const port = await seedClient.listen(0);
    await leechClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed checked');
    const leech = await leechClient.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    const kinds: string[] = [];
    const pexFlags: number[] = [];
    leechClient.on('peer-connect', (t, p) => {
      kinds.push(p.transport);
      pexFlags.push(...connectedPeers(t).map((c) => c.flags));
    });
    leech.addPeer('127.0.0.1', port);
    await until(() => leech.state === 'seeding', 30_000, 'leech done');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    // What we tell others through PEX: the uTP flag for a peer we reached over uTP.
    assert.ok(pexFlags.length > 0);
    for (const f of pexFlags) assert.equal((f & PexFlags.UTP) !== 0, kinds[0] === 'utp');
    return kinds;
  } finally {
    await Promise.all([seedClient.close(), leechClient.close()]);
    await tmp.cleanup();
  }
}

test('two clients connect over uTP first (RC4 forced)', async () => {
  assert.deepEqual(await transfer({ encryption: 'required' }, { encryption: 'required' }), ['utp']);
});

test('a peer with incoming uTP off is reached over TCP at once (its RESET)', async () => {
  const started = Date.now();
  assert.deepEqual(await transfer({ utp: { incoming: false } }, {}), ['tcp']);
  assert.ok(Date.now() - started < 20_000);
});

test('a peer with incoming TCP off is reached over uTP; one without outgoing uTP dials TCP', async () => {
  assert.deepEqual(await transfer({ tcp: { incoming: false } }, { encryption: 'disabled' }), ['utp']);
  assert.deepEqual(await transfer({}, { utp: false }), ['tcp']);
  // The same through the settings pack (libtorrent's names).
  assert.deepEqual(await transfer({}, { settings: { enable_outgoing_utp: false } }), ['tcp']);
});

test('a swarm of uTP-only, TCP-only and dual clients completes', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files, pieceLength: 32768 });
  const limits = { maxPerHost: 10 };
  const utpOnly: ClientOptions = { tcp: { incoming: false, outgoing: false } };
  const tcpOnly: ClientOptions = { utp: false };
  const kinds = [{}, utpOnly, tcpOnly, {}, utpOnly];
  const clients = kinds.map((o) => new Client({ host: '127.0.0.1', dht: false, limits, ...o }));
  try {
    const ports = await Promise.all(clients.map((c) => c.listen(0)));
    const seed = await clients[0]!.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed checked');
    const leeches: Torrent[] = [];
    for (const [i, c] of clients.slice(1).entries())
      leeches.push(await c.addTorrent(fx.torrent, { savePath: join(tmp.path, `l${i}`) }));
    for (const t of leeches) for (const p of ports) t.addPeer('127.0.0.1', p);
    await until(() => leeches.every((t) => t.state === 'seeding'), 60_000, 'all done');
    for (const [i] of leeches.entries()) assert.deepEqual(await sameFiles(fx, join(tmp.path, `l${i}`)), []);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await tmp.cleanup();
  }
});

test('incoming uTP goes through the IP filter like TCP', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files, pieceLength: 32768 });
  const seedClient = new Client({ host: '127.0.0.1', dht: false, tcp: { incoming: false } });
  seedClient.ipFilter.block('127.0.0.1');
  const leechClient = new Client({ host: '127.0.0.1', dht: false });
  try {
    const port = await seedClient.listen(0);
    await leechClient.listen(0);
    await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    const leech = await leechClient.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    const refused: string[] = [];
    seedClient.on('peer-disconnect', (p, info) => refused.push(`${p.transport}:${info.name}`));
    leech.addPeer('127.0.0.1', port);
    await until(() => refused.length > 0, 10_000, 'the filtered peer is refused');
    // Each attempt (MSE, then plaintext) is refused the same way.
    assert.ok(
      refused.every((r) => r === 'utp:IP_FILTERED'),
      refused.join(),
    );
    assert.equal(leech.stats().sessionDownloaded, 0);
  } finally {
    await Promise.all([seedClient.close(), leechClient.close()]);
    await tmp.cleanup();
  }
});

test('a closed client resets its uTP connections, so its successor on the same host is let in', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files, pieceLength: 32768 });
  const seedClient = new Client({ host: '127.0.0.1', dht: false }); // maxPerHost 1
  try {
    const port = await seedClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed checked');
    for (const name of ['first', 'second']) {
      const c = new Client({ host: '127.0.0.1', dht: false });
      try {
        await c.listen(0);
        const t = await c.addTorrent(fx.torrent, { savePath: join(tmp.path, name) });
        const kinds: string[] = [];
        c.on('peer-connect', (_t, p) => kinds.push(p.transport));
        t.addPeer('127.0.0.1', port);
        await until(() => t.state === 'seeding', 15_000, `${name} leech done`);
        assert.deepEqual(kinds, ['utp']);
      } finally {
        await c.close();
      }
    }
  } finally {
    await seedClient.close();
    await tmp.cleanup();
  }
});
