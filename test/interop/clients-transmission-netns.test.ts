/**
 * Our client seeds to Transmission, which must connect out to us: Transmission ignores tracker
 * peers on 127/8, so our seed (`nbt seed`, a child process) runs in namespace 0, Transmission in
 * namespace 1, and opentracker on the lab bridge tells Transmission our address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupStack } from '../helpers/cleanup.js';
import { JsonChild, type JsonLine } from '../helpers/json-child.js';
import { makeTorrent } from '../helpers/mktorrent.js';
import { NetnsLab, requireNetns } from '../helpers/netns.js';
import { OpenTracker } from '../helpers/opentracker.js';
import { requirePeer } from '../helpers/real-peers.js';
import { freePort, tempDir } from '../helpers/tmp.js';
import { TransmissionPeer } from '../helpers/transmission.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

test('namespaces: Transmission downloads from our `nbt seed` it learns from a tracker', async (t) => {
  if (!['transmission', 'opentracker', 'mktorrent'].every((n) => requirePeer(t, n as 'transmission'))) return;
  if (!requireNetns(t)) return;
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const lab = NetnsLab.create(2);
  defer(() => lab.cleanup());
  const [seedNode, leechNode] = lab.nodes as [(typeof lab.nodes)[0], (typeof lab.nodes)[0]];

  const trackerPort = await freePort();
  const made = await makeTorrent(tmp.path, {
    announce: `http://${lab.hostAddress}:${trackerPort}/announce`,
    seed: 21,
  });
  const tracker = new OpenTracker(trackerPort, [made.infoHashHex], { host: lab.hostAddress });
  defer(() => tracker.kill());
  await tracker.ready();

  const seed = lab.spawn(
    0,
    process.execPath,
    [
      cli,
      'seed',
      made.torrentPath,
      made.dataDir,
      '--port',
      '6881',
      '--encryption',
      'enabled',
      '--json',
      '-v',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const child = new JsonChild('nbt seed', seed);
  const exited = child.exited;
  defer(() => {
    if (seed.exitCode === null && seed.signalCode === null) seed.kill('SIGKILL');
  });
  const waitLine = (event: string, ms: number): Promise<JsonLine> =>
    child.wait(`'${event}'`, (l) => l.event === event, ms);

  await waitLine('seeding', 10_000);
  await tracker.waitForSeeders(made.infoHashHex, 1, 10_000);
  t.diagnostic(`our seed announced from its namespace: ${Date.now() - t0} ms`);

  const tr = await TransmissionPeer.start({
    prefix: lab.execPrefix(1),
    rpcHost: leechNode.address,
    peerPort: 51413,
    rpcPort: 9091,
  });
  defer(() => tr.kill());
  const leechDir = join(tmp.path, 'tr-leech');
  const id = await tr.addTorrent(made.torrentPath, leechDir);
  const seen = new Map<string, { incoming: boolean; client: string; encrypted: boolean }>();
  const s = await tr.waitFor(
    id,
    (st) => {
      for (const p of st.peers)
        seen.set(`${p.address}:${p.port}`, {
          incoming: p.isIncoming,
          client: p.clientName,
          encrypted: p.isEncrypted,
        });
      return st.percentDone === 1 && st.leftUntilDone === 0;
    },
    35_000,
    'completion',
  );
  t.diagnostic(`transmission leech done: ${Date.now() - t0} ms`);
  assert.ok(s.downloadedEver >= made.metainfo.length, `downloaded ${s.downloadedEver}`);
  const want = await readFile(join(made.dataDir, made.name));
  assert.ok((await readFile(join(leechDir, made.name))).equals(want), 'downloaded bytes differ');
  // Transmission dialled our namespace address (learned from the tracker), and spoke MSE with us
  // (its default 'preferred' meets our 'enabled').
  const us = seen.get(`${seedNode.address}:6881`);
  assert.ok(us && !us.incoming, `peers seen by transmission: ${JSON.stringify([...seen])}`);
  assert.equal(us.encrypted, true);

  // Ctrl-C: the seed prints its summary with what it uploaded this session, and exits 0.
  seed.kill('SIGINT');
  const summary = await waitLine('summary', 10_000);
  assert.equal(await exited, 0);
  assert.equal(summary.status, 'seeded');
  assert.ok(Number(summary.uploaded) >= made.metainfo.length, `uploaded ${String(summary.uploaded)}`);
});
