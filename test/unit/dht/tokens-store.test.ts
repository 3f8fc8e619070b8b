import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TokenManager,
  TOKEN_ROTATE_MS,
  PeerStore,
  PEER_TTL_MS,
  SourceRateLimiter,
  parseDhtState,
} from '../../../src/dht/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { isNbtError } from '../../../src/util/errors.js';

test('tokens are bound to the IP and live for one to two rotations', () => {
  const clock = new FakeClock();
  const tokens = new TokenManager(clock);
  const tok = tokens.tokenFor('10.0.0.1');
  assert.ok(tokens.isValid(tok, '10.0.0.1'));
  assert.ok(!tokens.isValid(tok, '10.0.0.2'), 'another IP cannot use it');
  assert.ok(!tokens.isValid(Buffer.from('short'), '10.0.0.1'));
  clock.advance(TOKEN_ROTATE_MS);
  assert.ok(tokens.isValid(tok, '10.0.0.1'), 'previous secret still accepted');
  assert.ok(!tokens.tokenFor('10.0.0.1').equals(tok), 'new token after rotation');
  clock.advance(TOKEN_ROTATE_MS);
  assert.ok(!tokens.isValid(tok, '10.0.0.1'), 'expired after two rotations');
  const late = tokens.tokenFor('10.0.0.1');
  clock.advance(3 * TOKEN_ROTATE_MS);
  assert.ok(!tokens.isValid(late, '10.0.0.1'), 'a long pause drops both secrets');
});

test('peer store: expiry, refresh, per-hash and hash-count limits', () => {
  const clock = new FakeClock();
  const store = new PeerStore(clock, { maxPeersPerHash: 3, maxInfoHashes: 2 });
  const h1 = Buffer.alloc(20, 1);
  const h2 = Buffer.alloc(20, 2);
  const h3 = Buffer.alloc(20, 3);
  for (let i = 1; i <= 5; i++) store.add(h1, { host: '10.0.0.1', port: i });
  assert.deepEqual(
    store.get(h1).map((p) => p.port),
    [5, 4, 3],
    'oldest announces dropped, newest first',
  );
  assert.ok(store.add(h2, { host: '::1', port: 9 }));
  assert.equal(store.add(h3, { host: '10.0.0.1', port: 1 }), false, 'full of other info-hashes');
  assert.deepEqual(store.get(h2, 50, 4), [], 'family filter');
  clock.advance(PEER_TTL_MS - 1);
  store.add(h1, { host: '10.0.0.1', port: 3 });
  clock.advance(1);
  assert.deepEqual(store.get(h1), [{ host: '10.0.0.1', port: 3 }], 'only the re-announced peer lives');
  assert.ok(store.add(h3, { host: '10.0.0.1', port: 1 }), 'expired hashes make room');
});

test('rate limiter: burst then sustained rate, per IP', () => {
  const clock = new FakeClock();
  const rl = new SourceRateLimiter(clock, { perSecond: 10, burst: 20, maxSources: 2 });
  let allowed = 0;
  for (let i = 0; i < 100; i++) if (rl.allow('10.0.0.1')) allowed++;
  assert.equal(allowed, 20);
  assert.ok(rl.allow('10.0.0.2'), 'other IPs unaffected');
  clock.advance(1000);
  allowed = 0;
  for (let i = 0; i < 100; i++) if (rl.allow('10.0.0.1')) allowed++;
  assert.equal(allowed, 10);
});

test('saved state is validated', () => {
  assert.throws(
    () => parseDhtState(null),
    (e) => isNbtError(e, 'DHT_BAD_STATE'),
  );
  assert.throws(
    () => parseDhtState({ id: 'xyz' }),
    (e) => isNbtError(e, 'DHT_BAD_STATE'),
  );
  const s = parseDhtState({
    id: 'aa'.repeat(20),
    nodes: [
      { id: 'bb'.repeat(20), host: '127.0.0.1', port: 5 },
      { id: 'bad', host: '1.1.1.1', port: 1 },
      { id: 'cc'.repeat(20), host: 'example.com', port: 1 },
      7,
    ],
  });
  assert.equal(s.nodes.length, 1);
});
