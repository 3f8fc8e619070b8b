/**
 * A Client that only maps its ports, in its own process (run inside a network namespace by
 * portmap-netns.test.ts):  node portmap-child.js '{"port": 6881, "upnp": true, "natpmp": false, "pcp": false, "leaseSec": 6}'
 * Prints JSON lines: listening, port-mapped, port-mapping-error, closed. SIGTERM closes the
 * client (deleting the mappings) and exits.
 */
import { Client } from '../../src/client/index.js';

interface ChildArgs {
  port: number;
  upnp: boolean;
  natpmp: boolean;
  /** PCP first (with natpmp), else NAT-PMP only. */
  pcp: boolean;
  leaseSec: number;
  /** Listen host (default 0.0.0.0; '::' also opens an IPv6 pinhole through PCP). */
  host?: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const say = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const client = new Client({
  host: args.host ?? '0.0.0.0',
  port: args.port,
  dht: false,
  lsd: false,
  portMapping: {
    upnp: args.upnp,
    natpmp: args.natpmp,
    pcp: args.pcp,
    leaseSec: args.leaseSec,
    retryMs: 1000,
  },
});
client.on('port-mapped', (m, renewal) =>
  say({ event: 'port-mapped', ...m, renewal, announcePort: client.announcePort }),
);
client.on('port-mapping-error', (f) =>
  say({ event: 'port-mapping-error', mapper: f.mapper, protocol: f.protocol, message: f.error.message }),
);
client.on('warning', (e) => say({ event: 'warning', message: e.message }));
const port = await client.listen();
say({ event: 'listening', port });
process.once('SIGTERM', () => {
  void client.close().then(() => {
    say({ event: 'closed' });
    process.exit(0);
  });
});
