/**
 * Disk trouble puts the torrent in the 'error' state with a clear message and a file-error
 * event; the client keeps running and closes cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import type { Storage } from '../../../src/storage/storage.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import type { FileErrorInfo } from '../../../src/torrent/types.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';
import { RawPeer } from '../../unit/client/raw-peer.js';

async function swarm(savePath: string | undefined, storage?: (m: Metainfo) => Storage) {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 300_000 }],
    pieceLength: 32768,
  });
  const seedClient = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  const fileErrors: FileErrorInfo[] = [];
  client.on('file-error', (_t, info) => fileErrors.push(info));
  const seedPort = await seedClient.listen(0);
  const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
  await until(() => seed.state === 'seeding', 5000, 'seed ready');
  const t = await client.addTorrent(fx.torrent, {
    savePath: savePath ?? join(tmp.path, 'leech'),
    ...(storage ? { storage } : {}),
  });
  t.addPeer('127.0.0.1', seedPort);
  return {
    tmp,
    t,
    fileErrors,
    close: async () => {
      await client.close();
      await seedClient.close();
      await tmp.cleanup();
    },
  };
}

test('disk full while writing: error state, not a crash', async () => {
  const s = await swarm(undefined, (m) => {
    const mem = new MemoryStorage(m);
    let writes = 0;
    const write = mem.write.bind(mem);
    mem.write = async (...args) => {
      if (++writes > 2)
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return write(...args);
    };
    return mem;
  });
  try {
    await until(() => s.t.state === 'error', 10_000, 'error state');
    assert.equal(s.fileErrors[0]?.code, 'ENOSPC');
    assert.equal(s.fileErrors[0]?.operation, 'write');
    assert.match(s.t.error!.message, /no space/);
    assert.equal(s.t.peerCount, 0);
    assert.ok(s.t.have.count >= 1 && s.t.have.count <= 2, `have ${s.t.have.count}`);
  } finally {
    await s.close();
  }
});

test('save path that cannot be created (a file is in the way): error state', async () => {
  const tmp = await tempDir();
  const blocker = join(tmp.path, 'file');
  await writeFile(blocker, 'x');
  const s = await swarm(join(blocker, 'below'));
  try {
    await until(() => s.t.state === 'error', 10_000, 'error state');
    assert.ok(s.fileErrors.length >= 1);
    assert.match(s.fileErrors[0]!.code, /^STORAGE_/);
    assert.ok(s.t.error);
  } finally {
    await s.close();
    await tmp.cleanup();
  }
});

test('seeding file truncated behind our back: the request is refused, the data re-checked, nothing sent', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'f.bin', size: 100_000 }], pieceLength: 16384 });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  const errors: Error[] = [];
  client.on('torrent-error', (_t, e) => errors.push(e));
  try {
    const port = await client.listen(0);
    const t = await client.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    const fileErrors: { code: string; message: string; operation: string }[] = [];
    t.on('file-error', (i) => fileErrors.push(i));
    // (Deleting is not enough on POSIX: an open handle still reads the unlinked file.)
    await truncate(join(fx.dir, fx.name, 'f.bin'), 0);
    const raw = await RawPeer.connect(port);
    raw.sendHandshake(fx.metainfo.infoHash);
    await raw.waitFor((r) => r.messages.some((m) => m.type === 'haveAll'));
    raw.send({ type: 'interested' });
    await raw.waitFor((r) => r.messages.some((m) => m.type === 'unchoke'));
    raw.send({ type: 'request', index: 1, begin: 0, length: 16384 });
    await raw.waitFor((r) => r.messages.some((m) => m.type === 'reject'));
    assert.ok(!raw.messages.some((m) => m.type === 'piece'), 'nothing served');
    await until(() => t.state === 'downloading', 5000, 're-checked: the data is gone');
    assert.equal(t.stats().pieces.have, 0);
    assert.deepEqual(errors, [], 'not an error state: the data can be fetched again');
    assert.equal(fileErrors[0]?.operation, 'upload');
    assert.match(fileErrors[0]!.message, /cannot read .*f\.bin/);
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});
