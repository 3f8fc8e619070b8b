/** Spawns test/unit/client/child.js and reads its JSON lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const childScript = join(dirname(fileURLToPath(import.meta.url)), 'child.js');

export interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

export class ClientChild {
  readonly proc: ChildProcess;
  readonly events: ChildEvent[] = [];
  readonly exit: Promise<number | null>;
  private waiters: { name: string; resolve: (e: ChildEvent) => void }[] = [];
  stderr = '';

  constructor(args: Record<string, unknown>) {
    this.proc = spawn(process.execPath, [childScript, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exit = new Promise((r) => this.proc.on('exit', (code) => r(code)));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let e: ChildEvent;
      try {
        e = JSON.parse(line) as ChildEvent;
      } catch {
        return;
      }
      this.events.push(e);
      const due = this.waiters.filter((w) => w.name === e.event);
      this.waiters = this.waiters.filter((w) => w.name !== e.event);
      for (const w of due) w.resolve(e);
    });
  }

  waitFor(name: string, ms = 30_000, pred: (e: ChildEvent) => boolean = () => true): Promise<ChildEvent> {
    const seen = this.events.find((e) => e.event === name && pred(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `child: no ${name} in ${ms} ms; stderr: ${this.stderr}; last: ${JSON.stringify(this.events.slice(-3))}`,
            ),
          ),
        ms,
      );
      const check = (e: ChildEvent): void => {
        if (!pred(e)) {
          this.waiters.push({ name, resolve: check });
          return;
        }
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ name, resolve: check });
      void this.exit.then(() =>
        setTimeout(() => {
          clearTimeout(timer);
          reject(new Error(`child exited before ${name}; stderr: ${this.stderr}`));
        }, 100),
      );
    });
  }

  async port(): Promise<number> {
    return Number((await this.waitFor('listening', 10_000)).port);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exit;
  }
}
