/**
 * Every connection-level refusal the client makes, reproduced with scripted raw sockets:
 * NO_SUCH_TORRENT, LOOPBACK, PREEXISTING, TOO_MANY, HASHCHECKING, SEED, IP_FILTERED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, type ClientOptions } from '../../../src/client/index.js';
import { DisconnectReason, type DisconnectInfo } from '../../../src/peer/disconnect.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import type { Storage } from '../../../src/storage/storage.js';
import type { Torrent } from '../../../src/torrent/torrent.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until, type Fixture } from '../../unit/client/fixtures.js';
import { RawPeer, randomPeerId } from '../../unit/client/raw-peer.js';

interface Setup {
  client: Client;
  port: number;
  fx: Fixture;
  torrent: Torrent;
  closes: DisconnectInfo[];
  cleanup: () => Promise<void>;
}

async function setup(o: ClientOptions = {}, seed = true): Promise<Setup> {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'x.bin', size: 200_000 }], pieceLength: 32768 });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled', ...o });
  const closes: DisconnectInfo[] = [];
  client.on('peer-disconnect', (_p, info) => closes.push(info));
  const port = await client.listen(0);
  const torrent = await client.addTorrent(fx.torrent, { savePath: seed ? fx.dir : join(tmp.path, 'empty') });
  await until(() => torrent.state === (seed ? 'seeding' : 'downloading'), 5000, 'torrent started');
  return {
    client,
    port,
    fx,
    torrent,
    closes,
    cleanup: async () => {
      await client.close();
      await tmp.cleanup();
    },
  };
}

async function closedWith(s: Setup, reason: DisconnectReason): Promise<DisconnectInfo> {
  await until(() => s.closes.some((c) => c.reason === reason), 5000, DisconnectReason[reason]);
  return s.closes.find((c) => c.reason === reason)!;
}

test('unknown info-hash: NO_SUCH_TORRENT with the info-hash', async () => {
  const s = await setup();
  try {
    const raw = await RawPeer.connect(s.port);
    const ih = randomBytes(20);
    raw.sendHandshake(ih);
    const info = await closedWith(s, DisconnectReason.NO_SUCH_TORRENT);
    assert.equal(info.infoHash, ih.toString('hex'));
    await raw.closed;
  } finally {
    await s.cleanup();
  }
});

test('connecting to ourselves: LOOPBACK', async () => {
  const s = await setup({}, false);
  try {
    s.torrent.addPeer('127.0.0.1', s.port);
    const info = await closedWith(s, DisconnectReason.LOOPBACK);
    assert.equal(info.name, 'LOOPBACK');
    assert.equal(s.torrent.peerCount, 0);
  } finally {
    await s.cleanup();
  }
});

test('a second connection from the same peer id: PREEXISTING with the peer id', async () => {
  const s = await setup({ limits: { maxPerHost: 5 } });
  try {
    const id = randomPeerId();
    const a = await RawPeer.connect(s.port);
    a.sendHandshake(s.fx.metainfo.infoHash, id);
    assert.ok(await a.waitFor((r) => r.handshake !== undefined));
    await until(() => s.torrent.peerCount === 1, 5000, 'first peer attached');
    const b = await RawPeer.connect(s.port);
    b.sendHandshake(s.fx.metainfo.infoHash, id);
    const info = await closedWith(s, DisconnectReason.PREEXISTING);
    assert.equal(info.peerId, id.toString('hex'));
    await b.closed;
    assert.equal(a.isClosed, false);
    a.close();
  } finally {
    await s.cleanup();
  }
});

test('more peers than the torrent allows: TOO_MANY', async () => {
  const s = await setup({ limits: { maxPerHost: 5, maxPeersPerTorrent: 1 } });
  try {
    const a = await RawPeer.connect(s.port);
    a.sendHandshake(s.fx.metainfo.infoHash);
    await until(() => s.torrent.peerCount === 1, 5000, 'first peer attached');
    const b = await RawPeer.connect(s.port);
    b.sendHandshake(s.fx.metainfo.infoHash);
    await closedWith(s, DisconnectReason.TOO_MANY);
    await b.closed;
    a.close();
  } finally {
    await s.cleanup();
  }
});

test('more connections from one host than allowed: TOO_MANY', async () => {
  const s = await setup({ limits: { maxPerHost: 1 } });
  try {
    const a = await RawPeer.connect(s.port);
    a.sendHandshake(s.fx.metainfo.infoHash);
    await until(() => s.torrent.peerCount === 1, 5000, 'first peer attached');
    const b = await RawPeer.connect(s.port);
    b.sendHandshake(s.fx.metainfo.infoHash);
    await closedWith(s, DisconnectReason.TOO_MANY);
    await b.closed;
    a.close();
  } finally {
    await s.cleanup();
  }
});

test('more connections than the client allows: TOO_MANY on accept', async () => {
  const s = await setup({ limits: { maxPerHost: 5, maxConnections: 1 } });
  try {
    const a = await RawPeer.connect(s.port);
    a.sendHandshake(s.fx.metainfo.infoHash);
    await until(() => s.torrent.peerCount === 1, 5000, 'first peer attached');
    const b = await RawPeer.connect(s.port);
    await closedWith(s, DisconnectReason.TOO_MANY);
    await b.closed;
    assert.equal(a.isClosed, false);
    a.close();
  } finally {
    await s.cleanup();
  }
});

/**
 * Opens `n` sockets from 127.0.0.1 that do not handshake, then one more from 127.0.0.2 that does:
 * once it is answered the client has accepted every earlier socket (one accept queue), so the
 * refusals counted then are those of the pending pool. Then the others handshake.
 */
async function pendingThenHandshake(
  s: Setup,
  n: number,
): Promise<{ refusedPending: number; answered: boolean[] }> {
  const raws: RawPeer[] = [];
  for (let i = 0; i < n; i++) raws.push(await RawPeer.connect(s.port));
  const sentinel = await RawPeer.connect(s.port, '127.0.0.1', '127.0.0.2');
  sentinel.sendHandshake(s.fx.metainfo.infoHash);
  assert.ok(await sentinel.waitFor((r) => r.handshake !== undefined, 5000), 'the sentinel was answered');
  const refusedPending = s.closes.filter((c) => c.reason === DisconnectReason.TOO_MANY).length;
  for (const r of raws) if (!r.isClosed) r.sendHandshake(s.fx.metainfo.infoHash);
  const answered = await Promise.all(raws.map((r) => r.waitFor((x) => x.handshake !== undefined, 5000)));
  for (const r of [...raws, sentinel]) r.close();
  return { refusedPending, answered };
}

test('limits.maxPendingIncoming is honoured: 80 sockets before their handshake all stay', async () => {
  // The option was dropped when the limits were resolved from settings: the pool stayed at 50
  // and the scale bench's batches of 100 handshakes lost connections to TOO_MANY.
  const s = await setup({ limits: { maxPerHost: 200, maxPeersPerTorrent: 200, maxPendingIncoming: 100 } });
  try {
    const { refusedPending, answered } = await pendingThenHandshake(s, 80);
    assert.equal(refusedPending, 0);
    assert.equal(answered.filter(Boolean).length, 80);
  } finally {
    await s.cleanup();
  }
});

test('the pending pool follows limits changed at runtime (default min(50, connections_limit))', async () => {
  const s = await setup({ limits: { maxPerHost: 200 } });
  try {
    // Lowered to 10: of 30 pending sockets (and the sentinel), the 21 oldest are evicted.
    s.client.applySettings({ connections_limit: 10 });
    const { refusedPending, answered } = await pendingThenHandshake(s, 30);
    assert.equal(refusedPending, 21);
    assert.equal(answered.filter(Boolean).length, 9);
    assert.deepEqual(answered.slice(0, 21), new Array<boolean>(21).fill(false));
  } finally {
    await s.cleanup();
  }
});

test('limits.maxPendingPerHost is honoured (default 4 × maxPerHost)', async () => {
  const s = await setup({ limits: { maxPerHost: 1, maxPendingPerHost: 12 } });
  try {
    // All 12 wait in the pool; at their handshakes the per-host limit of 1 admits one.
    const { refusedPending, answered } = await pendingThenHandshake(s, 12);
    assert.equal(refusedPending, 0);
    assert.equal(answered.filter(Boolean).length, 1);
  } finally {
    await s.cleanup();
  }
});

test('torrent being checked: HASHCHECKING', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'x.bin', size: 100_000 }], pieceLength: 16384 });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  const closes: DisconnectInfo[] = [];
  client.on('peer-disconnect', (_p, info) => closes.push(info));
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  try {
    const port = await client.listen(0);
    // A storage whose file listing (the start of the check) waits until we let it: the torrent stays in 'checking'.
    const storage = (m: ConstructorParameters<typeof MemoryStorage>[0]): Storage => {
      const mem = new MemoryStorage(m);
      const fileStats = mem.fileStats.bind(mem);
      mem.fileStats = async () => {
        await gate;
        return fileStats();
      };
      return mem;
    };
    const torrent = await client.addTorrent(fx.torrent, { savePath: tmp.path, storage });
    await until(() => torrent.state === 'checking', 5000, 'checking');
    const raw = await RawPeer.connect(port);
    raw.sendHandshake(fx.metainfo.infoHash);
    await until(() => closes.some((c) => c.reason === DisconnectReason.HASHCHECKING), 5000, 'HASHCHECKING');
    await raw.closed;
    release();
    await until(() => torrent.state === 'downloading', 5000, 'check finished');
  } finally {
    release();
    await client.close();
    await tmp.cleanup();
  }
});

test('both sides seeds: SEED', async () => {
  const s = await setup();
  try {
    const raw = await RawPeer.connect(s.port);
    raw.sendHandshake(s.fx.metainfo.infoHash);
    assert.ok(await raw.waitFor((r) => r.messages.some((m) => m.type === 'haveAll')));
    raw.send({ type: 'haveAll' });
    await closedWith(s, DisconnectReason.SEED);
    await raw.closed;
  } finally {
    await s.cleanup();
  }
});

test('blocked addresses: IP_FILTERED, incoming and outgoing', async () => {
  const blocked: string[] = [];
  const s = await setup({
    ipFilter: (a) => {
      blocked.push(a);
      return false;
    },
  });
  try {
    const raw = await RawPeer.connect(s.port);
    raw.sendHandshake(s.fx.metainfo.infoHash);
    await closedWith(s, DisconnectReason.IP_FILTERED);
    await raw.closed;
    assert.equal(s.torrent.peerCount, 0);
    const n = s.closes.length;
    const listener = await RawPeer.listen(() =>
      assert.fail('an outgoing connection to a blocked address was made'),
    );
    s.torrent.addPeer('127.0.0.1', listener.port);
    await until(() => s.closes.length > n, 5000, 'outgoing refusal');
    assert.equal(s.closes[n]!.reason, DisconnectReason.IP_FILTERED);
    listener.server.close();
    assert.ok(blocked.includes('127.0.0.1'));
  } finally {
    await s.cleanup();
  }
});

test('blocklist ranges: IP_FILTERED', async () => {
  const s = await setup();
  try {
    s.client.ipFilter.loadBlocklist('# local\nloopback:127.0.0.0-127.255.255.255\n');
    const raw = await RawPeer.connect(s.port);
    raw.sendHandshake(s.fx.metainfo.infoHash);
    await closedWith(s, DisconnectReason.IP_FILTERED);
    await raw.closed;
  } finally {
    await s.cleanup();
  }
});

test('two clients dialling each other at once keep exactly one connection', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'x.bin', size: 300_000 }],
    pieceLength: 32768,
  });
  const a = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  const b = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  try {
    const [pa, pb] = [await a.listen(0), await b.listen(0)];
    const ta = await a.addTorrent(fx.torrent, { savePath: fx.dir });
    const tb = await b.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    await until(() => ta.state === 'seeding' && tb.state === 'downloading', 5000, 'started');
    ta.addPeer('127.0.0.1', pb);
    tb.addPeer('127.0.0.1', pa);
    await until(
      () => tb.state === 'seeding' || (ta.peerCount === 1 && tb.peerCount === 1),
      10_000,
      'one connection',
    );
    await until(() => tb.state === 'seeding', 10_000, 'download over the surviving connection');
  } finally {
    await a.close();
    await b.close();
    await tmp.cleanup();
  }
});
