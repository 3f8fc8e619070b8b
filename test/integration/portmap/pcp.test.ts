/**
 * PCP over real UDP sockets on 127.0.0.1 against scripted servers built from RFC 6887's packet
 * layouts: a MAP carries our address as the server sees it and one nonce per mapping, kept for
 * renewals and the delete; result codes reject; retransmission at 250 ms doubling in virtual
 * time; a NAT-PMP-only server ("unsupported version") and a server silent to PCP fall back to
 * NAT-PMP; an epoch reset seen on one answer re-maps the other ports at once (PortMapper).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  NatPmpClient,
  PcpClient,
  PcpOrNatPmpClient,
  PortMapper,
  readAddress,
} from '../../../src/portmap/index.js';
import { FakeClock, systemClock } from '../../../src/util/clock.js';
import { isNbtError } from '../../../src/util/errors.js';

interface PcpRequest {
  version: number;
  lifetime: number;
  client: string;
  nonce: string;
  proto: number;
  internal: number;
  suggested: number;
  from: RemoteInfo;
}

type Answer = (r: PcpRequest, raw: Buffer) => Buffer | undefined;

/** A scripted PCP server: `answer` builds each reply (undefined: stay silent). */
async function pcpServer(answer: Answer): Promise<{ socket: Socket; port: number; seen: PcpRequest[] }> {
  const seen: PcpRequest[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (m, from) => {
    const r: PcpRequest = {
      version: m[0]!,
      lifetime: m.length >= 8 ? m.readUInt32BE(4) : 0,
      client: m.length >= 24 ? readAddress(m, 8) : '',
      nonce: m.subarray(24, 36).toString('hex'),
      proto: m[36] ?? 0,
      internal: m.length >= 42 ? m.readUInt16BE(40) : 0,
      suggested: m.length >= 44 ? m.readUInt16BE(42) : 0,
      from,
    };
    seen.push(r);
    const reply = answer(r, m);
    if (reply) socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, seen };
}

/** The MAP answer to `req` (section 11.1): its body echoed, the external port and address set. */
function mapAnswer(
  req: Buffer,
  o: { result?: number; lifetime?: number; epoch: number; ext?: number },
): Buffer {
  const b = Buffer.alloc(60);
  req.copy(b, 24, 24, 60);
  b[0] = 2;
  b[1] = 0x81;
  b[3] = o.result ?? 0;
  b.writeUInt32BE(o.lifetime ?? req.readUInt32BE(4), 4);
  b.writeUInt32BE(o.epoch, 8);
  b.writeUInt16BE(o.ext ?? req.readUInt16BE(42), 42);
  Buffer.from('00000000000000000000ffff2d2d2d2d', 'hex').copy(b, 44);
  return b;
}

const closeUdp = (s: Socket): Promise<void> => new Promise((r) => s.close(() => r()));

test('PCP: MAP with our address and a nonce kept for renewal and delete; result codes reject', async (t) => {
  const started = Date.now();
  const srv = await pcpServer((r, raw) =>
    mapAnswer(raw, {
      epoch: 100 + Math.floor((Date.now() - started) / 1000),
      ext: r.lifetime === 0 ? 0 : r.internal === 7000 ? 0 : 40000,
      result: r.internal === 7000 ? 8 : 0,
    }),
  );
  t.after(() => closeUdp(srv.socket));
  const c = new PcpClient({ clock: systemClock, gateway: '127.0.0.1', port: srv.port });
  t.after(() => c.close());
  await assert.rejects(c.externalAddress(), (e) => isNbtError(e, 'PCP_NO_EXTERNAL'));
  assert.deepEqual(await c.map('tcp', 6881, 6881, 3600), { externalPort: 40000, leaseSec: 3600 });
  assert.equal(await c.externalAddress(), '45.45.45.45');
  await c.map('udp', 6881, 6881, 3600);
  await c.map('tcp', 6881, 40000, 3600);
  await c.unmap('tcp', 6881);
  const [tcp1, udp, tcp2, del] = srv.seen;
  assert.equal(tcp1!.version, 2);
  assert.equal(tcp1!.client, '127.0.0.1');
  assert.equal(tcp1!.proto, 6);
  assert.equal(udp!.proto, 17);
  assert.equal(tcp1!.suggested, 6881);
  assert.equal(tcp2!.suggested, 40000);
  // One nonce per mapping, the same for its renewal and its delete.
  assert.notEqual(tcp1!.nonce, udp!.nonce);
  assert.equal(tcp2!.nonce, tcp1!.nonce);
  assert.equal(del!.nonce, tcp1!.nonce);
  assert.equal(del!.lifetime, 0);
  await assert.rejects(c.map('tcp', 7000, 7000, 60), (e) => isNbtError(e, 'PCP_RESULT_8'));
  // A delete of what was never mapped sends nothing.
  const n = srv.seen.length;
  await c.unmap('udp', 9999);
  assert.equal(srv.seen.length, n);
});

test('PCP: retransmits at 250 ms doubling, then PCP_TIMEOUT', async (t) => {
  const clock = new FakeClock();
  const srv = await pcpServer(() => undefined);
  t.after(() => closeUdp(srv.socket));
  const c = new PcpClient({ clock, gateway: '127.0.0.1', port: srv.port, attempts: 3 });
  t.after(() => c.close());
  const failed = assert.rejects(c.map('tcp', 6881, 6881, 60), (e) => isNbtError(e, 'PCP_TIMEOUT'));
  const waitFor = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && srv.seen.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(srv.seen.length, n);
  };
  await waitFor(1);
  clock.advance(249);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(srv.seen.length, 1);
  clock.advance(1);
  await waitFor(2);
  clock.advance(500);
  await waitFor(3);
  clock.advance(1000);
  await failed;
  assert.ok(
    srv.seen.every((r) => r.nonce === srv.seen[0]!.nonce),
    'a retransmission is the same request',
  );
});

/** A NAT-PMP server that maps everything; PCP gets `pcp` (unsupported version, or silence). */
async function natPmpServer(pcp: 'unsupported' | 'silent') {
  return pcpServer((r, raw) => {
    if (r.version !== 0)
      return pcp === 'silent' ? undefined : Buffer.from([0, 128 + (raw[1]! & 127), 0, 1, 0, 0, 0, 9]);
    if (raw[1] === 0) return Buffer.from('00800000000000092d2d2d2d', 'hex');
    const b = Buffer.alloc(16);
    b[1] = 128 + raw[1]!;
    raw.copy(b, 8, 4, 6);
    raw.copy(b, 10, 6, 8);
    raw.copy(b, 12, 8, 12);
    return b;
  });
}

for (const pcp of ['unsupported', 'silent'] as const) {
  test(`PCP then NAT-PMP: a gateway that answers PCP ${pcp === 'silent' ? 'with silence' : '"unsupported version"'} is spoken NAT-PMP to`, async (t) => {
    const srv = await natPmpServer(pcp);
    t.after(() => closeUdp(srv.socket));
    const clock = systemClock;
    const o = { clock, gateway: '127.0.0.1', port: srv.port, initialTimeoutMs: 20, attempts: 2 };
    const c = new PcpOrNatPmpClient(new PcpClient(o), new NatPmpClient(o));
    t.after(() => c.close());
    assert.equal(c.name, 'pcp');
    // Both at once, as the PortMapper asks: the second finds out from the first.
    const [tcp, udp] = await Promise.all([c.map('tcp', 6881, 6881, 60), c.map('udp', 6881, 6881, 60)]);
    assert.deepEqual(tcp, { externalPort: 6881, leaseSec: 60 });
    assert.deepEqual(udp, { externalPort: 6881, leaseSec: 60 });
    assert.equal(c.name, 'natpmp');
    assert.equal(c.protocol, 'natpmp');
    assert.equal(await c.externalAddress(), '45.45.45.45');
    const versions = srv.seen.map((r) => r.version);
    assert.ok(versions.includes(2) && versions.includes(0), String(versions));
    // From now on, NAT-PMP only.
    const n = srv.seen.length;
    await c.map('tcp', 6881, 6881, 60);
    await c.unmap('tcp', 6881);
    assert.deepEqual(
      srv.seen.slice(n).map((r) => r.version),
      [0, 0],
    );
  });
}

test('PCP epoch reset: the gateway restarted, so PortMapper maps every port again at once', async (t) => {
  const clock = new FakeClock(1_000_000);
  // The gateway's epoch follows our virtual clock; `bootAt` moves when it "reboots".
  let bootAt = 0;
  const srv = await pcpServer((r, raw) =>
    mapAnswer(raw, {
      epoch: Math.floor((clock.now() - bootAt) / 1000),
      // TCP renews first (short lease), UDP much later: only a reset maps UDP early.
      lifetime: r.lifetime === 0 ? 0 : r.proto === 6 ? 100 : 10_000,
    }),
  );
  t.after(() => closeUdp(srv.socket));
  const pcp = new PcpClient({ clock, gateway: '127.0.0.1', port: srv.port });
  const mapper = new PortMapper({ clock, clients: [pcp], leaseSec: 100 });
  t.after(() => mapper.close());
  const mapped: string[] = [];
  mapper.on('mapped', (m, renewal) => mapped.push(`${m.protocol}${renewal ? ' renewal' : ''}`));
  const until = async (n: number): Promise<void> => {
    for (let i = 0; i < 400 && mapped.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(mapped.length >= n, JSON.stringify(mapped));
  };
  mapper.add('tcp', 6881);
  mapper.add('udp', 6881);
  await until(2);
  // 50 s on (TCP's renewal): no reset yet, UDP left alone.
  clock.advance(50_000);
  await until(3);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(mapped, ['tcp', 'udp', 'tcp renewal']);
  // The gateway reboots (its epoch starts again at 0); TCP's next renewal sees it.
  bootAt = clock.now();
  clock.advance(50_000);
  await until(5);
  assert.deepEqual(mapped.slice(3).sort(), ['tcp renewal', 'udp renewal']);
  const udp = srv.seen.filter((r) => r.proto === 17);
  assert.equal(udp.length, 2);
  assert.equal(udp[1]!.nonce, udp[0]!.nonce);
});
