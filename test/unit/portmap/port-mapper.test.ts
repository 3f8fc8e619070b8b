/**
 * PortMapper in virtual time against scripted protocol clients: both ports through every
 * client, renewal at half the granted lease keeping the external port, retries with doubling
 * back-off, a lapsed lease forgotten, deletes on close, and a client that never answered
 * abandoned at once on close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PortMapper,
  type MappingProtocolClient,
  type MappedPort,
  type MapperName,
} from '../../../src/portmap/index.js';
import { NbtError } from '../../../src/util/errors.js';
import { FakeClock } from '../../../src/util/clock.js';

type Call = {
  op: 'map' | 'unmap';
  protocol: string;
  internal: number;
  external: number;
  lease?: number;
  at: number;
};

class ScriptedClient implements MappingProtocolClient {
  readonly calls: Call[] = [];
  closed = false;
  /** Next answers of map(): a port mapping, an error, or 'hang' (never settles). */
  answers: (MappedPort | Error | 'hang')[] = [];
  fallback: MappedPort | undefined;
  constructor(
    readonly name: MapperName,
    private readonly clock: FakeClock,
  ) {}
  externalAddress(): Promise<string> {
    return Promise.resolve('45.45.45.45');
  }
  map(protocol: 'tcp' | 'udp', internal: number, external: number, lease: number): Promise<MappedPort> {
    this.calls.push({ op: 'map', protocol, internal, external, lease, at: this.clock.now() });
    const a = this.answers.shift() ?? this.fallback ?? { externalPort: external, leaseSec: lease };
    if (a === 'hang') return new Promise(() => undefined);
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  }
  unmap(protocol: 'tcp' | 'udp', internal: number, external: number): Promise<void> {
    this.calls.push({ op: 'unmap', protocol, internal, external, at: this.clock.now() });
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('maps TCP and UDP through every client, renews at half the lease with the port it got', async () => {
  const clock = new FakeClock();
  const upnp = new ScriptedClient('upnp', clock);
  const nat = new ScriptedClient('natpmp', clock);
  nat.answers = [{ externalPort: 40000, leaseSec: 100 }];
  const mapper = new PortMapper({ clock, clients: [upnp, nat], leaseSec: 100 });
  const events: [string, string, number, boolean][] = [];
  mapper.on('mapped', (m, renewal) => events.push([m.mapper, m.protocol, m.externalPort, renewal]));
  mapper.add('tcp', 6881);
  mapper.add('udp', 6881);
  mapper.add('tcp', 6881); // again: nothing new
  await settle();
  assert.deepEqual(events, [
    ['upnp', 'tcp', 6881, false],
    ['natpmp', 'tcp', 40000, false],
    ['upnp', 'udp', 6881, false],
    ['natpmp', 'udp', 6881, false],
  ]);
  assert.equal(mapper.mapping('tcp')?.externalPort, 6881);
  assert.equal(mapper.mapping('tcp')?.externalAddress, '45.45.45.45');
  clock.advance(49_999);
  await settle();
  assert.equal(nat.calls.length, 2);
  clock.advance(1);
  await settle();
  // The renewal asks for the port the gateway gave (40000), not the internal one.
  assert.deepEqual(
    nat.calls.slice(2).map((c) => [c.protocol, c.external, c.at]),
    [
      ['tcp', 40000, 50_000],
      ['udp', 6881, 50_000],
    ],
  );
  assert.deepEqual(
    events.slice(4).map((e) => e[3]),
    [true, true, true, true],
  );
  await mapper.close();
  const unmaps = [...upnp.calls, ...nat.calls].filter((c) => c.op === 'unmap');
  assert.deepEqual(unmaps.map((c) => [c.protocol, c.external]).sort(), [
    ['tcp', 40000],
    ['tcp', 6881],
    ['udp', 6881],
    ['udp', 6881],
  ]);
  assert.ok(upnp.closed && nat.closed);
  // Closed: no more timers, no more calls.
  clock.advance(10 * 60_000);
  await settle();
  assert.equal(nat.calls.length, 6);
});

test('failures are retried with doubling back-off; a lapsed lease is forgotten', async () => {
  const clock = new FakeClock();
  const c = new ScriptedClient('natpmp', clock);
  const refused = new NbtError('NATPMP_RESULT_2', 'refused');
  c.answers = [refused, refused, { externalPort: 6881, leaseSec: 10 }];
  const mapper = new PortMapper({ clock, clients: [c], leaseSec: 10, retryMs: 1000, maxRetryMs: 4000 });
  const failures: string[] = [];
  mapper.on('failed', (f) => failures.push((f.error as NbtError).code));
  mapper.add('tcp', 6881);
  await settle();
  assert.deepEqual(failures, ['NATPMP_RESULT_2']);
  clock.advance(1000);
  await settle();
  assert.equal(failures.length, 2);
  clock.advance(1999);
  await settle();
  assert.equal(c.calls.length, 2, 'the second retry waits twice as long');
  clock.advance(1);
  await settle();
  assert.equal(mapper.mapping('tcp')?.leaseSec, 10);
  // Renewals fail from now on: the mapping stands until its lease (10 s) ends, then is gone.
  c.fallback = undefined;
  c.answers = Array.from({ length: 10 }, () => refused);
  clock.advance(5000); // renewal at half the lease: fails, retry in 1 s (back-off was reset)
  await settle();
  assert.ok(mapper.mapping('tcp'));
  for (let i = 0; i < 6 && mapper.mapping('tcp'); i++) {
    clock.advance(clock.nextTimerAt()! - clock.now());
    await settle();
  }
  assert.ok(clock.now() >= 13_000);
  assert.equal(mapper.mapping('tcp'), undefined);
  await mapper.close();
  assert.equal(c.calls.filter((x) => x.op === 'unmap').length, 0, 'nothing left to delete');
});

test('close abandons a client that never answered and waits at most closeTimeoutMs for the rest', async () => {
  const clock = new FakeClock();
  const silent = new ScriptedClient('upnp', clock);
  silent.answers = ['hang'];
  const slow = new ScriptedClient('natpmp', clock);
  slow.answers = [{ externalPort: 6881, leaseSec: 20 }, 'hang'];
  const mapper = new PortMapper({ clock, clients: [silent, slow], leaseSec: 20, closeTimeoutMs: 500 });
  mapper.add('tcp', 6881);
  await settle();
  clock.advance(10_000); // the natpmp renewal hangs
  await settle();
  let closed = false;
  const closing = mapper.close().then(() => (closed = true));
  await settle();
  assert.ok(silent.closed, 'the client without mappings is closed at once');
  assert.ok(!closed);
  clock.advance(500);
  await closing;
  assert.ok(slow.closed);
});

test('an IPv6 pinhole (external address our own IPv6 one) is never the mapping announced', async () => {
  const clock = new FakeClock();
  const pinhole = new ScriptedClient('pcp', clock);
  pinhole.externalAddress = () => Promise.resolve('2001:db8::2');
  const nat = new ScriptedClient('pcp', clock);
  nat.answers = [{ externalPort: 40000, leaseSec: 100 }];
  const mapper = new PortMapper({ clock, clients: [pinhole, nat], leaseSec: 100 });
  mapper.add('tcp', 6881);
  await settle();
  assert.equal(mapper.mappings.length, 2);
  assert.equal(mapper.mappings[0]!.externalAddress, '2001:db8::2');
  assert.equal(mapper.mapping('tcp')?.externalPort, 40000);
  assert.equal(mapper.mapping('tcp')?.externalAddress, '45.45.45.45');
  await mapper.close();
});
