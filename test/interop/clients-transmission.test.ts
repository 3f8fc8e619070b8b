/**
 * Our Client downloads from a Transmission 3 seed that it dials on loopback (Transmission
 * accepts incoming loopback connections), with a multi-file torrent: plaintext, and with
 * Transmission requiring encryption while our policy is `enabled` (we must fall back to, or
 * start with, MSE) or `required`. The three cases run concurrently, each with its own daemon,
 * because each waits mostly for Transmission's 10 s unchoke pulse.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import type { EncryptionPolicy } from '../../src/client/options.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { TransmissionPeer, type TransmissionEncryption } from '../helpers/transmission.js';
import { makeFixture, sameFiles } from '../unit/client/fixtures.js';
import { done } from './tracker-swarm.js';

const files = [
  { path: 'a.bin', size: 2_500_000 },
  { path: 'sub/b.bin', size: 1_700_003 },
  { path: 'sub/c.bin', size: 17 },
  { path: 'z.bin', size: 600_000 },
];

interface Case {
  name: string;
  theirs: TransmissionEncryption;
  ours: EncryptionPolicy;
  wire: 'none' | 'rc4';
}

const cases: Case[] = [
  {
    name: 'plaintext (Transmission tolerates, ours disabled)',
    theirs: 'tolerated',
    ours: 'disabled',
    wire: 'none',
  },
  { name: 'Transmission requires MSE, ours enabled', theirs: 'required', ours: 'enabled', wire: 'rc4' },
  { name: 'Transmission requires MSE, ours required', theirs: 'required', ours: 'required', wire: 'rc4' },
];

async function runCase(t: TestContext, c: Case, seed: number): Promise<void> {
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const fx = await makeFixture(join(tmp.path, 'seed'), { files, pieceLength: 256 * 1024, seed });
  const tr = await TransmissionPeer.start({ encryption: c.theirs });
  defer(() => tr.kill());
  const id = await tr.addTorrent(fx.torrentPath, fx.dir);
  await tr.waitSeeding(id, 15_000);

  const client = new Client({ host: '127.0.0.1', encryption: c.ours });
  defer(() => client.close());
  await client.listen(0);
  const leechDir = join(tmp.path, 'ours');
  const torrent = await client.addTorrent(fx.torrent, { savePath: leechDir });
  const wire: string[] = [];
  const reasons: string[] = [];
  client.on('peer-connect', (_t, p) => wire.push(p.encryption));
  client.on('peer-disconnect', (_p, info) => reasons.push(info.name));
  torrent.addPeer('127.0.0.1', tr.peerPort);
  await done(torrent, 30_000).catch((e: unknown) => {
    throw new Error(`${String(e)}; disconnects ${reasons.join(',')}; transmission: ${tr.log}`);
  });
  t.diagnostic(`${c.name}: ${Date.now() - t0} ms`);
  assert.deepEqual(await sameFiles(fx, leechDir), []);
  const st = torrent.stats();
  assert.equal(st.hashFailures, 0);
  assert.equal(st.sessionDownloaded, fx.metainfo.length);
  // The connection that carried the data used the expected stream (a required-MSE Transmission
  // closes a plaintext handshake, so any 'none' here would be a connection that moved nothing).
  assert.ok(wire.length >= 1 && wire.at(-1) === c.wire, `connections: ${wire.join(',')}`);
  const s = await tr.status(id);
  assert.ok(s.uploadedEver >= fx.metainfo.length, `transmission uploaded ${s.uploadedEver}`);
}

test('Transmission seeds to our client dialling it on loopback', { concurrency: true }, async (t) => {
  if (!requirePeer(t, 'transmission')) return;
  await Promise.all(cases.map((c, i) => t.test(c.name, (tt) => runCase(tt, c, 11 + i * 10))));
});
