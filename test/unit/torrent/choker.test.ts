import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Choker, type ChokerPeer } from '../../../src/torrent/choker.js';
import { prng } from '../../helpers/tmp.js';

function peer(key: string, o: Partial<ChokerPeer> = {}): ChokerPeer {
  return {
    key,
    interested: true,
    downloadRate: 0,
    uploadRate: 0,
    snubbed: false,
    connectedAt: -1_000_000,
    amChoking: true,
    ...o,
  };
}

test('downloading: the fastest uploaders to us get the regular slots; snubbed and uninterested never', () => {
  const c = new Choker({ slots: 3, random: prng(1) });
  const peers = [
    peer('slow', { downloadRate: 10 }),
    peer('fast', { downloadRate: 900 }),
    peer('snub', { downloadRate: 5000, snubbed: true }),
    peer('bored', { downloadRate: 9999, interested: false }),
    peer('mid', { downloadRate: 500 }),
    peer('mid2', { downloadRate: 400 }),
  ];
  const d = c.run(peers, 0, false);
  const regular = [...d.unchoke].filter((k) => k !== d.optimistic);
  assert.deepEqual(regular.sort(), ['fast', 'mid', 'mid2']);
  assert.ok(d.optimistic === 'slow' || d.optimistic === 'snub', `optimistic ${String(d.optimistic)}`);
  assert.ok(!d.unchoke.has('bored'));
  assert.equal(d.unchoke.size, 4);
});

test('seeding: ranked by our upload rate to them', () => {
  const c = new Choker({ slots: 2, random: prng(2) });
  const d = c.run(
    [
      peer('a', { uploadRate: 100, downloadRate: 1e6 }),
      peer('b', { uploadRate: 300 }),
      peer('c', { uploadRate: 200 }),
    ],
    0,
    true,
  );
  assert.ok(d.unchoke.has('b') && d.unchoke.has('c'));
  assert.equal(d.optimistic, 'a');
});

test('optimistic unchoke holds for 30 s, then rotates', () => {
  const c = new Choker({ slots: 1, random: prng(3) });
  const peers = ['a', 'b', 'c', 'd', 'e'].map((k, i) => peer(k, { downloadRate: k === 'a' ? 1000 : i }));
  const first = c.run(peers, 0, false).optimistic;
  assert.notEqual(first, undefined);
  assert.notEqual(first, 'a');
  for (const t of [10_000, 20_000]) assert.equal(c.run(peers, t, false).optimistic, first);
  const seen = new Set<unknown>([first]);
  for (let t = 30_000; t <= 600_000; t += 30_000) seen.add(c.run(peers, t, false).optimistic);
  assert.ok(seen.size >= 3, 'rotation reaches other peers');
  assert.ok(!seen.has('a'), 'a regular peer is not also the optimistic one');
});

test('new peers are three times as likely to be the optimistic unchoke', () => {
  const counts = { old: 0, new: 0 };
  for (let seed = 1; seed <= 4000; seed++) {
    const c = new Choker({ slots: 0, random: prng(0x9e3779b9 ^ (seed * 2654435761)) });
    const d = c.run([peer('old', { connectedAt: 0 }), peer('new', { connectedAt: 100_000 })], 120_000, false);
    counts[d.optimistic as 'old' | 'new']++;
  }
  const ratio = counts.new / counts.old;
  assert.ok(ratio > 2.5 && ratio < 3.5, `new/old ratio ${ratio.toFixed(2)}`);
});

test('an optimistic peer that loses interest or leaves is replaced at once', () => {
  const c = new Choker({ slots: 0, random: prng(4) });
  const ps = [peer('x'), peer('y')];
  const o = c.run(ps, 0, false).optimistic;
  const other = o === 'x' ? 'y' : 'x';
  const after = ps.map((p) => (p.key === o ? { ...p, interested: false } : p));
  assert.equal(c.run(after, 1000, false).optimistic, other);
  c.peerGone(other);
  assert.equal(c.optimisticPeer, undefined);
  assert.equal(c.run([], 2000, false).unchoke.size, 0);
});
