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
    lastRequestAt: -Infinity,
    unchokedAt: -Infinity,
    uploadedSinceUnchoke: 0,
    busy: false,
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
  const busy = { amChoking: false, unchokedAt: 0, lastRequestAt: 0, busy: true };
  const d = c.run(
    [
      peer('a', { ...busy, uploadRate: 100, downloadRate: 1e6 }),
      peer('b', { ...busy, uploadRate: 300 }),
      peer('c', { ...busy, uploadRate: 200 }),
    ],
    1000,
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

/**
 * A pure swarm around one Choker: each peer has a behaviour (requests or not, what it gives us)
 * and the decisions are applied the way choke-round.ts applies them. Time is simulated.
 */
interface SimPeer extends ChokerPeer {
  /** Requests whenever unchoked. */
  requests: boolean;
  /** Bytes/s it gives us (while we download). */
  gives: number;
  /** Milliseconds it spent unchoked. */
  unchokedMs: number;
}

class Sim {
  readonly peers: SimPeer[] = [];
  now = 0;
  private lastFull = 0;
  constructor(
    readonly choker: Choker,
    readonly seeding: boolean,
  ) {}

  add(key: string, o: { requests: boolean; gives?: number }): SimPeer {
    const p: SimPeer = {
      ...peer(key, { connectedAt: this.now }),
      requests: o.requests,
      gives: o.gives ?? 0,
      unchokedMs: 0,
    };
    this.peers.push(p);
    this.round(true);
    return p;
  }

  /** Advances in 1 s ticks: a full round every 10 s, a quick one otherwise (as the Torrent does). */
  advance(ms: number): void {
    for (let t = 0; t < ms; t += 1000) {
      this.now += 1000;
      for (const p of this.peers) {
        if (!p.amChoking) p.unchokedMs += 1000;
        if (!p.amChoking && p.requests) {
          p.lastRequestAt = this.now;
          p.uploadRate = 100_000;
          p.uploadedSinceUnchoke += 100_000;
        } else p.uploadRate = 0;
        p.downloadRate = p.gives;
      }
      const full = this.now - this.lastFull >= 10_000;
      if (full) this.lastFull = this.now;
      this.round(!full);
    }
  }

  round(quick: boolean): void {
    const d = quick
      ? this.choker.fill(this.peers, this.now)
      : this.choker.run(this.peers, this.now, this.seeding);
    for (const p of this.peers) {
      const want = d.unchoke.has(p.key);
      if (want && p.amChoking) {
        p.amChoking = false;
        p.unchokedAt = this.now;
        p.uploadedSinceUnchoke = 0;
        // A requesting peer asks right after the unchoke arrives.
        if (p.requests) p.lastRequestAt = this.now;
      } else if (!want) p.amChoking = true;
    }
  }

  get(key: string): SimPeer {
    return this.peers.find((p) => p.key === key)!;
  }
}

for (const idle of [20, 1000]) {
  test(`seeding: ${idle} interested peers that never request cannot keep a leech choked`, () => {
    const sim = new Sim(new Choker({ slots: 4, random: prng(idle) }), true);
    for (let i = 0; i < idle; i++) sim.add(`idle${i}`, { requests: false });
    sim.advance(500);
    // Every slot is held by idle peers when the leech arrives.
    assert.equal(sim.peers.filter((p) => !p.amChoking).length, 5);
    const leech = sim.add('leech', { requests: true });
    sim.advance(2000);
    assert.equal(leech.amChoking, false, 'the leech is unchoked within 2 s');
    sim.advance(120_000);
    // It keeps its slot: idle peers never displace a peer that asks for data.
    assert.ok(leech.unchokedMs >= 120_000, `leech unchoked ${leech.unchokedMs} ms`);
  });
}

test('an unchoked peer that sends no request loses its slot; it is passed over until its backoff ends', () => {
  const c = new Choker({ slots: 1, idleMs: 1500, idleBackoffMs: 60_000, random: prng(5) });
  const sim = new Sim(c, true);
  const a = sim.add('a', { requests: false });
  assert.equal(a.amChoking, false);
  // It asked once, right after the unchoke, then went quiet.
  a.lastRequestAt = sim.now;
  sim.advance(1000);
  assert.equal(a.amChoking, false, 'not idle yet');
  sim.advance(1000);
  assert.equal(a.amChoking, true, 'idle for 1.5 s: choked');
  sim.advance(30_000);
  assert.equal(a.amChoking, true, 'backing off');
  // A request while choked ends the backoff at once.
  a.lastRequestAt = sim.now;
  sim.round(true);
  assert.equal(a.amChoking, false);
});

test('an idle-choked peer that loses interest and regains it is unchoked without waiting out its backoff', () => {
  // As at a rate-limited seed: the leecher went quiet (idle-choked), finished what it wanted
  // (not interested), then wanted skipped files (interested again). A choked peer cannot request
  // to end its backoff, so the lost interest must.
  const c = new Choker({ slots: 1, idleMs: 1500, idleBackoffMs: 60_000, random: prng(5) });
  const sim = new Sim(c, true);
  const a = sim.add('a', { requests: false });
  a.lastRequestAt = sim.now;
  sim.advance(2000);
  assert.equal(a.amChoking, true, 'idle for 1.5 s: choked');
  a.interested = false;
  sim.round(true);
  a.interested = true;
  sim.round(true);
  assert.equal(a.amChoking, false, 'unchoked at once');
});

test('an idle-choked peer whose interest flips off and on between two rounds is unchoked at once', () => {
  // The web-UI test's leecher: it re-wanted skipped files right after losing interest, both
  // before the seed's next round, so no round saw it uninterested; it stayed choked 60 s.
  const c = new Choker({ slots: 1, idleMs: 1500, idleBackoffMs: 60_000, random: prng(5) });
  const sim = new Sim(c, true);
  const a = sim.add('a', { requests: false });
  a.lastRequestAt = sim.now;
  sim.advance(2000);
  assert.equal(a.amChoking, true, 'idle for 1.5 s: choked');
  sim.advance(1000);
  (a as { interestedAt?: number }).interestedAt = sim.now;
  sim.round(true);
  assert.equal(a.amChoking, false, 'a fresh interested ends the backoff');
});

test('a request queued or being served keeps a peer from counting as idle', () => {
  const c = new Choker({ slots: 1, random: prng(6) });
  const p = peer('p', { amChoking: false, unchokedAt: 0, lastRequestAt: 0, busy: true });
  assert.ok(c.fill([p], 10_000).unchoke.has('p'));
  assert.ok(!c.fill([{ ...p, busy: false }], 10_000).unchoke.has('p'));
});

test('seeding: peers that all request equally take turns (round-robin quota)', () => {
  const sim = new Sim(new Choker({ slots: 2, quotaBytes: 1_000_000, random: prng(7) }), true);
  for (let i = 0; i < 8; i++) sim.add(`p${i}`, { requests: true });
  sim.advance(20 * 60_000);
  const times = sim.peers.map((p) => p.unchokedMs);
  const min = Math.min(...times);
  const max = Math.max(...times);
  assert.ok(min > 0, `every peer was served: ${times.join(',')}`);
  assert.ok(max / min < 2.5, `shares are fair: ${times.join(',')}`);
});

test('downloading: free riders get less than peers that give back', () => {
  const sim = new Sim(new Choker({ slots: 3, random: prng(8) }), false);
  for (let i = 0; i < 4; i++) sim.add(`giver${i}`, { requests: true, gives: 50_000 + i * 1000 });
  for (let i = 0; i < 6; i++) sim.add(`rider${i}`, { requests: true, gives: 0 });
  sim.advance(10 * 60_000);
  const share = (prefix: string): number => {
    const ps = sim.peers.filter((p) => (p.key as string).startsWith(prefix));
    return ps.reduce((n, p) => n + p.unchokedMs, 0) / ps.length;
  };
  assert.ok(share('giver') > 2 * share('rider'), `giver ${share('giver')} ms, rider ${share('rider')} ms`);
  // The three fastest givers hold the regular slots.
  for (const k of ['giver1', 'giver2', 'giver3']) assert.ok(sim.get(k).unchokedMs >= 9 * 60_000, k);
});

test('a free slot goes to a peer that asked while choked, then to the newest never-unchoked peer', () => {
  const c = new Choker({ slots: 0, random: prng(9) });
  const now = 100_000;
  const old = peer('old', { connectedAt: 0 });
  const fresh = peer('fresh', { connectedAt: 90_000 });
  const served = peer('served', { connectedAt: 95_000, unchokedAt: 50_000 });
  assert.deepEqual([...c.fill([old, served, fresh], now).unchoke], ['fresh']);
  const asker = peer('asker', { connectedAt: 0, unchokedAt: 60_000, lastRequestAt: now - 100 });
  assert.deepEqual([...new Choker({ slots: 0 }).fill([old, fresh, asker], now).unchoke], ['asker']);
});

test("'auto' slots follow the upload rates (libtorrent's rate-based choker)", () => {
  const c = new Choker({ slots: 'auto', random: prng(10) });
  assert.equal(c.slots, 1);
  const up = (key: string, uploadRate: number): ChokerPeer =>
    peer(key, { uploadRate, amChoking: false, unchokedAt: 0, lastRequestAt: 9_000 });
  // Thresholds 1, 3, 5, 7 KiB/s: three peers clear theirs, the fourth does not.
  c.run([up('a', 100_000), up('b', 4000), up('c', 5200), up('d', 6000), peer('e')], 10_000, true);
  assert.equal(c.slots, 4);
  c.run([up('a', 0), up('b', 0)], 20_000, true);
  assert.equal(c.slots, 1);
  c.setSlots(6);
  assert.equal(c.slots, 6);
});

test('a peer that never sent a request is probed briefly: its slot goes to a newcomer within a second', () => {
  const c = new Choker({ slots: 1, random: prng(11) });
  const sim = new Sim(c, true);
  sim.add('x', { requests: false });
  sim.add('y', { requests: false });
  assert.equal(sim.peers.filter((p) => !p.amChoking).length, 2);
  sim.advance(1000);
  // Both were choked after 700 ms of silence; nobody else waits, so the slots stay free.
  assert.equal(sim.peers.filter((p) => !p.amChoking).length, 0);
  const z = sim.add('z', { requests: true });
  assert.equal(z.amChoking, false);
});

test('a waiting newcomer takes the slot of a holder that never asked, once it had a round trip', () => {
  const c = new Choker({ slots: 0, random: prng(12) });
  const probe = peer('probe', { amChoking: false, unchokedAt: 1000, connectedAt: 900 });
  const newcomer = peer('new', { connectedAt: 1100 });
  // 100 ms after its unchoke the probe keeps its slot; at 300 ms it gives way.
  const early = c.fill([probe, newcomer], 1100);
  assert.deepEqual([...early.unchoke], ['probe']);
  assert.equal(early.recheckAt, 1250, 'the engine is asked to look again when the probe is due');
  assert.deepEqual([...c.fill([probe, newcomer], 1300).unchoke], ['new']);
  // A holder that asked for data is never displaced this way.
  const asker = { ...probe, lastRequestAt: 1050, busy: true };
  assert.deepEqual([...c.fill([asker, newcomer], 1300).unchoke], ['probe']);
  // Nor by a peer that already had its turn.
  const served = peer('served', { unchokedAt: 500 });
  assert.deepEqual([...c.fill([probe, served], 1300).unchoke], ['probe']);
});

test('downloading: a peer that sends us data keeps its slot through a lull in its requests', () => {
  const c = new Choker({ slots: 1, random: prng(13) });
  const giver = peer('giver', { amChoking: false, unchokedAt: 0, lastRequestAt: 0, downloadRate: 50_000 });
  const rider = peer('rider', { lastRequestAt: 9_900 });
  c.run([giver, rider], 0, false);
  // 10 s without a request from it: still unchoked, and the rude rider that asks while choked
  // does not take its place.
  const d = c.fill([giver, rider], 10_000, false);
  assert.ok(d.unchoke.has('giver'));
  // Seeding, the same lull frees the slot.
  assert.ok(!c.fill([giver, rider], 10_000, true).unchoke.has('giver'));
});
