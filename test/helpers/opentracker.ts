/**
 * opentracker (test/peers/opentracker.sh) for interop tests, plus an HTTP scrape so tests can wait
 * until a seed has announced before starting a leech (otherwise the leech's first announce may
 * return no peers and the next one is minutes away).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { decode, dictGet, isDict, isInt } from '../../src/bencode/index.js';
import { peersDir } from './real-peers.js';

export interface OpenTrackerOptions {
  /** Address to bind (default 127.0.0.1), e.g. a NetnsLab's hostAddress. */
  host?: string;
  /** Argv prefix to run it elsewhere, e.g. lab.execPrefix(0). */
  prefix?: string[];
}

/** Resolves once host:port accepts TCP connections; rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${host}:${port} not accepting connections after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class OpenTracker {
  readonly proc: ChildProcess;
  readonly host: string;
  readonly exit: Promise<void>;
  /** Holds the whitelist; removed by kill(). */
  private readonly dir: string;
  private output = '';

  constructor(
    readonly port: number,
    infoHashesHex: string[],
    o: OpenTrackerOptions = {},
  ) {
    this.host = o.host ?? '127.0.0.1';
    this.dir = mkdtempSync(join(tmpdir(), 'nbt-opentracker-'));
    const argv = [
      ...(o.prefix ?? []),
      'sh',
      join(peersDir, 'opentracker.sh'),
      String(port),
      ...infoHashesHex,
    ];
    this.proc = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OT_HOST: this.host, OT_DIR: this.dir },
    });
    const keep = (d: Buffer): void => void (this.output = (this.output + d.toString()).slice(-2000));
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    this.exit = new Promise((resolve) => this.proc.once('exit', () => resolve()));
  }

  get announceUrl(): string {
    return `http://${this.host}:${this.port}/announce`;
  }

  /** Waits until the HTTP port answers. */
  async ready(timeoutMs = 5_000): Promise<void> {
    await Promise.race([
      waitForPort(this.host, this.port, timeoutMs),
      this.exit.then(() => {
        throw new Error(`opentracker exited: ${this.output}`);
      }),
    ]);
  }

  /** Seeders and leechers the tracker knows for the torrent (HTTP scrape). */
  scrape(infoHashHex: string): Promise<{ complete: number; incomplete: number }> {
    const hash = Buffer.from(infoHashHex, 'hex');
    const q = [...hash].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.host, port: this.port, path: `/scrape?info_hash=${q}`, timeout: 3_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const top = decode(Buffer.concat(chunks));
              const files = isDict(top) ? dictGet(top, 'files') : undefined;
              const entry = isDict(files) ? dictGet(files, hash.toString('latin1')) : undefined;
              const num = (k: string): number => {
                const v = isDict(entry) ? dictGet(entry, k) : undefined;
                return isInt(v) ? Number(v) : 0;
              };
              resolve({ complete: num('complete'), incomplete: num('incomplete') });
            } catch (e) {
              reject(e instanceof Error ? e : new Error(String(e)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('scrape timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  /** Polls scrape until at least `seeders` seeds are registered. */
  async waitForSeeders(infoHashHex: string, seeders = 1, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.scrape(infoHashHex);
      if (s.complete >= seeders) return;
      if (Date.now() > deadline) throw new Error(`tracker saw ${s.complete} seeders, wanted ${seeders}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exit;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
