import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpFilter } from '../../../src/client/ip-filter.js';
import { isNbtError } from '../../../src/util/errors.js';
import { createServer } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '../../../src/bencode/index.js';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

test('ranges, CIDR and single addresses block; others pass', () => {
  const f = new IpFilter();
  f.block('10.0.0.5', '10.0.0.9');
  f.blockCidr('192.168.0.0', 16);
  f.block('::1');
  assert.equal(f.allows('10.0.0.4'), true);
  assert.equal(f.allows('10.0.0.5'), false);
  assert.equal(f.allows('10.0.0.9'), false);
  assert.equal(f.allows('10.0.0.10'), true);
  assert.equal(f.allows('192.168.255.255'), false);
  assert.equal(f.allows('::ffff:192.168.1.1'), false, 'IPv4-mapped IPv6 is the IPv4 address');
  assert.equal(f.allows('::1'), false);
  assert.equal(f.allows('::2'), true);
  assert.equal(f.size, 3);
});

test('blocklist text in P2P and plain formats', () => {
  const f = new IpFilter();
  const n = f.loadBlocklist('# comment\n\nSome org:1.2.3.0-1.2.3.255\n5.6.7.8\n9.9.0.0/16\n');
  assert.equal(n, 3);
  assert.equal(f.allows('1.2.3.77'), false);
  assert.equal(f.allows('5.6.7.8'), false);
  assert.equal(f.allows('9.9.200.1'), false);
  assert.equal(f.allows('9.10.0.1'), true);
});

test('the hook has the last word; bad ranges throw typed errors', () => {
  const f = new IpFilter((a) => a !== '8.8.8.8');
  assert.equal(f.allows('8.8.8.8'), false);
  assert.equal(f.allows('8.8.4.4'), true);
  assert.throws(
    () => f.block('1.2.3.4', '::1'),
    (e) => isNbtError(e, 'IPFILTER_BAD_RANGE'),
  );
  assert.throws(
    () => f.blockCidr('1.2.3.4', 33),
    (e) => isNbtError(e, 'IPFILTER_BAD_RANGE'),
  );
  assert.throws(
    () => f.loadBlocklist('garbage'),
    (e) => isNbtError(e, 'IPFILTER_BAD_RANGE'),
  );
});

test('a Client never announces to a tracker its IP filter blocks', { timeout: 10_000 }, async (t) => {
  const tmp = await tempDir('nbt-ipf-');
  t.after(() => tmp.cleanup());
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end(encode({ interval: 900, peers: Buffer.alloc(0) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  await writeFile(join(tmp.path, 'a.bin'), seededBytes(30_000, 9));
  const { torrent } = await createTorrent(join(tmp.path, 'a.bin'), {
    trackers: [`http://127.0.0.1:${port}/announce`],
  });
  const client = new Client({ host: '127.0.0.1', dht: false, pex: false, savePath: join(tmp.path, 'out') });
  t.after(() => client.close());
  client.ipFilter.block('127.0.0.1');
  const error = new Promise<string>((r) => client.once('tracker-error', (_t, info) => r(info.code)));
  await client.addTorrent(torrent);
  assert.equal(await error, 'TRACKER_IP_FILTERED');
  assert.deepEqual(hits, []);
});
