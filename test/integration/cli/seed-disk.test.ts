/**
 * `nbt seed` when its file is truncated while it seeds (issue 18, item 13): the problem is
 * written to stderr and as a JSON event, and the summary no longer says "seeded"/complete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { cleanupStack } from '../../helpers/cleanup.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { NbtChild } from '../../unit/cli/nbt-child.js';

test('nbt seed: a file truncated while seeding is reported on stderr and in the JSON summary', async (t) => {
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-cli-seed-disk-');
  defer(() => tmp.cleanup());
  const content = join(tmp.path, 'src', 'content');
  await mkdir(content, { recursive: true });
  const file = join(content, 'a.bin');
  await writeFile(file, seededBytes(64 * 32768, 3));
  const { torrent } = await createTorrent(content, { pieceLength: 32768 });
  const torrentPath = join(tmp.path, 'content.torrent');
  await writeFile(torrentPath, torrent);
  const child = new NbtChild([
    'seed',
    torrentPath,
    join(tmp.path, 'src'),
    '--port',
    '0',
    '--no-dht',
    '--json',
  ]);
  defer(() => child.kill());
  const port = Number((await child.waitFor((l) => l.event === 'seeding'))['port']);
  await truncate(file, 4 * 32768);
  const leech = new Client({ host: '127.0.0.1', trackers: false, dht: false, pex: false });
  defer(() => leech.close());
  await leech.listen(0, '127.0.0.1');
  await leech.addTorrent(torrent, {
    savePath: join(tmp.path, 'leech'),
    peers: [{ host: '127.0.0.1', port }],
  });
  const ev = await child.waitFor((l) => l.event === 'file-error');
  assert.equal(ev['code'], 'STORAGE_SHORT_READ');
  assert.equal(ev['operation'], 'upload');
  await child.waitFor((l) => l.event === 'progress' && l['state'] === 'downloading');
  child.proc.kill('SIGINT');
  assert.equal(await child.exit, 1, child.tail());
  assert.match(child.stderr, /^nbt: content: upload failed: .*a\.bin/m);
  const sum = child.events('summary')[0]!;
  assert.equal(sum['status'], 'incomplete');
  assert.equal(sum['complete'], false);
  assert.match(String(sum['error']), /a\.bin/);
});
