/**
 * Local service discovery (BEP 14) on a real LAN: network namespaces on one bridge (multicast
 * route on each node, no IGMP snooping), torrents without trackers, `--no-dht`, no `--peer`:
 * multicast announces are the only way the peers can learn of each other. Two of our clients
 * find each other and one downloads from the other; libtorrent (enable_lsd) finds us, and we
 * find it. Names carry the `nbtlsd` prefix.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent } from '../../src/metainfo/index.js';
import { encodeAnnounce } from '../../src/lsd/index.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { JsonChild, type JsonLine as Line } from '../helpers/json-child.js';
import { NetnsLab, requireNetns } from '../helpers/netns.js';
import { peersDir, requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const ltLsd = join(peersDir, 'lt_lsd.py');
const PORT = 6881;

interface Setup {
  lab: NetnsLab;
  torrentPath: string;
  dataDir: string;
  data: Buffer;
  name: string;
  tmp: string;
  spawn(node: number, name: string, cmd: string, args: string[]): JsonChild;
}

/** A lab of two nodes and a 3 MiB torrent without trackers. */
async function setup(t: TestContext): Promise<Setup> {
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const lab = NetnsLab.create(2, { prefix: 'nbtlsd', multicast: true });
  defer(() => lab.cleanup());
  const name = 'lan.bin';
  const dataDir = join(tmp.path, 'seed');
  const data = seededBytes(3 * 1024 * 1024, 14);
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, name), data);
  const { torrent } = await createTorrent(join(dataDir, name), { pieceLength: 65536, date: false });
  const torrentPath = join(tmp.path, 'lan.torrent');
  await writeFile(torrentPath, torrent);
  const spawn = (node: number, label: string, cmd: string, args: string[]): JsonChild => {
    const child = new JsonChild(label, lab.spawn(node, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    defer(() => {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
    });
    return child;
  };
  return { lab, torrentPath, dataDir, data, name, tmp: tmp.path, spawn };
}

const nbt = (...args: string[]): [string, string[]] => [process.execPath, [cli, ...args]];
const isLsdPeer = (address: string) => (l: Line) => l.event === 'lsd-peer' && l.address === address;

test('namespaces: two nbt clients find each other by LSD alone and one downloads from the other', async (t) => {
  if (!requireNetns(t)) return;
  const s = await setup(t);
  const [a, b] = s.lab.nodes as [(typeof s.lab.nodes)[0], (typeof s.lab.nodes)[0]];
  const seed = s.spawn(
    0,
    'nbt seed',
    ...nbt('seed', s.torrentPath, s.dataDir, '--port', `${PORT}`, '--no-dht', '--json', '-v'),
  );
  await seed.wait('seeding', (l) => l.event === 'seeding', 15_000);
  const leechDir = join(s.tmp, 'leech');
  const leech = s.spawn(
    1,
    'nbt download',
    ...nbt('download', s.torrentPath, '-o', leechDir, '--port', `${PORT}`, '--no-dht', '--json'),
  );
  // The leech announces as it starts; the seed, already running, hears it and dials it.
  await seed.wait('the leech by LSD', isLsdPeer(`${b.address}:${PORT}`), 20_000);
  await leech.wait('summary', (l) => l.event === 'summary', 60_000);
  assert.equal(await leech.exited, 0);
  assert.ok((await readFile(join(leechDir, s.name))).equals(s.data), 'downloaded bytes differ');
  const connect = seed.lines.find((l) => l.event === 'peer-connect' && l.address === `${b.address}:${PORT}`);
  assert.equal(connect?.source, 'lsd', `seed's connections: ${seed.tail()}`);
  // IPv6 too: the leech's announce to ff15::efc0:988f came from its link-local address.
  assert.ok(
    seed.has((l) => l.event === 'lsd-peer' && /^\[fe80:[0-9a-f:]+%eth0\]:6881$/.test(String(l.address))),
    `no IPv6 announce heard: ${seed.tail()}`,
  );
  // Each side ignored its own looped-back announces: nobody "found" itself.
  assert.ok(!seed.has(isLsdPeer(`${a.address}:${PORT}`)) && !leech.has(isLsdPeer(`${b.address}:${PORT}`)));
  seed.proc.kill('SIGINT');
  assert.equal(await seed.exited, 0);
});

test('namespaces: we find libtorrent by LSD (its announce) and download from it', async (t) => {
  if (!requireNetns(t) || !requirePeer(t, 'libtorrent')) return;
  const s = await setup(t);
  const [, ltNode] = s.lab.nodes as [(typeof s.lab.nodes)[0], (typeof s.lab.nodes)[0]];
  const leechDir = join(s.tmp, 'leech');
  // We start first: our own start-up announce finds nobody; libtorrent's, when it starts, finds us.
  const leech = s.spawn(
    0,
    'nbt download',
    ...nbt('download', s.torrentPath, '-o', leechDir, '--port', `${PORT}`, '--no-dht', '--json'),
  );
  await leech.wait('progress', (l) => l.event === 'progress', 15_000);
  const lt = s.spawn(1, 'lt_lsd seed', '/usr/bin/python3', [
    ltLsd,
    'seed',
    s.torrentPath,
    s.dataDir,
    '--host',
    ltNode.address,
    '--port',
    `${PORT}`,
  ]);
  await lt.wait('listening', (l) => l.event === 'listening', 30_000);
  await leech.wait('libtorrent by LSD', isLsdPeer(`${ltNode.address}:${PORT}`), 30_000);
  await leech.wait('summary', (l) => l.event === 'summary', 60_000);
  assert.equal(await leech.exited, 0);
  assert.ok((await readFile(join(leechDir, s.name))).equals(s.data), 'downloaded bytes differ');
  const connect = leech.lines.find(
    (l) => l.event === 'peer-connect' && l.address === `${ltNode.address}:${PORT}`,
  );
  assert.ok(connect, `our connections: ${leech.tail()}`);
  assert.ok(connect.source === 'lsd' || connect.source === 'incoming', `source ${String(connect.source)}`);
});

test('namespaces: libtorrent finds us by LSD (our announce) and downloads from us', async (t) => {
  if (!requireNetns(t) || !requirePeer(t, 'libtorrent')) return;
  const s = await setup(t);
  const [us, ltNode] = s.lab.nodes as [(typeof s.lab.nodes)[0], (typeof s.lab.nodes)[0]];
  // libtorrent starts first (its announce finds nobody); ours, as our seed starts, finds it.
  const lt = s.spawn(1, 'lt_lsd leech', '/usr/bin/python3', [
    ltLsd,
    'leech',
    s.torrentPath,
    join(s.tmp, 'lt'),
    '--host',
    ltNode.address,
    '--port',
    `${PORT}`,
    '--timeout',
    '90',
  ]);
  await lt.wait('listening', (l) => l.event === 'listening', 30_000);
  const seed = s.spawn(
    0,
    'nbt seed',
    ...nbt('seed', s.torrentPath, s.dataDir, '--port', `${PORT}`, '--no-dht', '--json'),
  );
  await seed.wait('seeding', (l) => l.event === 'seeding', 15_000);
  await lt.wait(
    'our announce',
    (l) => l.event === 'lsd-peer' && l.address === `${us.address}:${PORT}`,
    30_000,
  );
  await lt.wait('done', (l) => l.event === 'done', 60_000);
  assert.equal(await lt.exited, 0);
  assert.ok((await readFile(join(s.tmp, 'lt', s.name))).equals(s.data), 'libtorrent got other bytes');
  seed.proc.kill('SIGINT');
  assert.equal(await seed.exited, 0);
});

test('namespaces: libtorrent reads every Infohash of a packed announce (why we pack up to 1400 bytes)', async (t) => {
  if (!requireNetns(t) || !requirePeer(t, 'libtorrent')) return;
  const s = await setup(t);
  const [sender, ltNode] = s.lab.nodes as [(typeof s.lab.nodes)[0], (typeof s.lab.nodes)[0]];
  const lt = s.spawn(1, 'lt_lsd leech', '/usr/bin/python3', [
    ltLsd,
    'leech',
    s.torrentPath,
    join(s.tmp, 'lt'),
    '--host',
    ltNode.address,
    '--port',
    `${PORT}`,
    '--timeout',
    '30',
  ]);
  const started = await lt.wait('listening', (l) => l.event === 'listening', 30_000);
  // Our encoder's packet: five torrents libtorrent does not have, then its own, last.
  const others = Array.from({ length: 5 }, (_, i) => Buffer.alloc(20, i + 1));
  const ours = Buffer.from(String(started.infohash), 'hex');
  const packet = encodeAnnounce(4, 7777, [...others, ours], 'interop').toString('base64');
  const send =
    `const s=require('dgram').createSocket('udp4');s.bind(()=>{s.setMulticastInterface('${sender.address}');` +
    `s.send(Buffer.from('${packet}','base64'),6771,'239.192.152.143',()=>s.close())})`;
  const p = s.lab.spawn(0, process.execPath, ['-e', send], { stdio: 'ignore' });
  assert.equal(await new Promise((r) => p.once('exit', r)), 0);
  await lt.wait('the sixth info-hash', isLsdPeer(`${sender.address}:7777`), 10_000);
});
