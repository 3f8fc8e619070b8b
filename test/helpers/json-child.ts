/**
 * A child process printing JSON lines (test/interop's netns children): every line kept, and a
 * wait for the first line matching that fails at its deadline or when the child is gone.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type JsonLine = Record<string, unknown> & { event: string };

export class JsonChild {
  readonly lines: JsonLine[] = [];
  private stderr = '';
  private readonly waiters: { pred: (l: JsonLine) => boolean; resolve: (l: JsonLine) => void }[] = [];
  /** The exit code. */
  readonly exited: Promise<number | null>;
  /** Its stdio closed too: every line it printed has been read (exit can come first). */
  private readonly ended: Promise<void>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
    this.ended = new Promise((r) => proc.once('close', () => r()));
    proc.stderr!.on('data', (d: Buffer) => void (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: proc.stdout! }).on('line', (text) => {
      let line: JsonLine;
      try {
        line = JSON.parse(text) as JsonLine;
      } catch {
        return;
      }
      this.lines.push(line);
      for (const w of this.waiters.filter((x) => x.pred(line))) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    });
  }

  has(pred: (l: JsonLine) => boolean): boolean {
    return this.lines.some(pred);
  }

  wait(what: string, pred: (l: JsonLine) => boolean, ms: number): Promise<JsonLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string): void =>
        reject(
          new Error(
            `${this.name}: ${why} waiting for ${what}; lines: ${this.tail()}; stderr: ${this.stderr}`,
          ),
        );
      const timer = setTimeout(() => fail(`nothing in ${ms} ms`), ms);
      this.waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.ended.then(async () => {
        clearTimeout(timer);
        fail(`exited (${await this.exited})`);
      });
    });
  }

  /** The last lines but progress reports, for failure messages. */
  tail(): string {
    return JSON.stringify(this.lines.filter((l) => l.event !== 'progress').slice(-12));
  }
}
