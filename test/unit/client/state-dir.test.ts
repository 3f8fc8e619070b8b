/**
 * The engine's own state (resume folder, DHT state) must be out of every torrent's reach: a
 * torrent named like the state folder would otherwise overwrite `dht.json` and plant nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { FileStorage, makeLayout } from '../../../src/storage/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { cleanupStack } from '../../helpers/cleanup.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

test('a torrent whose files would land in the resume folder is refused; the DHT state is untouched', async (t) => {
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-state-');
  defer(() => tmp.cleanup());
  const save = join(tmp.path, 'save');
  const resumeDir = join(save, '.nbt-resume');
  await mkdir(resumeDir, { recursive: true });
  const state = '{"nodes":[]}\n';
  await writeFile(join(resumeDir, 'dht.json'), state);
  const client = new Client({
    host: '127.0.0.1',
    dht: false,
    trackers: false,
    pex: false,
    savePath: save,
    resumeDir,
  });
  defer(() => client.close());
  for (const name of ['.nbt-resume', '.NBT-Resume']) {
    const src = join(tmp.path, 'src', name);
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'dht.json'), seededBytes(2000, 4));
    const { torrent } = await createTorrent(src, { name });
    await assert.rejects(client.addTorrent(torrent), (e) => isNbtError(e, 'STORAGE_RESERVED_PATH'), name);
  }
  assert.equal(client.torrents.length, 0);
  assert.equal(await readFile(join(resumeDir, 'dht.json'), 'utf8'), state);
  assert.deepEqual(await readdir(save), ['.nbt-resume']);
});

test('FileStorage refuses reserved paths, also through a symlinked alias', async (t) => {
  const tmp = await tempDir('nbt-state-');
  t.after(() => tmp.cleanup());
  const save = join(tmp.path, 'save');
  const state = join(save, 'state');
  await mkdir(state, { recursive: true });
  assert.throws(
    () =>
      new FileStorage(makeLayout(10, [{ path: ['state', 'dht.json'], length: 10 }]), save, {
        reserved: [state],
      }),
    (e) => isNbtError(e, 'STORAGE_RESERVED_PATH'),
  );
  await symlink(state, join(save, 'alias'));
  const s = new FileStorage(makeLayout(10, [{ path: ['alias', 'dht.json'], length: 10 }]), save, {
    reserved: [state],
  });
  await assert.rejects(s.write(0, 0, Buffer.alloc(10)), (e) => isNbtError(e, 'STORAGE_RESERVED_PATH'));
  await s.close();
  assert.deepEqual(await readdir(state), []);
  // Other files are fine.
  const ok = new FileStorage(makeLayout(10, [{ path: ['stateful', 'x'], length: 10 }]), save, {
    reserved: [state],
  });
  await ok.write(0, 0, Buffer.alloc(10, 1));
  await ok.close();
});
