import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve, sep } from 'node:path';
import { assertNotReserved, safeJoin } from '../../../src/storage/paths.js';
import { isNbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/tmp.js';

test('safeJoin: the same paths resolve(join()) gives, for every safe component list', () => {
  const rand = prng(7);
  const alphabet = ['a', 'B', ' ', '.', '-', 'é', '…', 'x.mkv', '..a', 'a..', '.hidden', 'C:', '~'];
  const roots = ['/srv/torrents', '/srv/torrents/', '/', 'relative/dir', '/a/../b', '/tmp/x/./y'];
  for (let i = 0; i < 2000; i++) {
    const root = roots[Math.floor(rand() * roots.length)]!;
    const n = 1 + Math.floor(rand() * 4);
    const components: string[] = [];
    for (let k = 0; k < n; k++) {
      let c = '';
      const len = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < len; j++) c += alphabet[Math.floor(rand() * alphabet.length)];
      if (c === '.' || c === '..') c += 'x';
      components.push(c);
    }
    assert.equal(
      safeJoin(root, components),
      resolve(join(resolve(root), ...components)),
      components.join('|'),
    );
  }
});

test('safeJoin: unsafe components are refused', () => {
  for (const bad of [[], [''], ['.'], ['..'], ['a', '..'], ['a/b'], ['a\\b'], ['a\0'], ['/etc']])
    assert.throws(
      () => safeJoin('/srv', bad),
      (e) => isNbtError(e) && e.code === 'STORAGE_BAD_PATH',
      JSON.stringify(bad),
    );
});

test('assertNotReserved: at or below a reserved path (also case-folded), not beside it', () => {
  const reserved = ['/srv/data/.nbt-resume', '/var/lib/nbt/dht.dat'];
  const refused = (p: string): boolean => {
    try {
      assertNotReserved(p, reserved);
      return false;
    } catch (e) {
      assert.ok(isNbtError(e) && e.code === 'STORAGE_RESERVED_PATH');
      return true;
    }
  };
  assert.ok(refused('/srv/data/.nbt-resume'));
  assert.ok(refused('/srv/data/.nbt-resume/x.resume'));
  assert.ok(refused('/srv/data/.NBT-Resume/x.resume'));
  assert.ok(refused('/var/lib/nbt/dht.dat'));
  assert.ok(refused('/srv/data/x/../.nbt-resume/y'));
  assert.ok(!refused('/srv/data/.nbt-resume2'));
  assert.ok(!refused('/srv/data/.nbt-resum'));
  assert.ok(!refused('/var/lib/nbt/dht.dat.bak'));
  assert.ok(!refused('/srv/data/movie.mkv'));
  assert.ok(refused(`/srv/data/.nbt-resume${sep}`));
  assert.doesNotThrow(() => assertNotReserved('/anything', []));
  assert.throws(
    () => assertNotReserved('/x/y', ['/']),
    (e) => isNbtError(e) && e.code === 'STORAGE_RESERVED_PATH',
    'a reserved root covers everything',
  );
});
