/** Runs the built `nbt` as a child process and follows its JSON-lines stdout. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const mainJs = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

export type JsonLine = Record<string, unknown> & { event: string };

export class NbtChild {
  readonly proc: ChildProcess;
  readonly lines: JsonLine[] = [];
  readonly text: string[] = [];
  stderr = '';
  readonly exit: Promise<number | null>;
  private waiters: { pred: (l: JsonLine) => boolean; resolve: (l: JsonLine) => void }[] = [];

  constructor(args: string[], killAfterMs = 20_000) {
    this.proc = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), killAfterMs);
    this.exit = new Promise((resolve) =>
      this.proc.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve(code ?? (signal ? -1 : null));
      }),
    );
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      this.text.push(line);
      let l: JsonLine;
      try {
        l = JSON.parse(line) as JsonLine;
      } catch {
        return;
      }
      this.lines.push(l);
      this.waiters = this.waiters.filter((w) => (w.pred(l) ? (w.resolve(l), false) : true));
    });
  }

  /** The first line matching `pred` (seen or future); rejects after `timeoutMs` or on exit. */
  waitFor(pred: (l: JsonLine) => boolean, timeoutMs = 15_000): Promise<JsonLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no such line in ${timeoutMs} ms: ${this.tail()}`)),
        timeoutMs,
      );
      void this.exit.then(() =>
        setTimeout(() => {
          clearTimeout(timer);
          reject(new Error(`nbt exited first: ${this.tail()}`));
        }, 100),
      );
      this.waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  events(name: string): JsonLine[] {
    return this.lines.filter((l) => l.event === name);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  tail(): string {
    return `stdout: ${this.text.slice(-5).join(' | ')} stderr: ${this.stderr}`;
  }
}
