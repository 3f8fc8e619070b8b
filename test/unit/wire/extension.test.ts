import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExtensionRegistry,
  encodeExtendedHandshake,
  parseExtendedHandshake,
} from '../../../src/wire/index.js';
import { encode } from '../../../src/bencode/index.js';
import { isNbtError } from '../../../src/util/errors.js';

test('extension handshake round trip keeps unknown keys', () => {
  const payload = encodeExtendedHandshake({
    m: new Map([
      ['ut_metadata', 2],
      ['ut_pex', 1],
    ]),
    p: 6881,
    v: 'net-bittorrent 0.1.0',
    yourip: Buffer.from([127, 0, 0, 1]),
    reqq: 500,
    metadataSize: 31235,
    uploadOnly: true,
    extra: { lt_donthave: 7, complete_ago: 3 },
  });
  assert.equal(
    payload.toString('latin1'),
    'd12:complete_agoi3e11:lt_donthavei7e1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi500e11:upload_onlyi1e1:v20:net-bittorrent 0.1.06:yourip4:\x7f\x00\x00\x01e',
  );
  const h = parseExtendedHandshake(payload);
  assert.deepEqual(
    [...h.m],
    [
      ['ut_metadata', 2],
      ['ut_pex', 1],
    ],
  );
  assert.equal(h.p, 6881);
  assert.equal(h.v, 'net-bittorrent 0.1.0');
  assert.deepEqual(h.yourip, Buffer.from([127, 0, 0, 1]));
  assert.equal(h.reqq, 500);
  assert.equal(h.metadataSize, 31235);
  assert.equal(h.uploadOnly, true);
  assert.deepEqual(h.extra, { complete_ago: 3, lt_donthave: 7 });
  assert.deepEqual(encodeExtendedHandshake(h), payload);
});

test('bad extension handshakes: typed errors; odd values ignored', () => {
  assert.throws(
    () => parseExtendedHandshake(Buffer.from('li1ee')),
    (e) => isNbtError(e, 'WIRE_BAD_EXTENDED'),
  );
  assert.throws(
    () => parseExtendedHandshake(Buffer.from('d1:m')),
    (e) => isNbtError(e, 'WIRE_BAD_EXTENDED'),
  );
  const h = parseExtendedHandshake(
    encode({ m: { a: 300, b: -1, c: 'x', d: 4 }, p: 70000, yourip: 'abc', reqq: -5 }),
  );
  assert.deepEqual([...h.m], [['d', 4]]);
  assert.equal(h.p, undefined);
  assert.equal(h.yourip, undefined);
  assert.equal(h.reqq, undefined);
  // libtorrent sends unsorted keys sometimes; accept them
  const unsorted = Buffer.from('d1:v2:lt1:md6:ut_pexi1eee');
  assert.equal(parseExtendedHandshake(unsorted).v, 'lt');
});

test('ExtensionRegistry maps names to local and remote ids', () => {
  const r = new ExtensionRegistry(['ut_metadata', 'ut_pex']);
  assert.equal(r.localId('ut_metadata'), 1);
  assert.equal(r.localId('ut_pex'), 2);
  assert.equal(r.register('ut_pex'), 2);
  assert.equal(r.register('lt_donthave', 7), 7);
  assert.equal(r.register('x', 7), 3);
  assert.equal(r.nameOf(7), 'lt_donthave');
  assert.deepEqual(
    [...r.localMap],
    [
      ['ut_metadata', 1],
      ['ut_pex', 2],
      ['lt_donthave', 7],
      ['x', 3],
    ],
  );
  r.updateRemote(
    new Map([
      ['ut_metadata', 3],
      ['ut_pex', 1],
    ]),
  );
  assert.equal(r.remoteId('ut_metadata'), 3);
  assert.equal(r.remoteSupports('ut_pex'), true);
  r.updateRemote(new Map([['ut_pex', 0]]));
  assert.equal(r.remoteSupports('ut_pex'), false);
  assert.equal(r.remoteId('ut_metadata'), 3);
  assert.deepEqual(r.remoteNames, ['ut_metadata']);
});

test('registries share their local tables, yet one registering more never changes another', () => {
  const a = new ExtensionRegistry(['ut_metadata', 'ut_pex']);
  const b = new ExtensionRegistry(['ut_metadata', 'ut_pex']);
  assert.equal(a.register('lt_donthave'), 3);
  assert.equal(b.localId('lt_donthave'), undefined);
  assert.equal(b.nameOf(3), undefined);
  // The same call with an explicit id leads elsewhere than without one.
  assert.equal(b.register('lt_donthave', 9), 9);
  assert.equal(a.localId('lt_donthave'), 3);
  assert.deepEqual(
    [...b.localMap],
    [
      ['ut_metadata', 1],
      ['ut_pex', 2],
      ['lt_donthave', 9],
    ],
  );
  const c = new ExtensionRegistry(['ut_pex', 'ut_metadata']);
  assert.deepEqual([c.localId('ut_pex'), c.localId('ut_metadata')], [1, 2]);
  assert.equal(new ExtensionRegistry(['ut_metadata', 'ut_pex']).register('lt_donthave'), 3);
});
