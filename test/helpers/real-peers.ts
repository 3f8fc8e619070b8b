/**
 * Real BitTorrent clients for interop tests. Locally a missing client skips the test with a
 * visible notice; under CI (CI=true) a missing client fails it, so CI always runs them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';

export type RealPeer =
  | 'libtorrent'
  | 'opentracker'
  | 'aria2'
  | 'transmission'
  | 'mktorrent'
  | 'curl'
  | 'ffmpeg'
  | 'chromium'
  | 'nginx'
  | 'flood'
  | 'microsocks'
  | 'dante'
  | 'tinyproxy';

const here = dirname(fileURLToPath(import.meta.url));
/** test/peers in the source tree (this file runs from dist/test/helpers). */
export const peersDir = join(here, '..', '..', '..', 'test', 'peers');
export const ltPeerScript = join(peersDir, 'lt_peer.py');
/** Flood (npm, a web UI for torrent clients), installed by scripts/install-test-peers.sh. */
export const floodEntry = join(
  process.env['NBT_FLOOD_DIR'] ?? '/opt/nbt-flood',
  'node_modules',
  'flood',
  'dist',
  'index.js',
);

const cache = new Map<RealPeer, boolean>();

export function peerInstalled(name: RealPeer): boolean {
  let ok = cache.get(name);
  if (ok === undefined) {
    const probe: Record<RealPeer, [string, string[]]> = {
      libtorrent: ['/usr/bin/python3', ['-c', 'import libtorrent']],
      opentracker: ['sh', ['-c', 'command -v opentracker']],
      aria2: ['sh', ['-c', 'command -v aria2c']],
      transmission: ['sh', ['-c', 'command -v transmission-daemon']],
      mktorrent: ['sh', ['-c', 'command -v mktorrent']],
      curl: ['sh', ['-c', 'command -v curl']],
      ffmpeg: ['sh', ['-c', 'command -v ffmpeg && command -v ffprobe']],
      chromium: ['sh', ['-c', 'command -v chromium']],
      nginx: ['sh', ['-c', 'test -x /usr/sbin/nginx']],
      flood: ['test', ['-f', floodEntry]],
      microsocks: ['sh', ['-c', 'command -v microsocks']],
      dante: ['sh', ['-c', 'test -x /usr/sbin/danted']],
      tinyproxy: ['sh', ['-c', 'command -v tinyproxy']],
    };
    const [cmd, args] = probe[name];
    ok = spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
    cache.set(name, ok);
  }
  return ok;
}

/**
 * Call at the top of an interop test: returns false (and skips) when the peer is missing
 * outside CI; throws under CI.
 */
export function requirePeer(t: TestContext, name: RealPeer): boolean {
  if (peerInstalled(name)) return true;
  const msg = `${name} is not installed (run: npm run peers)`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${msg}`);
  process.stderr.write(`NOTICE: skipping "${t.name}": ${msg}\n`);
  t.skip(msg);
  return false;
}

export interface LtEvent {
  event: string;
  [key: string]: unknown;
}

export interface LtPeerOptions {
  port?: number;
  enc?: 'disabled' | 'enabled' | 'forced';
  connect?: string[];
  timeout?: number;
  uploadLimit?: number;
  /** uTP as well as TCP; `utpOnly`: uTP only, TCP off both ways (tests a uTP stack). */
  utp?: boolean;
  utpOnly?: boolean;
  /** Listen address (default 127.0.0.1), e.g. a namespace's address from netns.ts. */
  host?: string;
  /** A leech keeps running (uploading to others) once complete, until killed. */
  stay?: boolean;
  /** Argv prefix to run it elsewhere, e.g. NetnsLab.execPrefix(i). */
  prefix?: string[];
}

/** A running lt_peer.py process with its JSON-lines output. */
export class LtPeer {
  readonly proc: ChildProcess;
  readonly events: LtEvent[] = [];
  private waiters: { pred: (e: LtEvent) => boolean; resolve: (e: LtEvent) => void }[] = [];
  private exited = false;
  readonly exit: Promise<number | null>;

  constructor(mode: 'seed' | 'leech' | 'check', torrent: string, dir: string, o: LtPeerOptions = {}) {
    const args = [
      ltPeerScript,
      mode,
      torrent,
      dir,
      '--port',
      String(o.port ?? 0),
      '--enc',
      o.enc ?? 'enabled',
    ];
    for (const c of o.connect ?? []) args.push('--connect', c);
    if (o.timeout) args.push('--timeout', String(o.timeout));
    if (o.uploadLimit) args.push('--upload-limit', String(o.uploadLimit));
    if (o.host) args.push('--host', o.host);
    if (o.utp) args.push('--utp');
    if (o.utpOnly) args.push('--utp-only');
    if (o.stay) args.push('--stay');
    const argv = [...(o.prefix ?? []), '/usr/bin/python3', ...args];
    this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exit = new Promise((resolve) =>
      this.proc.on('exit', (code) => {
        this.exited = true;
        resolve(code);
      }),
    );
    let stderr = '';
    this.proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let e: LtEvent;
      try {
        e = JSON.parse(line) as LtEvent;
      } catch {
        return;
      }
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
    });
    this.proc.on('exit', () => {
      if (stderr) this.events.push({ event: 'stderr', text: stderr });
    });
  }

  /** Resolves with the first event matching `name` (already seen or future); rejects on timeout or exit. */
  waitFor(name: string, timeoutMs = 60_000): Promise<LtEvent> {
    const seen = this.events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `lt_peer: no "${name}" event in ${timeoutMs} ms: ${JSON.stringify(this.events.slice(-5))}`,
            ),
          ),
        timeoutMs,
      );
      const done = (e: LtEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ pred: (e) => e.event === name, resolve: done });
      void this.exit.then(() => {
        setTimeout(() => {
          clearTimeout(timer);
          reject(new Error(`lt_peer exited before "${name}": ${JSON.stringify(this.events.slice(-5))}`));
        }, 50);
      });
    });
  }

  /** The port it listens on (waits for the 'listening' event). */
  async port(): Promise<number> {
    const e = await this.waitFor('listening');
    return Number(e.port);
  }

  kill(): Promise<void> {
    if (!this.exited) this.proc.kill('SIGKILL');
    return this.exit.then(() => undefined);
  }
}
