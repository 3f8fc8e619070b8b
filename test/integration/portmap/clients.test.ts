/**
 * The protocol clients over real sockets on 127.0.0.1: NAT-PMP against a scripted UDP gateway
 * (answers, result codes, retransmission in virtual time, answers from elsewhere ignored), UPnP
 * against a scripted SSDP responder and HTTP control server (discovery, the SOAP calls, the
 * permanent-lease fallback, the body limit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NatPmpClient, UpnpClient } from '../../../src/portmap/index.js';
import { FakeClock, systemClock } from '../../../src/util/clock.js';
import { isNbtError } from '../../../src/util/errors.js';

async function udpServer(onMessage: (msg: Buffer, from: RemoteInfo, s: Socket) => void): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('message', (m, r) => onMessage(m, r, s));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}
const portOf = (s: Socket): number => s.address().port;
const closeUdp = (s: Socket): Promise<void> => new Promise((r) => s.close(() => r()));

test('NAT-PMP: map, external address, delete; a result code rejects with its code', async (t) => {
  const seen: string[] = [];
  const gw = await udpServer((m, from, s) => {
    seen.push(m.toString('hex'));
    let reply: Buffer;
    if (m[1] === 0) reply = Buffer.from('008000000000002a2d2d2d2d', 'hex');
    else if (m.readUInt16BE(4) === 9999) reply = Buffer.from([0, 128 + m[1]!, 0, 2, 0, 0, 0, 1]);
    else {
      reply = Buffer.alloc(16);
      reply[1] = 128 + m[1]!;
      m.copy(reply, 8, 4, 6); // internal port
      reply.writeUInt16BE(m.readUInt32BE(8) === 0 ? 0 : 40000, 10);
      reply.writeUInt32BE(m.readUInt32BE(8), 12);
    }
    s.send(reply, from.port, from.address);
  });
  t.after(() => closeUdp(gw));
  const c = new NatPmpClient({ clock: systemClock, gateway: '127.0.0.1', port: portOf(gw) });
  t.after(() => c.close());
  assert.deepEqual(await c.map('tcp', 6881, 6881, 3600), { externalPort: 40000, leaseSec: 3600 });
  assert.equal(await c.externalAddress(), '45.45.45.45');
  await c.unmap('tcp', 6881);
  assert.equal(seen.at(-1), '000200001ae1000000000000');
  await assert.rejects(c.map('udp', 9999, 9999, 60), (e) => isNbtError(e, 'NATPMP_RESULT_2'));
  // Requests run one at a time even when issued together.
  const both = await Promise.all([c.map('tcp', 1000, 1000, 60), c.map('udp', 1001, 1001, 60)]);
  assert.deepEqual(
    both.map((b) => b.externalPort),
    [40000, 40000],
  );
});

test('NAT-PMP: retransmits at 250 ms doubling, then NATPMP_TIMEOUT; strangers are ignored', async (t) => {
  const clock = new FakeClock();
  let got = 0;
  let client: RemoteInfo | undefined;
  const gw = await udpServer((_m, from) => {
    got++;
    client = from;
  });
  t.after(() => closeUdp(gw));
  const stranger = await udpServer(() => undefined);
  t.after(() => closeUdp(stranger));
  const c = new NatPmpClient({ clock, gateway: '127.0.0.1', port: portOf(gw), attempts: 3 });
  t.after(() => c.close());
  const p = c.map('tcp', 6881, 6881, 60);
  const failed = assert.rejects(p, (e) => isNbtError(e, 'NATPMP_TIMEOUT'));
  const waitFor = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && got < n; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(got, n);
  };
  await waitFor(1);
  // An answer from another port than the gateway's is not taken.
  stranger.send(Buffer.from('0082000000000007' + '1ae19c4000000e10', 'hex'), client!.port, '127.0.0.1');
  clock.advance(249);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(got, 1);
  clock.advance(1);
  await waitFor(2);
  clock.advance(500);
  await waitFor(3);
  clock.advance(1000);
  await failed;
});

interface UpnpGateway {
  ssdp: Socket;
  http: Server;
  calls: { action: string; body: string }[];
  /** Answer to AddPortMapping with this error code (once). */
  faultOnce?: number;
}

async function upnpGateway(t: { after: (fn: () => unknown) => void }): Promise<UpnpGateway> {
  const calls: { action: string; body: string }[] = [];
  const gw: Partial<UpnpGateway> & { calls: typeof calls } = { calls };
  const http = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { port } = http.address() as AddressInfo;
      if (req.method === 'GET' && req.url === '/rootDesc.xml') {
        res.end(
          `<?xml version="1.0"?><root><URLBase>http://127.0.0.1:${port}/</URLBase><device><serviceList>` +
            `<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>` +
            `<controlURL>/ctl/IPConn</controlURL></service></serviceList></device></root>`,
        );
        return;
      }
      if (req.url === '/big.xml') return void res.end('x'.repeat(200 * 1024));
      const action = /#(\w+)"/.exec(String(req.headers.soapaction))?.[1] ?? '';
      const body = Buffer.concat(chunks).toString();
      calls.push({ action, body });
      if (action === 'AddPortMapping' && gw.faultOnce) {
        const code = gw.faultOnce;
        gw.faultOnce = undefined;
        res.statusCode = 500;
        return void res.end(
          `<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>${code}</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>`,
        );
      }
      const out =
        action === 'GetExternalIPAddress' ? '<NewExternalIPAddress>45.45.45.45</NewExternalIPAddress>' : '';
      res.end(`<s:Envelope><s:Body><u:${action}Response>${out}</u:${action}Response></s:Body></s:Envelope>`);
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const ssdp = await udpServer((m, from, s) => {
    if (!m.toString().startsWith('M-SEARCH')) return;
    const { port } = http.address() as AddressInfo;
    s.send(
      `HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:t\r\n` +
        `LOCATION: http://127.0.0.1:${port}/rootDesc.xml\r\n\r\n`,
      from.port,
      from.address,
    );
  });
  t.after(() => closeUdp(ssdp));
  t.after(() => new Promise((r) => http.close(r)));
  return Object.assign(gw, { ssdp, http }) as UpnpGateway;
}

test('UPnP: discovery, AddPortMapping to our address, external address, delete, lease 0 on 725', async (t) => {
  const gw = await upnpGateway(t);
  const c = new UpnpClient({
    clock: systemClock,
    ssdpAddress: '127.0.0.1',
    ssdpPort: portOf(gw.ssdp),
    discoveryTimeoutMs: 1500,
  });
  t.after(() => c.close());
  assert.deepEqual(await c.map('tcp', 6881, 6881, 3600), { externalPort: 6881, leaseSec: 3600 });
  const add = gw.calls[0]!;
  assert.equal(add.action, 'AddPortMapping');
  assert.match(add.body, /<NewInternalClient>127\.0\.0\.1<\/NewInternalClient>/);
  assert.match(add.body, /<NewLeaseDuration>3600<\/NewLeaseDuration>/);
  assert.equal(await c.externalAddress(), '45.45.45.45');
  await c.unmap('tcp', 6881, 6881);
  assert.match(
    gw.calls.at(-1)!.body,
    /<u:DeletePortMapping[^>]*><NewRemoteHost><\/NewRemoteHost><NewExternalPort>6881<\/NewExternalPort><NewProtocol>TCP</,
  );
  gw.faultOnce = 725;
  assert.deepEqual(await c.map('udp', 6881, 6881, 3600), { externalPort: 6881, leaseSec: 0 });
  assert.match(gw.calls.at(-1)!.body, /<NewLeaseDuration>0<\/NewLeaseDuration>/);
  gw.faultOnce = 718;
  await assert.rejects(c.map('udp', 7000, 7000, 60), (e) => isNbtError(e, 'UPNP_FAULT_718'));
});

test('UPnP: no answer is UPNP_NO_GATEWAY at the deadline; close ends a discovery at once', async (t) => {
  const quiet = await udpServer(() => undefined);
  t.after(() => closeUdp(quiet));
  const clock = new FakeClock();
  const c = new UpnpClient({
    clock,
    ssdpAddress: '127.0.0.1',
    ssdpPort: portOf(quiet),
    discoveryTimeoutMs: 3000,
  });
  const p = c.discover();
  await new Promise((r) => setTimeout(r, 20));
  clock.advance(3000);
  await assert.rejects(p, (e) => isNbtError(e, 'UPNP_NO_GATEWAY'));
  const p2 = c.discover();
  await new Promise((r) => setTimeout(r, 20));
  await c.close();
  await assert.rejects(p2, (e) => isNbtError(e, 'UPNP_NO_GATEWAY'));
});

test('gateway HTTP: an answer over the limit is refused', async (t) => {
  const gw = await upnpGateway(t);
  const { gatewayHttp } = await import('../../../src/portmap/index.js');
  const { port } = gw.http.address() as AddressInfo;
  await assert.rejects(
    gatewayHttp({
      clock: systemClock,
      url: `http://127.0.0.1:${port}/big.xml`,
      method: 'GET',
      timeoutMs: 2000,
      maxBytes: 64 * 1024,
    }),
    (e) => isNbtError(e, 'PORTMAP_HTTP_TOO_LARGE'),
  );
});
