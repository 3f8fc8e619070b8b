/**
 * Transmission 3 (libutp) and our uTP, with TCP impossible between them: Transmission runs in
 * namespace node 0 of a lab (prefix `nbtut`); our Client runs in this process on the lab
 * bridge's address (the root namespace). In Transmission's namespace an nftables table drops,
 * and counts, every TCP packet except its RPC and the tracker, so BitTorrent can only flow over
 * UDP. Both directions: our leech dials a Transmission seed, and Transmission learns our seed
 * from opentracker and dials it. Files byte-identical, the connection uTP on both sides (our
 * `peer.transport`, Transmission's 'T' peer flag), and TCP shown blocked by a dial that fails
 * (and by the drop counter, which Transmission's own TCP attempts may move too).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { createTorrent } from '../../src/metainfo/index.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { NetnsLab, requireNetns, type NetnsNode } from '../helpers/netns.js';
import { OpenTracker } from '../helpers/opentracker.js';
import { requirePeer } from '../helpers/real-peers.js';
import { freePort, tempDir } from '../helpers/tmp.js';
import { TransmissionPeer, type TransmissionPeerInfo } from '../helpers/transmission.js';
import { makeFixture, sameFiles, until, type Fixture } from '../unit/client/fixtures.js';

const TR_PEER_PORT = 51413;
const TR_RPC_PORT = 9091;

function nft(ns: string, args: string[], input?: string): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`nft ${args.join(' ')} in ${ns}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** TCP packets the namespace's drop rule counted. */
function tcpDropped(ns: string): number {
  const m = /packets (\d+)/.exec(nft(ns, ['list', 'counter', 'inet', 'nbtnotcp', 'dropped']));
  assert.ok(m, 'the drop counter exists');
  return Number(m[1]);
}

/** Only RPC (to Transmission) and HTTP announces (to the tracker) may use TCP in `ns`. */
function blockTcp(ns: string, trackerPort: number): void {
  nft(
    ns,
    ['-f', '-'],
    `table inet nbtnotcp {
  counter dropped {}
  chain out {
    type filter hook output priority 0; policy accept;
    oif "lo" accept
    tcp sport ${TR_RPC_PORT} accept
    tcp dport ${trackerPort} accept
    meta l4proto tcp counter name dropped drop
  }
  chain in {
    type filter hook input priority 0; policy accept;
    iif "lo" accept
    tcp dport ${TR_RPC_PORT} accept
    tcp sport ${trackerPort} accept
    meta l4proto tcp counter name dropped drop
  }
}
`,
  );
}

/** Resolves with how a TCP dial ended: 'connected', or the error / 'timeout'. */
function tcpDial(host: string, port: number, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, ms);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code ?? e.message);
    });
  });
}

interface Lab {
  defer: (fn: () => unknown) => void;
  tmp: string;
  lab: NetnsLab;
  trNode: NetnsNode;
  trackerPort: number;
  fx: Fixture;
  tr: TransmissionPeer;
  client: Client;
  ourPort: number;
}

async function setUp(t: TestContext, seed: number): Promise<Lab> {
  const defer = cleanupStack(t);
  const tmpDir = await tempDir();
  defer(() => tmpDir.cleanup());
  const lab = NetnsLab.create(1, { prefix: 'nbtut' });
  defer(() => lab.cleanup());
  const trNode = lab.nodes[0]!;
  const trackerPort = await freePort();

  const fx0 = await makeFixture(join(tmpDir.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 3_000_000 },
      { path: 'b.bin', size: 700_003 },
    ],
    seed,
  });
  // The torrent again, with the tracker on the bridge (makeFixture makes none).
  const { torrent, metainfo } = await createTorrent(join(fx0.dir, fx0.name), {
    pieceLength: 64 * 1024,
    date: false,
    trackers: [[`http://${lab.hostAddress}:${trackerPort}/announce`]],
  });
  await writeFile(fx0.torrentPath, torrent);
  const fx = { ...fx0, torrent, metainfo };

  const tracker = new OpenTracker(trackerPort, [metainfo.infoHashHex], { host: lab.hostAddress });
  defer(() => tracker.kill());
  await tracker.ready();

  blockTcp(trNode.name, trackerPort);
  const tr = await TransmissionPeer.start({
    prefix: lab.execPrefix(0),
    rpcHost: trNode.address,
    peerPort: TR_PEER_PORT,
    rpcPort: TR_RPC_PORT,
    utp: true,
    encryption: 'preferred',
  });
  defer(() => tr.kill());

  const client = new Client({ host: lab.hostAddress, dht: false, lsd: false, portMapping: false });
  defer(() => client.close());
  const ourPort = await client.listen(0);
  return { defer, tmp: tmpDir.path, lab, trNode, trackerPort, fx, tr, client, ourPort };
}

/** TCP between us and Transmission fails both ways; the drop rule counted those SYNs. */
async function assertTcpBlocked(l: Lab): Promise<void> {
  const before = tcpDropped(l.trNode.name);
  assert.equal(await tcpDial(l.trNode.address, TR_PEER_PORT, 1500), 'timeout', 'TCP to Transmission');
  const fromNs = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      l.trNode.name,
      process.execPath,
      '-e',
      `const s = require('node:net').connect(${l.ourPort}, '${l.lab.hostAddress}');
       s.on('connect', () => { console.log('connected'); process.exit(0); });
       s.on('error', (e) => { console.log(e.code); process.exit(0); });
       setTimeout(() => { console.log('timeout'); process.exit(0); }, 1500);`,
    ],
    { encoding: 'utf8' },
  );
  assert.match(
    fromNs.stdout.trim(),
    /^(timeout|EPERM)$/,
    `TCP from Transmission's namespace: ${fromNs.stdout}`,
  );
  assert.ok(tcpDropped(l.trNode.name) > before, 'the drop rule saw the TCP attempts');
  // And it is a filter, not a dead stack: UDP (our uTP) and the RPC still pass.
  assert.equal(await tcpDial(l.trNode.address, TR_RPC_PORT, 1500), 'connected', 'RPC over TCP');
}

function utpPeer(peers: Iterable<TransmissionPeerInfo>, address: string): TransmissionPeerInfo | undefined {
  return [...peers].find((p) => p.address === address && p.flagStr.includes('T'));
}

test('uTP only: our leech downloads from a Transmission seed', async (t) => {
  if (!['transmission', 'opentracker'].every((n) => requirePeer(t, n as 'transmission'))) return;
  if (!requireNetns(t)) return;
  const t0 = Date.now();
  const l = await setUp(t, 41);
  await assertTcpBlocked(l);

  const id = await l.tr.addTorrent(l.fx.torrentPath, l.fx.dir);
  await l.tr.waitSeeding(id, 15_000);
  const leechDir = join(l.tmp, 'ours');
  const torrent = await l.client.addTorrent(l.fx.torrent, { savePath: leechDir });
  const transports: string[] = [];
  const reasons: string[] = [];
  l.client.on('peer-connect', (_t, p) => transports.push(`${p.transport}:${p.host}`));
  l.client.on('peer-disconnect', (p, info) => reasons.push(`${p.transport}:${info.name}`));
  const trPeers = new Map<string, TransmissionPeerInfo>();
  const poll = setInterval(() => {
    void l.tr.status(id).then(
      (s) => s.peers.forEach((p) => trPeers.set(`${p.address}:${p.flagStr}`, p)),
      () => {},
    );
  }, 500);
  l.defer(() => clearInterval(poll));
  torrent.addPeer(l.trNode.address, TR_PEER_PORT);
  await until(() => torrent.state === 'seeding', 60_000, 'our leech done').catch((e: unknown) => {
    throw new Error(
      `${String(e)}; connects ${transports.join(',')}; disconnects ${reasons.join(',')}; ${l.tr.log}`,
    );
  });
  clearInterval(poll);
  t.diagnostic(`leech from Transmission over uTP: ${Date.now() - t0} ms`);
  assert.deepEqual(await sameFiles(l.fx, leechDir), []);
  const st = torrent.stats();
  assert.equal(st.hashFailures, 0);
  assert.equal(st.sessionDownloaded, l.fx.metainfo.length);
  // Every connection that came up was uTP (TCP cannot), and Transmission saw us over uTP too.
  assert.ok(transports.length >= 1, 'connected');
  assert.deepEqual(
    transports.filter((x) => x !== `utp:${l.trNode.address}`),
    [],
  );
  for (const s of [await l.tr.status(id)])
    s.peers.forEach((p) => trPeers.set(`${p.address}:${p.flagStr}`, p));
  assert.ok(
    utpPeer(trPeers.values(), l.lab.hostAddress),
    `transmission's peers: ${JSON.stringify([...trPeers])}`,
  );
  assert.ok((await l.tr.status(id)).uploadedEver >= l.fx.metainfo.length);
});

test('uTP only: Transmission downloads from our seed it learns from a tracker', async (t) => {
  if (!['transmission', 'opentracker'].every((n) => requirePeer(t, n as 'transmission'))) return;
  if (!requireNetns(t)) return;
  const t0 = Date.now();
  const l = await setUp(t, 51);
  await assertTcpBlocked(l);

  const seed = await l.client.addTorrent(l.fx.torrent, { savePath: l.fx.dir });
  await until(() => seed.state === 'seeding', 10_000, 'our seed checked');
  const transports: string[] = [];
  l.client.on('peer-connect', (_t, p) => transports.push(`${p.transport}:${p.host}`));

  const leechDir = join(l.tmp, 'tr-leech');
  const id = await l.tr.addTorrent(l.fx.torrentPath, leechDir);
  const trPeers = new Map<string, TransmissionPeerInfo>();
  const s = await l.tr
    .waitFor(
      id,
      (st) => {
        st.peers.forEach((p) => trPeers.set(`${p.address}:${p.flagStr}`, p));
        return st.percentDone === 1 && st.leftUntilDone === 0;
      },
      60_000,
      'transmission completion',
    )
    .catch((e: unknown) => {
      throw new Error(`${String(e)}; ${JSON.stringify([...trPeers])}; ${transports.join(',')}`);
    });
  t.diagnostic(`Transmission leech from us over uTP: ${Date.now() - t0} ms`);
  assert.ok(s.downloadedEver >= l.fx.metainfo.length, `downloaded ${s.downloadedEver}`);
  assert.deepEqual(await sameFiles(l.fx, leechDir), []);
  // Transmission dialled us (outgoing, uTP), and our side says uTP for every connection.
  const us = utpPeer(trPeers.values(), l.lab.hostAddress);
  assert.ok(us && !us.isIncoming, `transmission's peers: ${JSON.stringify([...trPeers])}`);
  assert.ok(transports.length >= 1, 'connected');
  assert.deepEqual(
    transports.filter((x) => x !== `utp:${l.trNode.address}`),
    [],
  );
  assert.ok(seed.stats().sessionUploaded >= l.fx.metainfo.length);
});
