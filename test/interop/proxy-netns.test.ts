/**
 * The proxy-only leak check, in network namespaces (prefix `nbtpx`): node 0 runs `nbt download
 * --proxy socks5://… --proxy-only`, node 1 runs Dante, node 2 a libtorrent seed (TCP and uTP)
 * and opentracker. In node 0 an nftables rule counts (and drops) every TCP or UDP packet that
 * leaves for anything but the proxy (a default route makes every destination reach that rule);
 * the download must complete with that counter at zero. A direct connection attempt afterwards
 * must move the counter (the check can fail).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent } from '../../src/metainfo/index.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { NetnsLab, requireNetns } from '../helpers/netns.js';
import { OpenTracker } from '../helpers/opentracker.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { Dante } from '../helpers/socks-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, sameFiles } from '../unit/client/fixtures.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const PROXY_PORT = 1080;
const TRACKER_PORT = 6969;

function nft(ns: string, args: string[], input?: string): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`nft ${args.join(' ')} in ${ns}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Packets the leak rule counted in `ns`. */
function leaked(ns: string): number {
  const m = /packets (\d+)/.exec(nft(ns, ['list', 'counter', 'inet', 'nbtleak', 'leaked']));
  assert.ok(m, 'the leak counter exists');
  return Number(m[1]);
}

test('proxy-only: a download through Dante sends no packet anywhere but the proxy', async (t) => {
  if (!requireNetns(t) || !requirePeer(t, 'libtorrent') || !requirePeer(t, 'dante')) return;
  if (!requirePeer(t, 'opentracker')) return;
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const lab = NetnsLab.create(3, { prefix: 'nbtpx' });
  defer(() => lab.cleanup());
  const [client, proxyNode, seedNode] = lab.nodes as [
    (typeof lab.nodes)[0],
    (typeof lab.nodes)[0],
    (typeof lab.nodes)[0],
  ];

  const fx0 = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 3_000_000 },
      { path: 'b.bin', size: 400_001 },
    ],
  });
  const { torrent, metainfo } = await createTorrent(join(fx0.dir, fx0.name), {
    pieceLength: 64 * 1024,
    date: false,
    trackers: [[`http://${seedNode.address}:${TRACKER_PORT}/announce`]],
  });
  await writeFile(fx0.torrentPath, torrent);
  const fx = { ...fx0, torrent, metainfo };

  const tracker = new OpenTracker(TRACKER_PORT, [metainfo.infoHashHex], {
    host: seedNode.address,
    prefix: lab.execPrefix(2),
  });
  defer(() => tracker.kill());
  const dante = new Dante(proxyNode.address, PROXY_PORT, { prefix: lab.execPrefix(1) });
  defer(() => dante.kill());
  const seed = new LtPeer('seed', fx.torrentPath, fx.dir, {
    host: seedNode.address,
    utp: true,
    prefix: lab.execPrefix(2),
  });
  defer(() => seed.kill());
  await Promise.all([tracker.ready(), dante.ready(), seed.port()]);
  await tracker.waitForSeeders(metainfo.infoHashHex, 1, 15_000);

  // A default route in node 0, so that a packet for anywhere (a DNS server, a DHT router, LSD's
  // multicast group) reaches the output hook instead of failing with ENETUNREACH uncounted.
  const route = spawnSync('ip', ['-n', client.name, 'route', 'add', 'default', 'via', lab.hostAddress]);
  assert.equal(route.status, 0, String(route.stderr));
  // Node 0 may talk to the proxy (and itself); any other TCP/UDP packet is counted and dropped.
  nft(
    client.name,
    ['-f', '-'],
    `table inet nbtleak {
  counter leaked {}
  chain out {
    type filter hook output priority 0; policy accept;
    oif "lo" accept
    ip daddr ${proxyNode.address} accept
    meta l4proto { tcp, udp } counter name leaked drop
  }
}
`,
  );
  assert.equal(leaked(client.name), 0);

  const leechDir = join(tmp.path, 'leech');
  const proc = lab.spawn(
    0,
    process.execPath,
    [
      cli,
      'download',
      fx.torrentPath,
      '-o',
      leechDir,
      '--json',
      '--proxy',
      `socks5://${proxyNode.address}:${PROXY_PORT}`,
      '--proxy-only',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  defer(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-6000)));
  proc.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-6000)));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    proc.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, `nbt download failed: ${out}`);
  assert.deepEqual(await sameFiles(fx, leechDir), []);
  assert.match(
    dante.log,
    new RegExp(`tcp/connect .*${seedNode.address.replace(/\./g, '\\.')}\\.${TRACKER_PORT}\\b`),
  );
  assert.equal(leaked(client.name), 0, `packets left node 0 around the proxy; nbt said: ${out}`);

  // The check can fail: a direct connection from node 0 is counted.
  const direct = spawn('ip', [
    'netns',
    'exec',
    client.name,
    process.execPath,
    '-e',
    `require('net').connect(${TRACKER_PORT}, '${seedNode.address}').on('error', () => {}); setTimeout(() => process.exit(0), 1500);`,
  ]);
  await new Promise((resolve) => direct.once('exit', resolve));
  assert.ok(leaked(client.name) > 0, 'a direct connection was counted');
});
