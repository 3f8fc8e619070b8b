import { readFile, writeFile } from 'node:fs/promises';
import { DhtNode, type DhtNodeOptions } from '../../dht/index.js';
import { formatAddress, parseAddress } from '../../util/compact.js';
import { systemClock } from '../../util/clock.js';
import { NbtError } from '../../util/errors.js';
import { UsageError, parseCommandArgs, positionals } from '../args.js';
import type { Command, CliIO } from '../types.js';

const usage = `Usage: nbt dht [--port N] [--bootstrap HOST:PORT]... [--lookup INFOHASH]... [--json]

Runs a standalone Mainline DHT node: bootstraps, prints the routing table size and stats,
answers queries, and looks up peers for the given info-hashes. Stops on Ctrl-C.

Options:
  --port N                UDP port (default 6881; 0 = any)
  --host ADDR             address to bind (default 0.0.0.0; an IPv6 address runs an IPv6 node)
  --bootstrap HOST:PORT   bootstrap node (repeatable; default: the public routers)
  --lookup INFOHASH       40-hex info-hash to look up after bootstrapping (repeatable)
  --state FILE            load the routing table from FILE if it exists; save it on exit
  --read-only             BEP 43 read-only node (queries others, answers nothing)
  --interval SECONDS      status line every SECONDS (default 10)
  --duration SECONDS      exit after SECONDS (default: run until interrupted)
  --json                  JSON lines instead of text
`;

function parseInfoHash(s: string): Buffer {
  if (!/^[0-9a-fA-F]{40}$/.test(s)) throw new UsageError(`--lookup needs a 40-hex info-hash, got "${s}"`);
  return Buffer.from(s, 'hex');
}

function seconds(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0)) throw new UsageError(`--${name} needs a positive number of seconds`);
  return n;
}

async function loadState(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NbtError('CLI_READ', `cannot read DHT state ${path}: ${(e as Error).message}`);
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function printer(io: CliIO, json: boolean) {
  return (event: string, data: Record<string, unknown>, text: string): void => {
    io.stdout.write(json ? JSON.stringify({ event, ...data }) + '\n' : text + '\n');
  };
}

export const dhtCommand: Command = {
  name: 'dht',
  summary: 'run a standalone DHT node (routing table, lookups)',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      bootstrap: { type: 'string', multiple: true },
      lookup: { type: 'string', multiple: true },
      state: { type: 'string' },
      'read-only': { type: 'boolean' },
      interval: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean' },
    });
    positionals(pos, []);
    const port = values.port === undefined ? 6881 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port needs 0..65535, got "${values.port}"`);
    const bootstrap = values.bootstrap?.map((b) => {
      try {
        return parseAddress(b);
      } catch {
        throw new UsageError(`--bootstrap needs HOST:PORT, got "${b}"`);
      }
    });
    const lookups = (values.lookup ?? []).map(parseInfoHash);
    const intervalMs = seconds(values.interval, 'interval', 10) * 1000;
    const durationMs =
      values.duration === undefined ? undefined : seconds(values.duration, 'duration', 0) * 1000;
    const print = printer(io, values.json ?? false);

    const options: DhtNodeOptions = { port, readOnly: values['read-only'] ?? false };
    if (values.host) options.host = values.host;
    if (bootstrap) options.bootstrap = bootstrap;
    const saved = values.state ? await loadState(values.state) : undefined;
    const node = saved === undefined ? new DhtNode(options) : DhtNode.restore(saved, options);
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    io.signal.addEventListener('abort', onAbort, { once: true });
    const deadline = durationMs === undefined ? undefined : systemClock.setTimeout(onAbort, durationMs);
    const status = (): void => {
      const s = node.stats;
      print(
        'status',
        { ...s },
        `nodes ${s.nodes} (good ${s.goodNodes}), buckets ${s.buckets}, lookups ${s.lookups}, packets in/out ${s.packetsIn}/${s.packetsOut}, malformed ${s.malformedDropped}`,
      );
    };
    try {
      const addr = await node.listen();
      print(
        'listening',
        { address: formatAddress(addr), id: node.id.toString('hex') },
        `DHT node ${node.id.toString('hex')} on ${formatAddress(addr)}`,
      );
      const ticker = systemClock.setInterval(status, intervalMs);
      try {
        const { nodes } = await node.bootstrap();
        print('bootstrapped', { nodes }, `bootstrapped: ${nodes} nodes in the routing table`);
        for (const h of lookups) {
          if (stop.signal.aborted) break;
          const hex = h.toString('hex');
          const peers = await node.lookup(h);
          print(
            'lookup',
            { infoHash: hex, peers: peers.map(formatAddress) },
            `lookup ${hex}: ${peers.length} peers${peers.length ? ' ' + peers.slice(0, 20).map(formatAddress).join(' ') : ''}`,
          );
        }
        status();
        // With lookups and no duration, exit once they are done; otherwise serve until stopped.
        if (lookups.length === 0 || durationMs !== undefined) await untilAborted(stop.signal);
      } finally {
        ticker.cancel();
      }
      status();
      return 0;
    } finally {
      deadline?.cancel();
      io.signal.removeEventListener('abort', onAbort);
      if (values.state) await writeFile(values.state, JSON.stringify(node.toJSON()) + '\n');
      await node.close();
    }
  },
};
