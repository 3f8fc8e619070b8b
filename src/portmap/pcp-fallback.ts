/**
 * PCP first, NAT-PMP when the gateway does not speak it (RFC 6887 section 9): both use port
 * 5351, and a NAT-PMP-only server answers a version-2 request with "unsupported version", after
 * which this client speaks NAT-PMP for good. A gateway that never answered PCP at all gets one
 * NAT-PMP try too before the request fails (some NAT-PMP servers drop what they do not know).
 * The mapper name it reports is the protocol in use.
 */
import { isNbtError } from '../util/errors.js';
import type { MappingProtocol } from './natpmp-codec.js';
import type { NatPmpClient } from './natpmp-client.js';
import type { PcpClient } from './pcp-client.js';
import { PCP_UNSUPP_VERSION, PcpResultError } from './pcp-codec.js';
import type { MapperName, MappingProtocolClient, MappedPort } from './types.js';

export class PcpOrNatPmpClient implements MappingProtocolClient {
  private mode: 'unknown' | 'pcp' | 'natpmp' = 'unknown';

  constructor(
    private readonly pcp: PcpClient,
    private readonly natpmp: NatPmpClient,
  ) {}

  get name(): MapperName {
    return this.mode === 'natpmp' ? 'natpmp' : 'pcp';
  }

  /** Which protocol the gateway speaks, once known. */
  get protocol(): 'unknown' | 'pcp' | 'natpmp' {
    return this.mode;
  }

  externalAddress(): Promise<string> {
    return this.mode === 'natpmp' ? this.natpmp.externalAddress() : this.pcp.externalAddress();
  }

  async map(
    protocol: MappingProtocol,
    internalPort: number,
    externalPort: number,
    leaseSec: number,
  ): Promise<MappedPort> {
    if (this.mode !== 'natpmp') {
      try {
        const got = await this.pcp.map(protocol, internalPort, externalPort, leaseSec);
        this.mode = 'pcp';
        return got;
      } catch (e) {
        if (this.protocol === 'natpmp') {
          // Another request found out meanwhile (and closed the PCP client under this one).
        } else if (e instanceof PcpResultError && e.result === PCP_UNSUPP_VERSION) {
          this.useNatPmp();
        } else if (this.mode === 'unknown' && isNbtError(e, 'PCP_TIMEOUT') && !this.pcp.heard) {
          // Silent to PCP: NAT-PMP may still answer; if not, the PCP error is the one to report.
          const got = await this.natpmp.map(protocol, internalPort, externalPort, leaseSec).catch(() => {
            throw e;
          });
          this.useNatPmp();
          return got;
        } else throw e;
      }
    }
    return this.natpmp.map(protocol, internalPort, externalPort, leaseSec);
  }

  unmap(protocol: MappingProtocol, internalPort: number): Promise<void> {
    return this.mode === 'natpmp'
      ? this.natpmp.unmap(protocol, internalPort)
      : this.pcp.unmap(protocol, internalPort);
  }

  onGatewayReset(listener: () => void): void {
    this.pcp.onGatewayReset(() => this.mode !== 'natpmp' && listener());
    this.natpmp.onGatewayReset(() => this.mode === 'natpmp' && listener());
  }

  async close(): Promise<void> {
    await Promise.all([this.pcp.close(), this.natpmp.close()]);
  }

  private useNatPmp(): void {
    if (this.mode === 'natpmp') return;
    this.mode = 'natpmp';
    // Its socket is no longer needed.
    void this.pcp.close();
  }
}
