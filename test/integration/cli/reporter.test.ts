/** SwarmReporter's JSON lines against a real Client (trackers on loopback). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { SwarmReporter } from '../../../src/cli/swarm/reporter.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { cleanupStack } from '../../helpers/cleanup.js';
import { freePort, seededBytes, tempDir } from '../../helpers/tmp.js';

test(
  '--json tracker-error line keeps event "tracker-error"; the announce event is announceEvent',
  { timeout: 10_000 },
  async (t) => {
    const defer = cleanupStack(t);
    const tmp = await tempDir('nbt-reporter-');
    defer(() => tmp.cleanup());
    await writeFile(join(tmp.path, 'a.bin'), seededBytes(40_000, 3));
    // Nothing listens on this port: the started announce fails with a connection refusal.
    const dead = await freePort();
    const { torrent: bytes } = await createTorrent(join(tmp.path, 'a.bin'), {
      trackers: [`http://127.0.0.1:${dead}/announce`],
    });
    const client = new Client({ host: '127.0.0.1', dht: false, pex: false, savePath: join(tmp.path, 'out') });
    defer(() => client.close());
    const torrent = await client.addTorrent(bytes);
    const lines: Record<string, unknown>[] = [];
    let seen!: () => void;
    const got = new Promise<void>((r) => (seen = r));
    const out = {
      write(chunk: string): void {
        for (const l of chunk.split('\n').filter(Boolean)) {
          const j = JSON.parse(l) as Record<string, unknown>;
          lines.push(j);
          if (j['event'] === 'tracker-error') seen();
        }
      },
    };
    const reporter = new SwarmReporter(out, client, torrent, { mode: 'json', verbose: false });
    defer(() => reporter.stop());
    await got;
    const err = lines.find((l) => l['event'] === 'tracker-error')!;
    assert.equal(err['url'], `http://127.0.0.1:${dead}/announce`);
    assert.equal(err['announceEvent'], 'started');
    assert.equal(typeof err['code'], 'string');
    assert.equal(Object.keys(err)[0], 'event');
    // A free-form event can never lose its name to a field called `event`.
    reporter.event('custom', { event: 'other', x: 1 }, 'custom');
    assert.deepEqual(lines.at(-1), { event: 'custom', x: 1 });
  },
);

test('a torrent in error: a stderr line, an "error" JSON event, and summary status "error" with the message', async (t) => {
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-reporter-');
  defer(() => tmp.cleanup());
  const dir = join(tmp.path, 'content');
  await mkdir(dir);
  await writeFile(join(dir, 'a.bin'), seededBytes(40_000, 3));
  const { torrent: bytes } = await createTorrent(dir, { pieceLength: 16384 });
  // A plain file where the torrent's folder must go: nothing can be written there.
  const save = join(tmp.path, 'out');
  await mkdir(save);
  await writeFile(join(save, 'content'), 'not a folder');
  const client = new Client({ host: '127.0.0.1', dht: false, pex: false, trackers: false });
  defer(() => client.close());
  const seed = new Client({ host: '127.0.0.1', dht: false, pex: false, trackers: false });
  defer(() => seed.close());
  const seedPort = await seed.listen(0);
  const st = await seed.addTorrent(bytes, { savePath: tmp.path });
  // A seed still checking refuses peers (HASHCHECKING) and the dial backs off 15 s: wait for it.
  const ready = Date.now() + 10_000;
  while (st.state !== 'seeding' && Date.now() < ready) await new Promise((r) => setTimeout(r, 20));
  const torrent = await client.addTorrent(bytes, {
    savePath: save,
    peers: [{ host: '127.0.0.1', port: seedPort }],
  });
  const lines: Record<string, unknown>[] = [];
  let errText = '';
  const out = {
    write: (c: string) =>
      void lines.push(
        ...c
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      ),
  };
  const reporter = new SwarmReporter(out, client, torrent, {
    mode: 'json',
    verbose: false,
    errors: { write: (c: string) => void (errText += c) },
  });
  defer(() => reporter.stop());
  const deadline = Date.now() + 10_000;
  while (torrent.state !== 'error' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(torrent.state, 'error');
  assert.match(errText, /^nbt: content: torrent stopped with an error: /m);
  assert.ok(lines.some((l) => l['event'] === 'error' && typeof l['message'] === 'string'));
  const sum = reporter.summary('complete');
  assert.equal(sum['status'], 'error');
  assert.equal(sum['error'], torrent.error?.message);
});
