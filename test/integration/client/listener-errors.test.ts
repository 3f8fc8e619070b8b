/**
 * One listener error policy for every emitter: a user listener that throws on a Client, a
 * Torrent or a Peer never kills the session; the other listeners still run, the error is
 * reported as a listener-error event and alert, and the engine carries on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client, type ListenerErrorInfo } from '../../../src/client/index.js';
import { DisconnectReason, type DisconnectInfo } from '../../../src/peer/disconnect.js';
import { TypedEmitter } from '../../../src/util/typed-emitter.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

const quiet = { host: '127.0.0.1', dht: false, trackers: false, pex: false } as const;

async function seedAndFixture() {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 200_000 }],
    pieceLength: 16384,
  });
  const seeder = new Client(quiet);
  const port = await seeder.listen(0);
  const seed = await seeder.addTorrent(fx.torrent, { savePath: fx.dir });
  await until(() => seed.state === 'seeding', 5000, 'seed ready');
  return { tmp, fx, seeder, port, seed };
}

test('throwing Client and Torrent listeners: the download completes, each error is reported once per throw', async () => {
  const { tmp, fx, seeder, port } = await seedAndFixture();
  const leecher = new Client(quiet);
  const reported: ListenerErrorInfo[] = [];
  const alerted: string[] = [];
  leecher.on('listener-error', (i) => reported.push(i));
  leecher.on('alert', (a) => {
    if (a.type === 'listener-error') alerted.push(`${a.emitter}:${a.event}:${a.message}`);
  });
  let after = 0;
  leecher.on('piece-hash-pass', () => {
    throw new Error('client listener bug');
  });
  leecher.on('piece-hash-pass', () => after++); // still runs after the throwing one
  try {
    const t = await leecher.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    t.on('piece-hash-pass', () => {
      throw new Error('torrent listener bug');
    });
    t.on('state', () => {
      throw 'not even an Error';
    });
    t.addPeer('127.0.0.1', port);
    await until(() => t.state === 'seeding', 20_000, 'download despite throwing listeners');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    const n = fx.metainfo.pieceCount;
    assert.equal(after, n);
    const of = (emitter: string, event: string): ListenerErrorInfo[] =>
      reported.filter((r) => r.emitter === emitter && r.event === event);
    assert.equal(of('client', 'piece-hash-pass').length, n);
    assert.equal(of('torrent', 'piece-hash-pass').length, n);
    assert.equal(of('torrent', 'piece-hash-pass')[0]!.torrent, t);
    assert.match(of('client', 'piece-hash-pass')[0]!.error.message, /client listener bug/);
    assert.equal(of('torrent', 'state')[0]!.error.message, 'not even an Error');
    assert.equal(alerted.length, reported.length, 'every report has its alert');
    assert.ok(alerted.includes('torrent:piece-hash-pass:torrent listener bug'));
  } finally {
    await leecher.close();
    await seeder.close();
    await tmp.cleanup();
  }
});

test('a throwing Peer listener closes that peer (INTERNAL_ERROR) and is reported; the session serves the next peer', async () => {
  const { tmp, fx, seeder, port } = await seedAndFixture();
  const reported: ListenerErrorInfo[] = [];
  seeder.on('listener-error', (i) => reported.push(i));
  const closes: DisconnectInfo[] = [];
  seeder.on('peer-disconnect', (_p, i) => closes.push(i));
  let thrown = false;
  seeder.on('peer-connect', (_t, p) =>
    p.on('message', (m) => {
      if (!thrown && m.type === 'interested') {
        thrown = true;
        throw new Error('peer listener bug');
      }
    }),
  );
  const first = new Client(quiet);
  const second = new Client(quiet);
  try {
    const t1 = await first.addTorrent(fx.torrent, { savePath: join(tmp.path, 'one') });
    t1.addPeer('127.0.0.1', port);
    await until(() => closes.length >= 1, 10_000, 'the peer closed');
    assert.equal(closes[0]!.reason, DisconnectReason.INTERNAL_ERROR);
    assert.equal(reported.length, 1);
    assert.equal(reported[0]!.emitter, 'peer');
    assert.equal(reported[0]!.event, 'message');
    assert.equal(reported[0]!.torrent?.infoHashHex, fx.metainfo.infoHashHex);
    assert.match(reported[0]!.error.message, /peer listener bug/);
    await first.close();
    const t2 = await second.addTorrent(fx.torrent, { savePath: join(tmp.path, 'two') });
    t2.addPeer('127.0.0.1', port);
    await until(() => t2.state === 'seeding', 20_000, 'the next peer is served');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'two')), []);
  } finally {
    await first.close();
    await second.close();
    await seeder.close();
    await tmp.cleanup();
  }
});

test('nobody handles a listener error: a process warning, the other listeners still run', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    if (w.name === 'ListenerError') warnings.push(w);
  };
  process.on('warning', onWarning);
  try {
    const e = new TypedEmitter<{ x: [n: number] }>();
    const got: number[] = [];
    e.on('x', () => {
      throw new Error('unhandled bug');
    });
    e.on('x', (n) => got.push(n));
    e.emit('x', 1);
    const c = new Client(quiet);
    c.on('listening', () => {
      throw new Error('client bug, no listener-error listener');
    });
    await c.listen(0);
    // A throwing listener-error listener falls back to a warning too (no loop).
    c.on('listener-error', () => {
      throw new Error('reporter bug');
    });
    c.emit('warning', new Error('w'));
    c.on('warning', () => {
      throw new Error('again');
    });
    c.emit('warning', new Error('w2'));
    await c.close();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, [1]);
    assert.deepEqual(
      warnings.map((w) => w.message),
      ['unhandled bug', 'client bug, no listener-error listener', 'reporter bug'],
    );
  } finally {
    process.off('warning', onWarning);
  }
});

test('a throwing alert listener is reported without a loop; iterators still get every alert', async () => {
  const c = new Client(quiet);
  const reported: ListenerErrorInfo[] = [];
  c.on('listener-error', (i) => reported.push(i));
  let calls = 0;
  c.on('alert', () => {
    calls++;
    throw new Error('alert listener bug');
  });
  const sub = c.alerts();
  c.emit('warning', new Error('one'));
  c.emit('warning', new Error('two'));
  assert.equal(calls, 2, 'one call per alert, none for the reports');
  assert.deepEqual(
    reported.map((r) => `${r.emitter}:${r.event}`),
    ['client:alert', 'client:alert'],
  );
  await c.close();
  const types: string[] = [];
  for await (const a of sub) types.push(a.type);
  assert.deepEqual(types, ['warning', 'warning']);
});
