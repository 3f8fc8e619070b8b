/**
 * UPnP IGD messages, pure: the SSDP M-SEARCH and its answers, the device description (which
 * WAN*Connection service to control, and where), SOAP requests and their answers. Every input
 * is bounded (sizes, header and element counts) and bad input is an NbtError, never a throw of
 * anything else. URLs taken from a gateway must point at the gateway itself.
 */
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';

export const SSDP_GROUP = '239.255.255.250';
export const SSDP_PORT = 1900;
/** Largest SSDP answer read (they are a few hundred bytes). */
export const SSDP_MAX_INPUT = 2048;
/** Largest device description read (real ones are 2-10 KiB). */
export const DESCRIPTION_MAX_BYTES = 64 * 1024;
/** Largest SOAP answer read. */
export const SOAP_MAX_BYTES = 16 * 1024;

export const IGD_DEVICE_TYPE = 'urn:schemas-upnp-org:device:InternetGatewayDevice:1';
/** Services that map ports, preferred in this order. */
export const WAN_SERVICE_TYPES: readonly string[] = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
];

/** IGDv2's IPv6 firewall service: pinholes for our IPv6 address (no translation). */
export const IPV6_FIREWALL_SERVICE_TYPES: readonly string[] = [
  'urn:schemas-upnp-org:service:WANIPv6FirewallControl:1',
];
/** SSDP's IPv6 link-local group (UPnP Device Architecture 1.1, 1.1.2). */
export const SSDP_GROUP_V6 = 'ff02::c';

/** SOAP faults worth acting on (UPnP IGD WANIPConnection:1, section 2.4.16). */
export const UPNP_CONFLICT = 718;
export const UPNP_ONLY_PERMANENT_LEASES = 725;

export function encodeMSearch(searchTarget = IGD_DEVICE_TYPE, mx = 2, group = SSDP_GROUP): Buffer {
  const host = isIP(group) === 6 ? `[${group.replace(/%.*$/, '')}]` : group;
  return Buffer.from(
    'M-SEARCH * HTTP/1.1\r\n' +
      `HOST: ${host}:${SSDP_PORT}\r\n` +
      'MAN: "ssdp:discover"\r\n' +
      `MX: ${mx}\r\n` +
      `ST: ${searchTarget}\r\n\r\n`,
    'latin1',
  );
}

export interface SsdpAnswer {
  /** The device description URL. */
  location: string;
  st: string;
  usn: string;
}

/**
 * An SSDP answer (unicast 200 OK or a NOTIFY) from `from`; undefined when it is not one, not a
 * gateway, or its LOCATION points elsewhere than `from` (a LAN host must not send us to a third
 * party's HTTP server).
 */
export function decodeSsdpAnswer(
  data: Uint8Array,
  from: string,
  onLink?: (host: string) => boolean,
): SsdpAnswer | undefined {
  if (data.length > SSDP_MAX_INPUT) return undefined;
  const lines = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1').split('\r\n');
  const first = lines[0] ?? '';
  if (!/^HTTP\/1\.[01] 200\b/i.test(first) && !/^NOTIFY \* HTTP\/1\.[01]$/i.test(first)) return undefined;
  const h = new Map<string, string>();
  for (const line of lines.slice(1, 33)) {
    const i = line.indexOf(':');
    if (i > 0) h.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const st = h.get('st') ?? h.get('nt') ?? '';
  const location = h.get('location') ?? '';
  if (!/InternetGatewayDevice|WANIPConnection|WANPPPConnection/.test(st)) return undefined;
  // Over IPv6 a router answers from its link-local address and describes itself on a routable
  // one: accepted when that one is on our link (a prefix of the interface we searched on).
  const url =
    gatewayUrl(location, from) ??
    (/^fe[89ab]/i.test(from) && onLink ? gatewayUrl(location, undefined, onLink) : undefined);
  return url ? { location: url, st, usn: h.get('usn') ?? '' } : undefined;
}

/** `text` as an http: URL on host `host` (or one `allowed` takes), or undefined. */
function gatewayUrl(
  text: string,
  host: string | undefined,
  allowed?: (h: string) => boolean,
): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' || u.username || u.password) return undefined;
  const h = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(h) === 0) return undefined;
  return h === host || (allowed !== undefined && isIP(h) === 6 && allowed(h)) ? u.href : undefined;
}

export interface IgdService {
  serviceType: string;
  /** Absolute control URL (on the gateway's host). */
  controlUrl: string;
}

/**
 * The port-mapping service of a device description fetched from `location`: the first of
 * WAN_SERVICE_TYPES it offers, with its control URL made absolute (against URLBase or the
 * location) and required to be on the location's host.
 */
export function parseDeviceDescription(
  xml: string,
  location: string,
  serviceTypes: readonly string[] = WAN_SERVICE_TYPES,
): IgdService {
  if (xml.length > DESCRIPTION_MAX_BYTES)
    throw new NbtError('UPNP_BAD_DESCRIPTION', `device description over ${DESCRIPTION_MAX_BYTES} bytes`);
  const host = new URL(location).hostname.replace(/^\[|\]$/g, '');
  const base = textOf(xml, 'URLBase') ?? location;
  const found: IgdService[] = [];
  let from = 0;
  for (let n = 0; n < 64; n++) {
    const start = xml.indexOf('<service>', from);
    if (start < 0) break;
    const end = xml.indexOf('</service>', start);
    if (end < 0) break;
    from = end + 10;
    const block = xml.slice(start, end);
    const type = textOf(block, 'serviceType');
    const control = textOf(block, 'controlURL');
    if (!type || !control || !serviceTypes.includes(type)) continue;
    let abs: URL;
    try {
      abs = new URL(control, new URL(base, location));
    } catch {
      continue;
    }
    if (abs.protocol !== 'http:' || abs.hostname.replace(/^\[|\]$/g, '') !== host) continue;
    found.push({ serviceType: type, controlUrl: abs.href });
  }
  for (const type of serviceTypes) {
    const s = found.find((f) => f.serviceType === type);
    if (s) return s;
  }
  if (serviceTypes === IPV6_FIREWALL_SERVICE_TYPES)
    throw new NbtError('UPNP_NO_FIREWALL_SERVICE', 'the gateway offers no WANIPv6FirewallControl service');
  throw new NbtError('UPNP_NO_WAN_SERVICE', 'the gateway offers no WANIPConnection/WANPPPConnection service');
}

/** The unescaped text of the first `<tag>` (namespace prefixes allowed) in `xml`. */
function textOf(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${tag}(?:\\s[^>]{0,256})?>([^<]{0,2048})</`, 'i').exec(xml);
  return m ? unescapeXml(m[1]!.trim()) : undefined;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d{1,6}|#x[0-9a-f]{1,6});/gi, (_, e: string) => {
    const k = e.toLowerCase();
    if (k === 'lt') return '<';
    if (k === 'gt') return '>';
    if (k === 'amp') return '&';
    if (k === 'quot') return '"';
    if (k === 'apos') return "'";
    const code = k.startsWith('#x') ? parseInt(k.slice(2), 16) : parseInt(k.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface SoapRequest {
  /** The SOAPAction header value (quoted). */
  soapAction: string;
  body: Buffer;
}

/** A SOAP call of `action` on `serviceType` with its arguments, in order. */
export function encodeSoapRequest(
  serviceType: string,
  action: string,
  args: readonly (readonly [string, string | number])[],
): SoapRequest {
  const inner = args.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`).join('');
  const body =
    '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${escapeXml(serviceType)}">${inner}</u:${action}></s:Body>` +
    '</s:Envelope>\r\n';
  return { soapAction: `"${serviceType}#${action}"`, body: Buffer.from(body, 'utf8') };
}

export interface AddPortMappingArgs {
  externalPort: number;
  protocol: 'TCP' | 'UDP';
  internalPort: number;
  internalClient: string;
  description: string;
  /** Seconds; 0: permanent (until deleted). */
  leaseDuration: number;
}

export function addPortMappingArgs(a: AddPortMappingArgs): [string, string | number][] {
  return [
    ['NewRemoteHost', ''],
    ['NewExternalPort', a.externalPort],
    ['NewProtocol', a.protocol],
    ['NewInternalPort', a.internalPort],
    ['NewInternalClient', a.internalClient],
    ['NewEnabled', 1],
    ['NewPortMappingDescription', a.description.slice(0, 64)],
    ['NewLeaseDuration', a.leaseDuration],
  ];
}

export function deletePortMappingArgs(
  externalPort: number,
  protocol: 'TCP' | 'UDP',
): [string, string | number][] {
  return [
    ['NewRemoteHost', ''],
    ['NewExternalPort', externalPort],
    ['NewProtocol', protocol],
  ];
}

export interface AddPinholeArgs {
  /** Our IPv6 address the pinhole opens to. */
  internalClient: string;
  internalPort: number;
  protocol: 'tcp' | 'udp';
  /** Seconds, 1 to 86400 (WANIPv6FirewallControl:1 2.4.3). */
  leaseTime: number;
}

/** Pinhole leases must be within 1 s and a day. */
export function pinholeLease(sec: number): number {
  return Math.min(86400, Math.max(1, Math.floor(sec) || 1));
}

/** AddPinhole from any remote host and port (empty host and port 0 are wildcards). */
export function addPinholeArgs(a: AddPinholeArgs): [string, string | number][] {
  return [
    ['RemoteHost', ''],
    ['RemotePort', 0],
    ['InternalClient', a.internalClient],
    ['InternalPort', a.internalPort],
    ['Protocol', a.protocol === 'tcp' ? 6 : 17],
    ['LeaseTime', pinholeLease(a.leaseTime)],
  ];
}

export function updatePinholeArgs(uniqueId: number, leaseTime: number): [string, string | number][] {
  return [
    ['UniqueID', uniqueId],
    ['NewLeaseTime', pinholeLease(leaseTime)],
  ];
}

export function deletePinholeArgs(uniqueId: number): [string, string | number][] {
  return [['UniqueID', uniqueId]];
}

/** AddPinhole's UniqueID (0 to 65535). */
export function pinholeId(out: Map<string, string>): number {
  const text = out.get('UniqueID') ?? '';
  const id = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(id <= 0xffff)) throw new NbtError('UPNP_BAD_ANSWER', `pinhole UniqueID "${text.slice(0, 32)}"`);
  return id;
}

/**
 * A SOAP answer: the output arguments of a 200, or an NbtError UPNP_FAULT_<errorCode> for a
 * fault (UPNP_HTTP_<status> when a failed answer carries no UPnP error).
 */
export function decodeSoapResponse(status: number, body: string): Map<string, string> {
  if (body.length > SOAP_MAX_BYTES)
    throw new NbtError('UPNP_BAD_ANSWER', `SOAP answer over ${SOAP_MAX_BYTES} bytes`);
  if (status !== 200) {
    const code = textOf(body, 'errorCode');
    const description = textOf(body, 'errorDescription') ?? '';
    if (code && /^\d{1,4}$/.test(code))
      throw new NbtError(`UPNP_FAULT_${code}`, `UPnP error ${code}${description ? `: ${description}` : ''}`);
    throw new NbtError(`UPNP_HTTP_${status}`, `UPnP control answered HTTP ${status}`);
  }
  const m = /<(?:[A-Za-z_][\w.-]*:)?Body(?:\s[^>]{0,256})?>([\s\S]*)<\/(?:[A-Za-z_][\w.-]*:)?Body>/i.exec(
    body,
  );
  if (!m) throw new NbtError('UPNP_BAD_ANSWER', 'SOAP answer without a Body');
  const out = new Map<string, string>();
  for (const a of m[1]!.matchAll(/<(New[A-Za-z]{1,64}|UniqueID)(?:\s[^>]{0,256})?>([^<]{0,2048})<\/\1>/g)) {
    if (out.size >= 32) break;
    out.set(a[1]!, unescapeXml(a[2]!.trim()));
  }
  return out;
}
