/**
 * Real proxy servers from Debian for the proxy tests: microsocks (SOCKS5 CONNECT with username
 * / password auth; no UDP), Dante's danted (SOCKS5 CONNECT and UDP ASSOCIATE) and tinyproxy
 * (HTTP CONNECT, Basic auth), the last two run from generated configs. Both stay in the foreground and are killed by `kill()`; `prefix` runs them in a
 * network namespace (NetnsLab.execPrefix).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from './opentracker.js';

abstract class Server {
  protected proc!: ChildProcess;
  private output = '';
  exit!: Promise<void>;

  protected start(argv: string[]): void {
    this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => void (this.output = (this.output + d.toString()).slice(-20_000));
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    this.exit = new Promise((resolve) => this.proc.once('exit', () => resolve()));
  }

  /** What the server printed (its log), for assertions and failure messages. */
  get log(): string {
    return this.output;
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exit;
  }
}

export class Microsocks extends Server {
  constructor(
    readonly host: string,
    readonly port: number,
    o: { username?: string; password?: string; bind?: string; prefix?: string[] } = {},
  ) {
    super();
    const args = ['microsocks', '-i', host, '-p', String(port)];
    if (o.username !== undefined) args.push('-u', o.username, '-P', o.password ?? '');
    if (o.bind) args.push('-b', o.bind);
    this.start([...(o.prefix ?? []), ...args]);
  }

  async ready(): Promise<void> {
    if (!(await readyOrExit(this, this.host, this.port)))
      throw new Error(`microsocks did not start: ${this.log}`);
  }
}

export interface DanteOptions {
  /** Address datagrams and outgoing connections leave from (default: `host`). */
  external?: string;
  prefix?: string[];
  /** Also allow SOCKS5 BIND (and its relayed connections). */
  bind?: boolean;
}

export class Dante extends Server {
  private readonly dir: string;

  constructor(
    readonly host: string,
    readonly port: number,
    o: DanteOptions = {},
  ) {
    super();
    this.dir = mkdtempSync(join(tmpdir(), 'nbt-dante-'));
    const conf = join(this.dir, 'danted.conf');
    writeFileSync(
      conf,
      [
        'logoutput: stderr',
        `internal: ${host} port = ${port}`,
        `external: ${o.external ?? host}`,
        'clientmethod: none',
        'socksmethod: none',
        'user.privileged: root',
        'user.unprivileged: nobody',
        // Dante's parser wants one keyword per line inside a rule.
        'client pass {\n from: 0.0.0.0/0 to: 0.0.0.0/0\n log: connect error\n}',
        `socks pass {\n from: 0.0.0.0/0 to: 0.0.0.0/0\n command: connect udpassociate${o.bind ? ' bind' : ''}\n log: connect error\n}`,
        `socks pass {\n from: 0.0.0.0/0 to: 0.0.0.0/0\n command: udpreply${o.bind ? ' bindreply' : ''}\n log: connect error\n}`,
        '',
      ].join('\n'),
    );
    this.start([...(o.prefix ?? []), 'danted', '-f', conf, '-N', '1', '-p', join(this.dir, 'danted.pid')]);
  }

  async ready(): Promise<void> {
    if (!(await readyOrExit(this, this.host, this.port)))
      throw new Error(`danted did not start: ${this.log}`);
  }

  override async kill(): Promise<void> {
    await super.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function readyOrExit(s: Server, host: string, port: number): Promise<boolean> {
  return Promise.race([waitForPort(host, port, 5_000).then(() => true), s.exit.then(() => false)]);
}

export class Tinyproxy extends Server {
  private readonly dir: string;

  constructor(
    readonly host: string,
    readonly port: number,
    o: { username?: string; password?: string } = {},
  ) {
    super();
    this.dir = mkdtempSync(join(tmpdir(), 'nbt-tinyproxy-'));
    const conf = join(this.dir, 'tinyproxy.conf');
    // No ConnectPort line: CONNECT to any port (peers are not on 443).
    const lines = [`Listen ${host}`, `Port ${port}`, 'Timeout 60', 'LogLevel Connect', 'MaxClients 50'];
    if (o.username !== undefined) lines.push(`BasicAuth ${o.username} ${o.password ?? ''}`);
    writeFileSync(conf, `${lines.join('\n')}\n`);
    this.start(['tinyproxy', '-d', '-c', conf]);
  }

  async ready(): Promise<void> {
    if (!(await readyOrExit(this, this.host, this.port)))
      throw new Error(`tinyproxy did not start: ${this.log}`);
  }

  override async kill(): Promise<void> {
    await super.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
