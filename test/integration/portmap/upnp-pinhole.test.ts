/**
 * UPnP IGDv2 IPv6 pinholes over real sockets on ::1: SSDP over IPv6 to a scripted responder,
 * the WANIPv6FirewallControl:1 service picked from the description, AddPinhole for our address
 * (the control connection's), UpdatePinhole with its UniqueID on renewal, AddPinhole again
 * when the gateway forgot it (fault 704), DeletePinhole on unmap; a gateway without the
 * service fails discovery (UPNP_NO_GATEWAY, naming UPNP_NO_FIREWALL_SERVICE's reason).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpnpPinholeClient } from '../../../src/portmap/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { isNbtError } from '../../../src/util/errors.js';

interface Call {
  action: string;
  args: Record<string, string>;
}

async function ipv6Gateway(t: TestContext, withFirewall = true) {
  const calls: Call[] = [];
  let forgetOnce = false;
  let nextId = 7;
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { port } = http.address() as AddressInfo;
      if (req.method === 'GET') {
        const service = withFirewall
          ? 'urn:schemas-upnp-org:service:WANIPv6FirewallControl:1'
          : 'urn:schemas-upnp-org:service:WANIPConnection:2';
        return void res.end(
          `<?xml version="1.0"?><root><device><serviceList><service><serviceType>${service}</serviceType>` +
            `<controlURL>http://[::1]:${port}/ctl/IP6FCtl</controlURL></service></serviceList></device></root>`,
        );
      }
      const action = /#(\w+)"/.exec(String(req.headers.soapaction))?.[1] ?? '';
      const args: Record<string, string> = {};
      for (const m of Buffer.concat(chunks)
        .toString()
        .matchAll(/<(\w+)>([^<]*)<\/\1>/g))
        args[m[1]!] = m[2]!;
      calls.push({ action, args });
      if (action === 'UpdatePinhole' && forgetOnce) {
        forgetOnce = false;
        res.statusCode = 500;
        return void res.end(
          '<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>704</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>',
        );
      }
      const out = action === 'AddPinhole' ? `<UniqueID>${nextId++}</UniqueID>` : '';
      res.end(`<s:Envelope><s:Body><u:${action}Response>${out}</u:${action}Response></s:Body></s:Envelope>`);
    });
  });
  await new Promise<void>((r) => http.listen(0, '::1', () => r()));
  const ssdp = createSocket('udp6');
  ssdp.on('message', (m, from) => {
    if (!m.toString().startsWith('M-SEARCH')) return;
    const { port } = http.address() as AddressInfo;
    ssdp.send(
      `HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\nUSN: uuid:t\r\n` +
        `LOCATION: http://[::1]:${port}/rootDesc.xml\r\n\r\n`,
      from.port,
      from.address,
    );
  });
  await new Promise<void>((r) => ssdp.bind(0, '::1', () => r()));
  t.after(() => new Promise<void>((r) => ssdp.close(() => r())));
  t.after(() => new Promise((r) => http.close(r)));
  const client = new UpnpPinholeClient({
    clock: systemClock,
    ssdpAddress: '::1',
    ssdpPort: ssdp.address().port,
    discoveryTimeoutMs: 1500,
  });
  t.after(() => client.close());
  return { calls, client, forget: () => (forgetOnce = true) };
}

test('UPnP pinholes: AddPinhole for our IPv6 address, UpdatePinhole by UniqueID, re-add on 704, DeletePinhole', async (t) => {
  const { calls, client, forget } = await ipv6Gateway(t);
  await assert.rejects(client.externalAddress(), (e) => isNbtError(e, 'UPNP_NO_PINHOLE'));
  assert.deepEqual(await client.map('tcp', 6881, 6881, 3600), { externalPort: 6881, leaseSec: 3600 });
  assert.equal(await client.externalAddress(), '::1');
  assert.deepEqual(calls[0], {
    action: 'AddPinhole',
    args: {
      RemoteHost: '',
      RemotePort: '0',
      InternalClient: '::1',
      InternalPort: '6881',
      Protocol: '6',
      LeaseTime: '3600',
    },
  });
  // Leases are 1 s to a day.
  await client.map('udp', 6881, 6881, 0);
  assert.equal(calls[1]!.args.Protocol, '17');
  assert.equal(calls[1]!.args.LeaseTime, '1');
  await client.map('tcp', 6881, 6881, 200_000);
  assert.deepEqual(calls[2], { action: 'UpdatePinhole', args: { UniqueID: '7', NewLeaseTime: '86400' } });
  forget();
  await client.map('tcp', 6881, 6881, 3600);
  assert.deepEqual(
    calls.slice(3).map((c) => c.action),
    ['UpdatePinhole', 'AddPinhole'],
  );
  await client.unmap('tcp', 6881);
  await client.unmap('udp', 6881);
  assert.deepEqual(calls.slice(5), [
    { action: 'DeletePinhole', args: { UniqueID: '9' } },
    { action: 'DeletePinhole', args: { UniqueID: '8' } },
  ]);
  await client.unmap('udp', 6881); // nothing left to delete
  assert.equal(calls.length, 7);
});

test('UPnP pinholes: a gateway without WANIPv6FirewallControl is UPNP_NO_FIREWALL_SERVICE', async (t) => {
  const { client } = await ipv6Gateway(t, false);
  await assert.rejects(
    client.map('tcp', 6881, 6881, 60),
    (e) => isNbtError(e, 'UPNP_NO_GATEWAY') && /no WANIPv6FirewallControl/.test(e.message),
  );
});
