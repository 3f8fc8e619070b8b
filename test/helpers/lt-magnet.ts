import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { peersDir } from './real-peers.js';
import { until } from '../unit/client/fixtures.js';

export interface LtEvent {
  event: string;
  port?: number;
  [k: string]: unknown;
}

/** test/peers/lt_magnet.py: libtorrent seeding a torrent or fetching a magnet link. */
export function ltMagnet(t: { after(fn: () => void): void }, args: string[]) {
  const proc = spawn('/usr/bin/python3', [join(peersDir, 'lt_magnet.py'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => proc.kill('SIGKILL'));
  const events: LtEvent[] = [];
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  createInterface({ input: proc.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as LtEvent);
    } catch {
      /* not ours */
    }
  });
  const waitFor = async (name: string, ms: number): Promise<LtEvent> => {
    await until(
      () => events.some((e) => e.event === name || e.event === 'error'),
      ms,
      `lt_magnet ${name}`,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(events.slice(-3))} ${stderr}`);
    });
    const e = events.find((x) => x.event === name);
    if (!e) throw new Error(`lt_magnet failed: ${JSON.stringify(events.slice(-3))} ${stderr}`);
    return e;
  };
  return { events, waitFor };
}
