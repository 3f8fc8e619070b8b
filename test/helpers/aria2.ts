/**
 * An aria2 peer (aria2c 1.36) for interop tests: seed or leech one .torrent, progress over its
 * JSON-RPC (always on, on a private port, fixed gid), completion from tellStatus.
 *
 * How aria2 finds peers: only trackers (plus DHT/LPD/PEX, which we turn off) and incoming
 * connections. It has no option or RPC to add a peer address, and it ignores a magnet's x.pe.
 * Unlike Transmission it accepts tracker peers on 127.0.0.1, so a loopback tracker works.
 * `trackers` replaces the torrent's announce list (--bt-exclude-tracker=* plus --bt-tracker).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { freePort } from './tmp.js';

export interface Aria2Options {
  /** BitTorrent listen port (default: a free one). */
  port?: number;
  rpcPort?: number;
  /** Refuse the plaintext handshake (--bt-require-crypto). */
  requireCrypto?: boolean;
  /** Lowest MSE method accepted (--bt-min-crypto-level), default plain. */
  minCryptoLevel?: 'plain' | 'arc4';
  /** Replace the torrent's trackers with these announce URLs. */
  trackers?: string[];
  /** Argv prefix to run elsewhere, e.g. lab.execPrefix(0); RPC then listens on all addresses. */
  prefix?: string[];
  /** Address the RPC is reached at (default 127.0.0.1; the namespace's address with `prefix`). */
  rpcHost?: string;
  /** Bytes/s upload limit (0: none). */
  uploadLimit?: number;
  /** Seed mode: skip the hash check of existing data (--bt-seed-unverified). */
  seedUnverified?: boolean;
  extraArgs?: string[];
}

export interface Aria2Status {
  /** active | waiting | paused | error | complete | removed */
  status: string;
  totalLength: number;
  completedLength: number;
  downloadSpeed: number;
  uploadSpeed: number;
  uploadLength: number;
  connections: number;
  seeder: boolean;
  errorCode: string;
  errorMessage: string;
}

const GID = '00000000000000a1';

export class Aria2Peer {
  readonly proc: ChildProcess;
  readonly exit: Promise<number | null>;
  private output = '';
  private rpcId = 0;

  private constructor(
    argv: string[],
    readonly port: number,
    readonly rpcPort: number,
    readonly rpcHost: string,
  ) {
    this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exit = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    const keep = (d: Buffer): void => void (this.output = (this.output + d.toString()).slice(-4000));
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
  }

  /** Seeds `torrent` from `dir` (data already there) until killed. */
  static seed(torrent: string, dir: string, o: Aria2Options = {}): Promise<Aria2Peer> {
    const mode = [
      '--seed-ratio=0.0',
      o.seedUnverified ? '--bt-seed-unverified=true' : '--check-integrity=true',
    ];
    return Aria2Peer.launch(torrent, dir, mode, o);
  }

  /** Downloads `torrent` into `dir`; stays up after completion so status stays readable. */
  static leech(torrent: string, dir: string, o: Aria2Options = {}): Promise<Aria2Peer> {
    return Aria2Peer.launch(torrent, dir, ['--seed-time=0'], o);
  }

  private static async launch(
    torrent: string,
    dir: string,
    mode: string[],
    o: Aria2Options,
  ): Promise<Aria2Peer> {
    const port = o.port ?? (await freePort());
    const rpcPort = o.rpcPort ?? (await freePort());
    const inNamespace = (o.prefix?.length ?? 0) > 0;
    const args = [
      '--no-conf=true',
      '--enable-dht=false',
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      `--listen-port=${port}`,
      `--dir=${dir}`,
      '--file-allocation=none',
      '--allow-overwrite=true',
      '--auto-save-interval=0',
      '--summary-interval=0',
      '--console-log-level=warn',
      '--enable-rpc=true',
      `--rpc-listen-port=${rpcPort}`,
      `--rpc-listen-all=${inNamespace}`,
      `--gid=${GID}`,
      // aria2 ends itself if the test process dies without cleaning up.
      `--stop-with-process=${process.pid}`,
      `--bt-require-crypto=${o.requireCrypto ?? false}`,
      `--bt-min-crypto-level=${o.minCryptoLevel ?? 'plain'}`,
      `--max-overall-upload-limit=${o.uploadLimit ?? 0}`,
      ...mode,
      ...(o.trackers ? ['--bt-exclude-tracker=*', `--bt-tracker=${o.trackers.join(',')}`] : []),
      ...(o.extraArgs ?? []),
      torrent,
    ];
    const argv = [...(o.prefix ?? []), 'aria2c', ...args];
    const peer = new Aria2Peer(argv, port, rpcPort, o.rpcHost ?? '127.0.0.1');
    try {
      await peer.waitForRpc(10_000);
    } catch (e) {
      await peer.kill();
      throw e;
    }
    return peer;
  }

  get log(): string {
    return this.output;
  }

  private async waitForRpc(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exit.then(() => (exited = true));
    for (;;) {
      try {
        await this.status();
        return;
      } catch (e) {
        if (exited) throw new Error(`aria2c exited: ${this.output}`);
        if (Date.now() > deadline) throw new Error(`aria2 RPC not ready: ${String(e)}; ${this.output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** One JSON-RPC call (POST /jsonrpc); throws on an RPC error. */
  rpc(method: string, params: unknown[] = []): Promise<unknown> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: String(++this.rpcId), method, params });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.rpcHost,
          port: this.rpcPort,
          method: 'POST',
          path: '/jsonrpc',
          timeout: 5_000,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                result?: unknown;
                error?: { message?: string };
              };
              if (r.error) reject(new Error(`aria2 ${method}: ${r.error.message ?? 'error'}`));
              else resolve(r.result);
            } catch (e) {
              reject(e instanceof Error ? e : new Error(String(e)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('aria2 RPC timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  async status(): Promise<Aria2Status> {
    const r = (await this.rpc('aria2.tellStatus', [GID])) as Record<string, string | undefined>;
    const n = (k: string): number => Number(r[k] ?? 0);
    return {
      status: r.status ?? '',
      totalLength: n('totalLength'),
      completedLength: n('completedLength'),
      downloadSpeed: n('downloadSpeed'),
      uploadSpeed: n('uploadSpeed'),
      uploadLength: n('uploadLength'),
      connections: n('connections'),
      seeder: r.seeder === 'true',
      errorCode: r.errorCode ?? '',
      errorMessage: r.errorMessage ?? '',
    };
  }

  /** Polls every 100 ms until `pred` holds; rejects on timeout, RPC error state or exit. */
  async waitFor(
    pred: (s: Aria2Status) => boolean,
    timeoutMs: number,
    what = 'condition',
  ): Promise<Aria2Status> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status();
      if (pred(s)) return s;
      if (s.status === 'error')
        throw new Error(`aria2 error ${s.errorCode}: ${s.errorMessage}; ${this.output}`);
      if (Date.now() > deadline) {
        throw new Error(`aria2: no ${what} in ${timeoutMs} ms: ${JSON.stringify(s)}; ${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Leech finished: all bytes verified (aria2 reports 'complete' with --seed-time=0). */
  waitDone(timeoutMs = 30_000): Promise<Aria2Status> {
    return this.waitFor(
      (s) =>
        s.status === 'complete' || (s.totalLength > 0 && s.completedLength === s.totalLength && s.seeder),
      timeoutMs,
      'completion',
    );
  }

  /** Seed ready: hash check passed and seeding. */
  waitSeeding(timeoutMs = 20_000): Promise<Aria2Status> {
    return this.waitFor((s) => s.seeder && s.status === 'active', timeoutMs, 'seeding');
  }

  kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    return this.exit.then(() => undefined);
  }
}
