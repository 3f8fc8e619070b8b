import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, forEachListItem, type BValue } from '../../../src/bencode/index.js';
import { isNbtError } from '../../../src/util/errors.js';

const RAW = { allowUnsorted: true, raw: (key: string, depth: number) => depth === 1 && key === 'files' };

/** decode with `files` kept raw, then its items decoded one by one: the same value or an error. */
function viaRaw(b: Buffer): BValue {
  const d = decode(b, RAW) as Record<string, BValue>;
  const raw = d.files;
  if (Buffer.isBuffer(raw) && raw[0] === 0x6c) {
    const items: BValue[] = [];
    forEachListItem(raw, { allowUnsorted: true }, (v) => items.push(v));
    d.files = items;
  }
  return d;
}

test('a value kept raw is its exact encoding, and its items decode to what decode gives', () => {
  const doc = encode({
    a: 1,
    files: [
      { length: 5, path: ['x', 'y'] },
      { length: 0, path: ['z'] },
    ],
    z: 'q',
  });
  const d = decode(doc, RAW) as Record<string, BValue>;
  assert.deepEqual(
    d.files,
    encode([
      { length: 5, path: ['x', 'y'] },
      { length: 0, path: ['z'] },
    ]),
  );
  assert.deepEqual(viaRaw(doc), decode(doc, { allowUnsorted: true }));
});

test('skipping a raw value checks it as decoding does: 20,000 mutations agree on accept or reject', () => {
  const doc = encode({
    files: [{ length: 5, path: ['ab', 'cd'], attr: 'x' }, { l: [1, [2, { k: -3 }]], m: 'str' }, 7, 'e'],
    name: 'n',
  });
  let x = 12345;
  const rnd = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const tokens = [...'deil0123456789:-e'].map((c) => c.charCodeAt(0));
  let rejected = 0;
  for (let round = 0; round < 20_000; round++) {
    const b = Buffer.from(doc);
    for (let k = 1 + rnd(3); k > 0; k--) b[rnd(b.length)] = tokens[rnd(tokens.length)]!;
    const cut = rnd(4) === 0 ? b.subarray(0, rnd(b.length)) : b;
    let plain: BValue | Error;
    let raw: BValue | Error;
    try {
      plain = decode(cut, { allowUnsorted: true });
    } catch (e) {
      assert.ok(isNbtError(e), String(e));
      plain = e;
    }
    try {
      raw = viaRaw(cut);
    } catch (e) {
      assert.ok(isNbtError(e), String(e));
      raw = e;
    }
    if (plain instanceof Error) {
      rejected++;
      assert.ok(raw instanceof Error, `accepted when kept raw: ${cut.toString('latin1')}`);
    } else assert.deepEqual(raw, plain, cut.toString('latin1'));
  }
  assert.ok(rejected > 1000 && rejected < 19_000, `${rejected} rejected`);
});

test('forEachListItem refuses bytes that are not a list', () => {
  assert.throws(
    () => forEachListItem(Buffer.from('i5e'), {}, () => {}),
    (e) => isNbtError(e, 'BENCODE_NOT_A_LIST'),
  );
});
