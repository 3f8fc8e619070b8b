/** Runs the built `nbt daemon` as a child process (JSON-line log on stderr) for RPC tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './tmp.js';

export const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export class NbtDaemon {
  readonly log: Record<string, unknown>[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(
    readonly proc: ChildProcess,
    readonly rpcPort: number,
  ) {
    this.exit = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      try {
        this.log.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.log.push({ msg: line });
      }
    });
  }

  /** Starts the daemon and resolves once its RPC listens (it loads saved torrents first). */
  static async start(
    configDir: string,
    downloadDir: string,
    extra: string[] = [],
    timeoutMs = 20_000,
    /** Node flags before the script (e.g. `--max-semi-space-size=2`). */
    nodeFlags: string[] = [],
  ): Promise<NbtDaemon> {
    const rpcPort = await freePort();
    const args = [...nodeFlags, mainJs, 'daemon', '--config-dir', configDir, '--download-dir', downloadDir];
    args.push('--rpc-port', String(rpcPort), '--port', '0', '--no-dht', '--json', ...extra);
    const d = new NbtDaemon(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }), rpcPort);
    const t0 = Date.now();
    let exited = false;
    void d.exit.then(() => (exited = true));
    while (!d.log.some((l) => l['msg'] === 'rpc listening')) {
      if (exited || Date.now() - t0 > timeoutMs) {
        d.proc.kill('SIGKILL');
        throw new Error(`nbt daemon did not start: ${JSON.stringify(d.log)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return d;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exit;
  }
}
