/**
 * The choking timings are settings (unchoke_interval, idle_choke_timeout, …): a Torrent's
 * TorrentChoking takes new values at runtime (client.applySettings → Torrent.setChokeTimings),
 * and the registry refuses bad ones naming the setting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/util/clock.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { TorrentChoking } from '../../../src/torrent/choke-link.js';
import { PeerSession } from '../../../src/torrent/session.js';
import type { PeerLink } from '../../../src/torrent/peer-link.js';
import { SettingsError, SettingsStore } from '../../../src/settings/index.js';
import { chokeTimings } from '../../../src/client/settings-map.js';

/** An interested peer that records our chokes and unchokes. */
class StubPeer implements PeerLink {
  closed = false;
  bitfield = new Bitfield(4);
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = true;
  fastExtension = true;
  allowedFastSet = new Set<number>();
  maxRequests = undefined;
  uploaded = 0;
  downloadRate = 0;
  uploadRate = 0;
  congested = false;
  connectedAt = 0;
  chokes = 0;
  constructor(readonly host: string) {}
  interested(): void {}
  notInterested(): void {}
  request(): void {}
  cancel(): void {}
  choke(): void {
    this.amChoking = true;
    this.chokes++;
  }
  unchoke(): void {
    this.amChoking = false;
  }
  have(): void {}
  piece(): void {}
  reject(): void {}
  close(): void {
    this.closed = true;
  }
}

function setup() {
  const clock = new FakeClock();
  const peer = new StubPeer('10.0.0.1');
  const session = new PeerSession(peer, '10.0.0.1:6881', clock.now());
  const choking = new TorrentChoking(
    {
      clock,
      transferring: true,
      state: 'seeding',
      peerSessions: new Map([[peer, session]]),
      hasPeers: true,
      peerChoked: () => undefined,
      tick: () => undefined,
    },
    4,
  );
  choking.start();
  return { clock, peer, session, choking };
}

/** The peer asks once right after its unchoke, then goes quiet for `quietMs`. */
function unchokeThenIdle(s: ReturnType<typeof setup>, quietMs: number): void {
  s.choking.interested(s.session);
  assert.equal(s.peer.amChoking, false, 'an interested peer gets a free slot at once');
  s.choking.requested(s.session);
  s.clock.advance(quietMs);
}

test('idle_choke_timeout changed at runtime: a quiet slot holder keeps its slot longer', () => {
  const before = setup();
  unchokeThenIdle(before, 3000);
  assert.equal(before.peer.amChoking, true, 'default 1.5 s: choked by the next tick');

  const after = setup();
  const settings = new SettingsStore();
  settings.apply({ idle_choke_timeout: 10_000 });
  after.choking.setTimings(chokeTimings(settings));
  unchokeThenIdle(after, 3000);
  assert.equal(after.peer.amChoking, false, 'still unchoked 3 s after its last request');
  after.clock.advance(8000);
  assert.equal(after.peer.amChoking, true, 'choked once 10 s passed without a request');
});

test('idle_choke_backoff changed at runtime: an idle-choked peer waits that long for its next slot', () => {
  const s = setup();
  s.choking.setTimings({ idleBackoffMs: 5000 });
  unchokeThenIdle(s, 2000);
  assert.equal(s.peer.amChoking, true);
  // Still interested, but no request: passed over during the backoff, served after it.
  s.clock.advance(2000);
  assert.equal(s.peer.amChoking, true, 'within the 5 s backoff');
  s.clock.advance(4000);
  assert.equal(s.peer.amChoking, false, 'unchoked again once the backoff is over');
});

test('choke timing settings: an invalid value is refused naming the setting', () => {
  const settings = new SettingsStore();
  for (const [name, value] of [
    ['unchoke_interval', 0],
    ['optimistic_unchoke_interval', 1.5],
    ['idle_choke_timeout', -1],
    ['idle_choke_backoff', 'long'],
    ['seeding_quota_min_unchoke', Number.NaN],
    ['optimistic_new_peer_window', 1e12],
    ['metadata_request_timeout', 10],
  ] as const) {
    assert.throws(
      () => settings.apply({ [name]: value }),
      (e: unknown) => e instanceof SettingsError && e.code === 'SETTINGS_INVALID' && e.setting === name,
      name,
    );
  }
  assert.equal(settings.get('idle_choke_timeout'), 1500, 'nothing applied');
});
