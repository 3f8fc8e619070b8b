import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { DhtNode, type DhtPeer } from '../../src/dht/index.js';
import { formatAddress } from '../../src/util/compact.js';
import { peersDir, requirePeer } from '../helpers/real-peers.js';
import { seededBytes } from '../helpers/tmp.js';

interface LtDhtEvent {
  event: string;
  port?: number;
  infoHash?: string;
  peers?: string[];
}

function waitFor<T>(what: string, ms: number, check: () => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const v = check();
      if (v !== undefined) {
        clearInterval(poll);
        resolve(v);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 50);
  });
}

test(
  'libtorrent DHT bootstraps from our nodes; get_peers and announce_peer work both ways',
  { timeout: 40_000 },
  async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const nodes: DhtNode[] = [];
    t.after(() => Promise.all(nodes.map((n) => n.close())));
    for (let i = 0; i < 6; i++) {
      const n = new DhtNode({
        host: '127.0.0.1',
        port: 0,
        bootstrap: i ? [nodes[0]!.address()!] : [],
        queryTimeoutMs: 1000,
      });
      await n.listen();
      if (i) await n.bootstrap();
      nodes.push(n);
    }
    const ours = seededBytes(20, 31);
    const theirs = seededBytes(20, 32);
    assert.ok((await nodes[3]!.announce(ours, 7777)).announcedTo >= 3);
    const announcedToUs: DhtPeer[] = [];
    for (const n of nodes)
      n.on('announce', (h: Buffer, p: DhtPeer) => h.equals(theirs) && announcedToUs.push(p));

    const args = [
      join(peersDir, 'lt_dht.py'),
      '--bootstrap',
      formatAddress(nodes[0]!.address()!),
      '--get-peers',
      ours.toString('hex'),
      '--announce',
      theirs.toString('hex'),
      '--timeout',
      '30',
    ];
    const lt = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => lt.kill('SIGKILL'));
    const events: LtDhtEvent[] = [];
    let stderr = '';
    lt.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    createInterface({ input: lt.stdout }).on('line', (l) => {
      try {
        events.push(JSON.parse(l) as LtDhtEvent);
      } catch {
        // not JSON: ignore
      }
    });
    const ltPort = await waitFor(
      'libtorrent listening',
      10_000,
      () => events.find((e) => e.event === 'listening')?.port,
    );

    // libtorrent's lookups reach our nodes, which add it to their routing tables.
    await waitFor(`our nodes learning libtorrent (${stderr})`, 15_000, () =>
      nodes.filter((n) => n.table.findByAddress({ host: '127.0.0.1', port: ltPort })).length >= 2
        ? true
        : undefined,
    );
    // libtorrent finds the peer we announced.
    const found = await waitFor(
      'libtorrent get_peers reply',
      15_000,
      () => events.find((e) => e.event === 'peers' && e.infoHash === ours.toString('hex'))?.peers,
    );
    assert.deepEqual(found, ['127.0.0.1:7777']);
    // libtorrent announces its torrent to our nodes (valid tokens), and our lookup finds it.
    await waitFor('announce_peer from libtorrent', 15_000, () =>
      announcedToUs.length > 0 ? true : undefined,
    );
    assert.ok(announcedToUs.every((p) => p.port === ltPort));
    const peers = await nodes[5]!.lookup(theirs);
    assert.deepEqual(peers.map(formatAddress), [`127.0.0.1:${ltPort}`]);
    assert.equal(
      nodes.reduce((n, d) => n + d.stats.malformedDropped, 0),
      0,
      'libtorrent packets all decoded',
    );
  },
);
