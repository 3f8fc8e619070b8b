/**
 * A Client in its own process, for multi-process swarms, kill -9 tests and benchmarks.
 *   node child.js '{"torrent": "...", "save": "...", "peers": [port], ...}'
 * Prints JSON lines: listening {port}, state {state}, resume-saved, done {seconds}, closed.
 * SIGTERM closes the client cleanly; `exitOnDone` exits once the torrent is complete.
 */
import { Client, type ClientOptions } from '../../../src/client/index.js';
import type { EncryptionPolicy } from '../../../src/client/options.js';

interface ChildArgs {
  torrent: string;
  save: string;
  peers?: number[];
  host?: string;
  resumeDir?: string;
  resumeInterval?: number;
  encryption?: EncryptionPolicy;
  exitOnDone?: boolean;
  uploadRateLimit?: number;
  downloadRateLimit?: number;
  maxPerHost?: number;
  /** Print every verified piece. */
  pieces?: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const say = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const opts: ClientOptions = {
  host: args.host ?? '127.0.0.1',
  encryption: args.encryption ?? 'enabled',
  limits: { maxPerHost: args.maxPerHost ?? 10 },
};
if (args.resumeDir) opts.resumeDir = args.resumeDir;
if (args.resumeInterval) opts.resumeInterval = args.resumeInterval;
if (args.uploadRateLimit) opts.uploadRateLimit = args.uploadRateLimit;
if (args.downloadRateLimit) opts.downloadRateLimit = args.downloadRateLimit;
const client = new Client(opts);
// Keeps the process alive while the client works (engine timers are unref'd), and ends it if
// the parent died (a killed test runner must not leave us running).
const parent = process.ppid;
const keepAlive = setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1000);
const t0 = performance.now();
const port = await client.listen(0);
say({ event: 'listening', port });
const torrent = await client.addTorrent(args.torrent, { savePath: args.save });
let closing = false;
const finish = async (code: number): Promise<void> => {
  if (closing) return;
  closing = true;
  await client.close();
  say({ event: 'closed', stats: torrent.stats() });
  // No process.exit(): a clean close leaves no handle behind, so the process ends by itself.
  process.exitCode = code;
  clearInterval(keepAlive);
};
torrent.on('state', (state) => {
  say({ event: 'state', state, have: torrent.have.count });
  if (state === 'seeding') {
    say({ event: 'done', seconds: (performance.now() - t0) / 1000, stats: torrent.stats() });
    if (args.exitOnDone) void finish(0);
  }
  if (state === 'error') say({ event: 'error', message: torrent.error?.message });
});
if (args.pieces) torrent.on('piece-hash-pass', (index) => say({ event: 'piece', index }));
torrent.on('check-progress', (checked, total) => say({ event: 'check', checked, total }));
client.on('resume-saved', () => say({ event: 'resume-saved', have: torrent.have.count }));
for (const p of args.peers ?? []) torrent.addPeer('127.0.0.1', p);
process.on('SIGTERM', () => void finish(0));
