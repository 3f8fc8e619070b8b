import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { encode } from '../../../src/bencode/index.js';
import {
  parseInfoDict,
  sameTorrent,
  wireInfoHash,
  wireInfoHashes,
  infoHashesHex,
} from '../../../src/metainfo/index.js';

const sha = (alg: string, b: Buffer): Buffer => createHash(alg).update(b).digest();

function info(metaVersion?: number): Buffer {
  const data = Buffer.alloc(40_000, 7);
  const d: Record<string, unknown> = {
    length: data.length,
    name: Buffer.from('f.bin'),
    'piece length': 32768,
    pieces: Buffer.concat([sha('sha1', data.subarray(0, 32768)), sha('sha1', data.subarray(32768))]),
  };
  if (metaVersion !== undefined) {
    d['meta version'] = metaVersion;
    d['file tree'] = { 'f.bin': { '': { length: data.length, 'pieces root': Buffer.alloc(32, 1) } } };
  }
  return encode(d as Parameters<typeof encode>[0]);
}

test('a v1 torrent has a v1 hash only; a hybrid has both, v2 = SHA-256 of the same info bytes', () => {
  const v1raw = info();
  const v1 = parseInfoDict(v1raw);
  assert.deepEqual(v1.infoHashes, { v1: sha('sha1', v1raw) });
  assert.ok(v1.infoHash.equals(sha('sha1', v1raw)));

  const hraw = info(2);
  const h = parseInfoDict(hraw);
  assert.ok(h.infoHashes.v1!.equals(sha('sha1', hraw)));
  assert.ok(h.infoHashes.v2!.equals(sha('sha256', hraw)));
  assert.ok(h.infoHash.equals(h.infoHashes.v1!), 'the wire hash of a hybrid is its v1 hash');
  assert.deepEqual(infoHashesHex(h.infoHashes), {
    v1: sha('sha1', hraw).toString('hex'),
    v2: sha('sha256', hraw).toString('hex'),
  });
  // As libtorrent: an unknown meta version is refused, a file tree needs meta version 2.
  assert.throws(() => parseInfoDict(info(3)), { code: 'METAINFO_UNKNOWN_VERSION' });
  assert.throws(() => parseInfoDict(info(1)), { code: 'METAINFO_NO_META_VERSION' });
});

test('wire forms and identity comparison', () => {
  const v1 = Buffer.alloc(20, 1);
  const v2 = Buffer.alloc(32, 2);
  assert.equal(wireInfoHash({ v1, v2 }), v1);
  assert.ok(wireInfoHash({ v2 }).equals(v2.subarray(0, 20)));
  assert.throws(() => wireInfoHash({}), { code: 'INFO_HASH_MISSING' });
  assert.deepEqual(wireInfoHashes({ v1, v2 }), [v1, v2.subarray(0, 20)]);

  assert.equal(sameTorrent({ v1 }, { v1, v2 }), true, 'a magnet by v1 names the hybrid');
  assert.equal(sameTorrent({ v2 }, { v1, v2 }), true);
  assert.equal(sameTorrent({ v1 }, { v2 }), false, 'nothing in common');
  assert.equal(sameTorrent({ v1, v2 }, { v1, v2: Buffer.alloc(32, 3) }), false, 'a disagreeing half');
  assert.equal(sameTorrent({ v1 }, { v1: Buffer.alloc(20, 9) }), false);
});
