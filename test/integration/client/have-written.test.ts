/**
 * "Had" means verified AND written: with a storage whose piece writes are held back and then
 * completed late and out of order, `have`, `finished`, `complete`, progress, the HAVE messages
 * other peers see and the `finished` event all follow the completed writes, and `finished`
 * fires exactly once per transition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import type { Storage } from '../../../src/storage/storage.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

/** MemoryStorage whose whole-piece writes wait until the test releases them. */
class HeldWrites {
  readonly held: { piece: number; release: () => void }[] = [];
  readonly stores: MemoryStorage[] = [];

  storage = (m: Metainfo): Storage => {
    const inner = new MemoryStorage(m);
    this.stores.push(inner);
    const held = this.held;
    return new Proxy(inner, {
      get(target, key, receiver) {
        if (key !== 'write') return Reflect.get(target, key, receiver) as unknown;
        return (piece: number, offset: number, data: Buffer | readonly Buffer[]) =>
          new Promise<void>((resolve, reject) => {
            const release = () => target.write(piece, offset, data).then(resolve, reject);
            if (offset === 0) held.push({ piece, release });
            else release();
          });
      },
    });
  };

  /** Releases the held write of `piece` and waits until the torrent took notice. */
  take(piece: number): () => void {
    const i = this.held.findIndex((h) => h.piece === piece);
    assert.ok(i >= 0, `write of piece ${piece} is held`);
    return this.held.splice(i, 1)[0]!.release;
  }
}

/** A deterministic shuffle (xorshift), so a failure reproduces. */
function shuffled(n: number, seed: number): number[] {
  const a = [...Array(n).keys()];
  let x = seed;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

test('a piece counts as had only once verified and written; finished fires once', async () => {
  const tmp = await tempDir();
  const pieceLength = 32768;
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 200_000 },
      { path: 'b.bin', size: 330_001 },
    ],
    pieceLength,
  });
  const pieces = fx.metainfo.pieceCount;
  const writes = new HeldWrites();
  const seedClient = new Client({ host: '127.0.0.1', dht: false });
  // Two peers of ours share 127.0.0.1: allow both.
  const client = new Client({ host: '127.0.0.1', dht: false, limits: { maxPerHost: 2 } });
  // A second leech connected to ours only: it sees our HAVE messages (seeds are not sent any).
  const watcher = new Client({ host: '127.0.0.1', dht: false, pex: false });
  try {
    const seedPort = await seedClient.listen(0);
    const ourPort = await client.listen(0);
    await watcher.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    // It wants no file, so it stays a leech and keeps the connection whatever we finish.
    const w = await watcher.addTorrent(fx.torrent, {
      savePath: join(tmp.path, 'watcher'),
      filePriorities: [0, 0],
    });

    const t = await client.addTorrent(fx.torrent, {
      savePath: join(tmp.path, 'leech'),
      storage: writes.storage,
    });
    const events: string[] = [];
    t.on('finished', () => events.push('finished'));
    t.on('done', () => events.push('done'));
    t.on('piece-hash-pass', (i) => events.push(`pass ${i}`));
    t.addPeer('127.0.0.1', seedPort);
    // Once ours accepts peers (a checking torrent refuses them).
    await until(() => t.state === 'downloading', 5000, 'ours checked');
    w.addPeer('127.0.0.1', ourPort);

    // Every piece arrives and verifies, but no write has completed.
    await until(() => writes.held.length === pieces, 20_000, 'every piece verified, writes held');
    await until(() => w.peers.length === 1, 5000, 'the watcher connected');
    const watchersView = () => w.peers[0]?.bitfield.count ?? -1;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(t.have.count, 0);
    assert.equal(t.finished, false);
    assert.equal(t.complete, false);
    assert.equal(t.state, 'downloading');
    assert.equal(t.stats().progress, 0);
    assert.equal(watchersView(), 0, 'no HAVE is sent for an unwritten piece');
    assert.equal(events.length, 0, events.join());

    // Writes complete out of order; each one, and only it, becomes had.
    const order = shuffled(pieces, 0x9e3779b9);
    for (const [k, piece] of order.entries()) {
      writes.take(piece)();
      await until(() => t.have.has(piece), 5000, `piece ${piece} had once written`);
      assert.equal(t.have.count, k + 1);
      const last = k === pieces - 1;
      assert.equal(t.finished, last, `finished after ${k + 1}/${pieces} writes`);
      assert.equal(t.complete, last);
      // The HAVE goes out once the write completed, not before.
      await until(() => watchersView() >= k + 1, 5000, `the watcher saw ${k + 1} HAVEs`);
      assert.equal(watchersView(), k + 1);
    }
    assert.equal(events.filter((e) => e === 'finished').length, 1);
    assert.equal(events.filter((e) => e === 'done').length, 1);
    // piece-hash-pass follows the writes' order; finished comes after the last one.
    assert.deepEqual(
      events.filter((e) => e.startsWith('pass')),
      order.map((p) => `pass ${p}`),
    );
    assert.equal(events.indexOf('finished'), pieces);
    assert.equal(t.state, 'seeding');
    // What was reported as had is what was written.
    const store = writes.stores.at(-1)!;
    for (let i = 0; i < pieces; i++) {
      const size = fx.metainfo.pieceSize(i);
      const got = await store.read(i, 0, size);
      assert.ok(got.equals(await seed.storage().read(i, 0, size)), `piece ${i}`);
    }
  } finally {
    for (const h of writes.held.splice(0)) h.release();
    await watcher.close();
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});

test('with file priorities, finished fires once per transition into the finished state', async () => {
  const tmp = await tempDir();
  const pieceLength = 32768;
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 5 * pieceLength },
      { path: 'b.bin', size: 6 * pieceLength },
      { path: 'c.bin', size: 4 * pieceLength },
    ],
    pieceLength,
  });
  const writes = new HeldWrites();
  const seedClient = new Client({ host: '127.0.0.1', dht: false });
  const client = new Client({ host: '127.0.0.1', dht: false });
  try {
    const seedPort = await seedClient.listen(0);
    await client.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const t = await client.addTorrent(fx.torrent, {
      savePath: join(tmp.path, 'leech'),
      filePriorities: [1, 0, 0],
      storage: writes.storage,
    });
    let finished = 0;
    t.on('finished', () => finished++);
    t.addPeer('127.0.0.1', seedPort);

    // File a: pieces 0..4.
    await until(() => writes.held.length === 5, 20_000, 'file a verified');
    assert.equal(t.finished, false);
    for (const p of [3, 1, 4, 0]) writes.take(p)();
    await until(() => t.have.count === 4, 5000, 'four of five written');
    assert.equal(t.finished, false);
    assert.equal(finished, 0);
    writes.take(2)();
    await until(() => finished === 1, 5000, 'finished for file a');
    assert.equal(t.finished, true);
    // Asking again for nothing new does not repeat the event.
    t.setFilePriorities([1, 0, 0]);
    assert.equal(finished, 1);

    // Wanting file c re-arms it: not finished until c's pieces are written.
    t.setFilePriority(2, 1);
    assert.equal(t.finished, false);
    await until(() => writes.held.length === 4, 20_000, 'file c verified');
    assert.equal(t.finished, false);
    for (const p of [14, 11, 13]) writes.take(p)();
    await until(() => t.have.count === 8, 5000, 'three of four of c written');
    assert.equal(t.finished, false);
    assert.equal(finished, 1);
    writes.take(12)();
    await until(() => finished === 2, 5000, 'finished again for a + c');
    assert.equal(t.complete, false);
    assert.equal(t.state, 'downloading');
  } finally {
    for (const h of writes.held.splice(0)) h.release();
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});
