/** What the port mapper needs from a protocol (UPnP IGD, NAT-PMP, PCP), and what it reports. */
import type { MappingProtocol } from './natpmp-codec.js';

export type { MappingProtocol };
export type MapperName = 'upnp' | 'natpmp' | 'pcp';

export interface MappedPort {
  externalPort: number;
  /** Seconds the gateway granted; 0: until deleted. */
  leaseSec: number;
}

export interface MappingProtocolClient {
  readonly name: MapperName;
  externalAddress(): Promise<string>;
  /** Maps `internalPort` (on our address), asking for `externalPort`, for `leaseSec` seconds. */
  map(
    protocol: MappingProtocol,
    internalPort: number,
    externalPort: number,
    leaseSec: number,
  ): Promise<MappedPort>;
  unmap(protocol: MappingProtocol, internalPort: number, externalPort: number): Promise<void>;
  /** Calls `listener` when the gateway lost its mappings (a NAT-PMP/PCP epoch reset). */
  onGatewayReset?(listener: () => void): void;
  close(): Promise<void>;
}

/** A mapping in place on the gateway. */
export interface PortMapping {
  mapper: MapperName;
  protocol: MappingProtocol;
  internalPort: number;
  externalPort: number;
  /** The gateway's external address (undefined when it would not say). */
  externalAddress: string | undefined;
  /** Seconds granted (0: permanent). */
  leaseSec: number;
}

export interface PortMappingFailure {
  mapper: MapperName;
  protocol: MappingProtocol;
  internalPort: number;
  error: Error;
}
