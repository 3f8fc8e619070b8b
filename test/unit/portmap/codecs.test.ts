/**
 * The pure port-mapping codecs: NAT-PMP's exact bytes (RFC 6886), SSDP answers, device
 * descriptions and SOAP (UPnP IGD), typed errors, the gateway-only URL rule, limits and fuzz.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESCRIPTION_MAX_BYTES,
  SSDP_MAX_INPUT,
  addPortMappingArgs,
  decodeNatPmpResponse,
  decodeSoapResponse,
  decodeSsdpAnswer,
  encodeExternalAddressRequest,
  encodeMSearch,
  encodeMapRequest,
  encodeSoapRequest,
  parseDeviceDescription,
  parseProcNetRoute,
} from '../../../src/portmap/index.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/tmp.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NbtError, `not an NbtError: ${String(e)}`);
    return e.code;
  }
  return 'no error';
}

test('NAT-PMP requests: the RFC 6886 layouts', () => {
  assert.deepEqual([...encodeExternalAddressRequest()], [0, 0]);
  assert.equal(encodeMapRequest('tcp', 6881, 6881, 3600).toString('hex'), '0002000' + '01ae11ae100000e10');
  assert.equal(encodeMapRequest('udp', 51413, 0, 0).toString('hex'), '00010000c8d5000000000000');
  assert.equal(
    code(() => encodeMapRequest('tcp', 0, 1, 1)),
    'NATPMP_BAD_REQUEST',
  );
  assert.equal(
    code(() => encodeMapRequest('tcp', 1, 70000, 1)),
    'NATPMP_BAD_REQUEST',
  );
  assert.equal(
    code(() => encodeMapRequest('tcp', 1, 1, -1)),
    'NATPMP_BAD_REQUEST',
  );
});

test('NAT-PMP answers: external address, mappings, result codes, malformed', () => {
  const ext = Buffer.from('008000000000002a2d2d2d2d', 'hex');
  assert.deepEqual(decodeNatPmpResponse(ext), {
    kind: 'external-address',
    epoch: 42,
    address: '45.45.45.45',
  });
  const map = Buffer.from('0082000000000007' + '1ae19c4000000e10', 'hex');
  assert.deepEqual(decodeNatPmpResponse(map), {
    kind: 'mapping',
    protocol: 'tcp',
    epoch: 7,
    internalPort: 6881,
    externalPort: 40000,
    lifetime: 3600,
  });
  assert.equal(
    decodeNatPmpResponse(Buffer.from('0081000000000007' + '1ae19c4000000e10', 'hex')).kind,
    'mapping',
  );
  assert.equal(
    code(() => decodeNatPmpResponse(Buffer.from('0082000200000007' + '1ae19c4000000e10', 'hex'))),
    'NATPMP_RESULT_2',
  );
  assert.equal(
    code(() => decodeNatPmpResponse(Buffer.from('00800003', 'hex'))),
    'NATPMP_RESULT_3',
  );
  assert.equal(
    code(() => decodeNatPmpResponse(Buffer.from('02800000', 'hex'))),
    'NATPMP_MALFORMED',
  );
  assert.equal(
    code(() => decodeNatPmpResponse(Buffer.from('0002000000000007', 'hex'))),
    'NATPMP_MALFORMED',
  );
  assert.equal(
    code(() => decodeNatPmpResponse(Buffer.from('008200000000', 'hex'))),
    'NATPMP_MALFORMED',
  );
  assert.equal(
    code(() => decodeNatPmpResponse(Buffer.from('00', 'hex'))),
    'NATPMP_MALFORMED',
  );
  assert.equal(
    code(() => decodeNatPmpResponse(Buffer.from('00c00000', 'hex'))),
    'NATPMP_MALFORMED',
  );
});

test('/proc/net/route: the default route with RTF_GATEWAY, little-endian hex', () => {
  const text =
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
    'eth0\t00094E0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' +
    'eth0\t00000000\t01094E0A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n';
  assert.equal(parseProcNetRoute(text), '10.78.9.1');
  assert.equal(parseProcNetRoute(text.split('\n').slice(0, 2).join('\n')), undefined);
  assert.equal(parseProcNetRoute('garbage'), undefined);
});

test('SSDP: the M-SEARCH, answers from the gateway itself only', () => {
  assert.equal(
    encodeMSearch().toString('latin1'),
    'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 2\r\n' +
      'ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n',
  );
  const answer = (location: string, st = 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'): Buffer =>
    Buffer.from(
      `HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: ${st}\r\nUSN: uuid:x::${st}\r\nLOCATION: ${location}\r\n\r\n`,
    );
  assert.deepEqual(decodeSsdpAnswer(answer('http://10.0.0.1:5000/rootDesc.xml'), '10.0.0.1'), {
    location: 'http://10.0.0.1:5000/rootDesc.xml',
    st: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
    usn: 'uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  });
  // Another host's URL, a name, https, credentials, not a gateway, not an answer: ignored.
  assert.equal(decodeSsdpAnswer(answer('http://10.0.0.9:5000/d.xml'), '10.0.0.1'), undefined);
  assert.equal(decodeSsdpAnswer(answer('http://router.lan:5000/d.xml'), '10.0.0.1'), undefined);
  assert.equal(decodeSsdpAnswer(answer('https://10.0.0.1/d.xml'), '10.0.0.1'), undefined);
  assert.equal(decodeSsdpAnswer(answer('http://u:p@10.0.0.1/d.xml'), '10.0.0.1'), undefined);
  assert.equal(decodeSsdpAnswer(answer('http://10.0.0.1/d.xml', 'upnp:rootdevice'), '10.0.0.1'), undefined);
  assert.equal(decodeSsdpAnswer(Buffer.from('M-SEARCH * HTTP/1.1\r\n\r\n'), '10.0.0.1'), undefined);
  assert.equal(decodeSsdpAnswer(Buffer.alloc(SSDP_MAX_INPUT + 1, 65), '10.0.0.1'), undefined);
});

const description = (controlURL: string, type = 'urn:schemas-upnp-org:service:WANIPConnection:1'): string =>
  `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><serviceList>` +
  `<service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/L3F</controlURL></service>` +
  `</serviceList><deviceList><device><deviceList><device><serviceList>` +
  `<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType><controlURL>/ppp</controlURL></service>` +
  `<service><serviceType>${type}</serviceType><controlURL>${controlURL}</controlURL></service>` +
  `</serviceList></device></deviceList></device></deviceList></device></root>`;

test('device description: the preferred WAN service, its control URL absolute and on the gateway', () => {
  const loc = 'http://10.0.0.1:5000/rootDesc.xml';
  assert.deepEqual(parseDeviceDescription(description('/ctl/IPConn'), loc), {
    serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1',
    controlUrl: 'http://10.0.0.1:5000/ctl/IPConn',
  });
  assert.equal(
    parseDeviceDescription(description('http://10.0.0.1:5000/a&amp;b'), loc).controlUrl,
    'http://10.0.0.1:5000/a&b',
  );
  // A control URL on another host: that service is skipped (WANPPPConnection remains).
  assert.equal(
    parseDeviceDescription(description('http://10.9.9.9/x'), loc).controlUrl,
    'http://10.0.0.1:5000/ppp',
  );
  assert.equal(
    code(() => parseDeviceDescription('<root/>', loc)),
    'UPNP_NO_WAN_SERVICE',
  );
  assert.equal(
    code(() => parseDeviceDescription('x'.repeat(DESCRIPTION_MAX_BYTES + 1), loc)),
    'UPNP_BAD_DESCRIPTION',
  );
});

test('SOAP: the request envelope (escaped), answers and faults', () => {
  const r = encodeSoapRequest(
    'urn:schemas-upnp-org:service:WANIPConnection:1',
    'AddPortMapping',
    addPortMappingArgs({
      externalPort: 6881,
      protocol: 'TCP',
      internalPort: 6881,
      internalClient: '10.0.0.2',
      description: 'a<b>&"c',
      leaseDuration: 3600,
    }),
  );
  assert.equal(r.soapAction, '"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"');
  const body = r.body.toString();
  assert.match(body, /<u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">/);
  assert.match(body, /<NewExternalPort>6881<\/NewExternalPort><NewProtocol>TCP<\/NewProtocol>/);
  assert.match(body, /<NewInternalClient>10\.0\.0\.2<\/NewInternalClient>/);
  assert.match(body, /<NewPortMappingDescription>a&#60;b&#62;&#38;&#34;c<\/NewPortMappingDescription>/);
  assert.match(body, /<NewLeaseDuration>3600<\/NewLeaseDuration>/);

  const ok =
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>' +
    '<u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress>45.45.45.45</NewExternalIPAddress>' +
    '</u:GetExternalIPAddressResponse></s:Body></s:Envelope>';
  assert.equal(decodeSoapResponse(200, ok).get('NewExternalIPAddress'), '45.45.45.45');
  const fault =
    '<s:Envelope><s:Body><s:Fault><faultcode>s:Client</faultcode><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">' +
    '<errorCode>725</errorCode><errorDescription>OnlyPermanentLeasesSupported</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>';
  assert.equal(
    code(() => decodeSoapResponse(500, fault)),
    'UPNP_FAULT_725',
  );
  assert.equal(
    code(() => decodeSoapResponse(500, 'oops')),
    'UPNP_HTTP_500',
  );
  assert.equal(
    code(() => decodeSoapResponse(200, 'no body')),
    'UPNP_BAD_ANSWER',
  );
});

test('fuzz: random and mutated inputs give a value or an NbtError, never another throw', () => {
  const rnd = prng(17);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  const natSeeds = [
    Buffer.from('008000000000002a2d2d2d2d', 'hex'),
    Buffer.from('0082000000000007' + '1ae19c4000000e10', 'hex'),
  ];
  const ssdpSeed = Buffer.from(
    'HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: http://10.0.0.1:5000/d.xml\r\n\r\n',
  );
  const xmlSeed = description('/ctl/IPConn');
  const soapSeed =
    '<s:Envelope><s:Body><u:R><NewExternalIPAddress>1.2.3.4</NewExternalIPAddress></u:R></s:Body></s:Envelope>';
  const mutate = (b: Buffer): Buffer => {
    const c = Buffer.from(b);
    for (let k = 0, n = 1 + Math.floor(rnd() * 4); k < n; k++)
      c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 256);
    return rnd() < 0.2 ? c.subarray(0, Math.floor(rnd() * c.length)) : c;
  };
  const safe = (fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof NbtError, `threw ${String(e)}`);
    }
  };
  for (let i = 0; i < 3000; i++) {
    safe(() => decodeNatPmpResponse(rnd() < 0.5 ? bytes(Math.floor(rnd() * 24)) : mutate(natSeeds[i % 2]!)));
    safe(() => decodeSsdpAnswer(rnd() < 0.3 ? bytes(Math.floor(rnd() * 300)) : mutate(ssdpSeed), '10.0.0.1'));
    safe(() =>
      parseDeviceDescription(mutate(Buffer.from(xmlSeed)).toString('latin1'), 'http://10.0.0.1:5000/d.xml'),
    );
    safe(() => decodeSoapResponse(rnd() < 0.5 ? 200 : 500, mutate(Buffer.from(soapSeed)).toString('latin1')));
  }
});

test('limits: huge hostile inputs are refused quickly', () => {
  const start = performance.now();
  safeCode(() => decodeSoapResponse(200, `<s:Body>${'<NewA>'.repeat(2000)}`));
  safeCode(() => parseDeviceDescription(`<service>${'<serviceType>'.repeat(5000)}`, 'http://10.0.0.1/d.xml'));
  safeCode(() => decodeSoapResponse(200, 'x'.repeat(1 << 20)));
  assert.ok(performance.now() - start < 2000);
});

function safeCode(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NbtError);
  }
}

test('IPv6 pinholes: the firewall service, AddPinhole/UpdatePinhole/DeletePinhole arguments, UniqueID', async () => {
  const m = await import('../../../src/portmap/index.js');
  const xml =
    '<root><device><serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPv6FirewallControl:1</serviceType>' +
    '<controlURL>/ctl/IP6FCtl</controlURL></service></serviceList></device></root>';
  assert.deepEqual(
    m.parseDeviceDescription(xml, 'http://[fd45::1]:5000/rootDesc.xml', m.IPV6_FIREWALL_SERVICE_TYPES),
    {
      serviceType: 'urn:schemas-upnp-org:service:WANIPv6FirewallControl:1',
      controlUrl: 'http://[fd45::1]:5000/ctl/IP6FCtl',
    },
  );
  assert.equal(
    code(() => m.parseDeviceDescription(xml, 'http://[fd45::1]:5000/d.xml')),
    'UPNP_NO_WAN_SERVICE',
  );
  assert.equal(
    code(() =>
      m.parseDeviceDescription(description('/c'), 'http://10.0.0.1/d.xml', m.IPV6_FIREWALL_SERVICE_TYPES),
    ),
    'UPNP_NO_FIREWALL_SERVICE',
  );
  assert.deepEqual(
    m.addPinholeArgs({ internalClient: 'fd45::2', internalPort: 6881, protocol: 'udp', leaseTime: 90_000 }),
    [
      ['RemoteHost', ''],
      ['RemotePort', 0],
      ['InternalClient', 'fd45::2'],
      ['InternalPort', 6881],
      ['Protocol', 17],
      ['LeaseTime', 86400],
    ],
  );
  assert.deepEqual(m.updatePinholeArgs(3, 0.5), [
    ['UniqueID', 3],
    ['NewLeaseTime', 1],
  ]);
  assert.deepEqual(m.deletePinholeArgs(3), [['UniqueID', 3]]);
  const soap = (id: string): Map<string, string> =>
    m.decodeSoapResponse(
      200,
      `<s:Envelope><s:Body><u:AddPinholeResponse><UniqueID>${id}</UniqueID></u:AddPinholeResponse></s:Body></s:Envelope>`,
    );
  assert.equal(m.pinholeId(soap('42')), 42);
  for (const bad of ['', '-1', '65536', '1e3', '999999'])
    assert.equal(
      code(() => m.pinholeId(soap(bad))),
      'UPNP_BAD_ANSWER',
      bad,
    );
  assert.match(m.encodeMSearch(undefined, undefined, 'ff02::c').toString(), /HOST: \[ff02::c\]:1900\r\n/);
});

test('SSDP over IPv6: a link-local answer may describe the gateway on an on-link address only', () => {
  const answer = (loc: string): Buffer =>
    Buffer.from(
      `HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\nLOCATION: ${loc}\r\n\r\n`,
    );
  const onLink = (h: string): boolean => h.startsWith('fd45:');
  assert.equal(
    decodeSsdpAnswer(answer('http://[fd45::1]:5000/d.xml'), 'fe80::1', onLink)?.location,
    'http://[fd45::1]:5000/d.xml',
  );
  assert.equal(decodeSsdpAnswer(answer('http://[2001:db8::9]:5000/d.xml'), 'fe80::1', onLink), undefined);
  assert.equal(decodeSsdpAnswer(answer('http://[fd45::1]:5000/d.xml'), 'fe80::1'), undefined);
  // Only a link-local sender gets the on-link allowance; IPv4 keeps the same-host rule.
  assert.equal(decodeSsdpAnswer(answer('http://[fd45::1]:5000/d.xml'), 'fd45::7', onLink), undefined);
  assert.equal(
    decodeSsdpAnswer(answer('http://10.0.0.9:5000/d.xml'), 'fe80::1', () => true),
    undefined,
  );
});
