/**
 * IPv6 pinholes through UPnP IGDv2's WANIPv6FirewallControl:1: no translation, the gateway's
 * firewall lets any remote host reach our IPv6 address on the port. AddPinhole gives a
 * UniqueID that UpdatePinhole (renewal) and DeletePinhole name; a renewal of a pinhole the
 * gateway forgot (it restarted) adds it again. Discovery and SOAP are the UpnpClient's, with
 * the firewall service asked for (over IPv6 SSDP in real use: the control connection must come
 * from the pinhole's own address, which the gateway checks).
 */
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';
import type { MappingProtocol } from './natpmp-codec.js';
import { UpnpClient, type UpnpClientOptions } from './upnp-client.js';
import {
  IPV6_FIREWALL_SERVICE_TYPES,
  addPinholeArgs,
  deletePinholeArgs,
  pinholeId,
  pinholeLease,
  updatePinholeArgs,
} from './upnp-codec.js';
import type { MappedPort, MappingProtocolClient } from './types.js';

export interface UpnpPinholeClientOptions extends Omit<UpnpClientOptions, 'serviceTypes'> {
  /** Our IPv6 address to open (default: the local address of the control connection). */
  internalClient?: string;
}

export class UpnpPinholeClient implements MappingProtocolClient {
  readonly name = 'upnp';
  private readonly upnp: UpnpClient;
  private readonly ids = new Map<string, number>();
  private opened: string | undefined;

  constructor(private readonly o: UpnpPinholeClientOptions) {
    this.upnp = new UpnpClient({ ...o, serviceTypes: IPV6_FIREWALL_SERVICE_TYPES });
  }

  /** A pinhole translates nothing: the address from outside is ours. */
  externalAddress(): Promise<string> {
    return this.opened
      ? Promise.resolve(this.opened)
      : Promise.reject(new NbtError('UPNP_NO_PINHOLE', 'no pinhole opened yet'));
  }

  async map(
    protocol: MappingProtocol,
    internalPort: number,
    _externalPort: number,
    leaseSec: number,
  ): Promise<MappedPort> {
    const key = `${protocol}:${internalPort}`;
    const lease = pinholeLease(leaseSec);
    const id = this.ids.get(key);
    if (id !== undefined) {
      try {
        await this.upnp.call('UpdatePinhole', updatePinholeArgs(id, lease));
        return { externalPort: internalPort, leaseSec: lease };
      } catch (e) {
        // 704: no such entry (the gateway lost it); anything else is worth reporting.
        if (!(e instanceof NbtError && e.code === 'UPNP_FAULT_704')) throw e;
        this.ids.delete(key);
      }
    }
    const gw = await this.upnp.discover();
    const internalClient = this.o.internalClient ?? gw.localAddress.replace(/%.*$/, '');
    if (isIP(internalClient) !== 6)
      throw new NbtError('UPNP_NO_IPV6', `no IPv6 address to open a pinhole to (have "${internalClient}")`);
    const out = await this.upnp.call(
      'AddPinhole',
      addPinholeArgs({ internalClient, internalPort, protocol, leaseTime: lease }),
    );
    this.ids.set(key, pinholeId(out));
    this.opened = internalClient;
    return { externalPort: internalPort, leaseSec: lease };
  }

  async unmap(protocol: MappingProtocol, internalPort: number): Promise<void> {
    const key = `${protocol}:${internalPort}`;
    const id = this.ids.get(key);
    if (id === undefined) return;
    this.ids.delete(key);
    await this.upnp.call('DeletePinhole', deletePinholeArgs(id));
  }

  close(): Promise<void> {
    return this.upnp.close();
  }
}
