/**
 * A real qbittorrent-nox (Debian) for parity tests: a temporary profile, the Web UI on
 * 127.0.0.1 at a free port, loopback clients let in without a login (LocalHostAuth=false), no
 * DHT/LSD/PeX/UPnP, and any peer port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './tmp.js';

export const QBITTORRENT_NOX = '/usr/bin/qbittorrent-nox';

export class QbittorrentNox {
  private constructor(
    readonly proc: ChildProcess,
    readonly port: number,
    readonly output: string[],
  ) {}

  static async start(profileDir: string, downloadDir: string): Promise<QbittorrentNox> {
    const port = await freePort();
    const conf = join(profileDir, 'qBittorrent', 'config');
    await mkdir(conf, { recursive: true });
    await writeFile(
      join(conf, 'qBittorrent.conf'),
      [
        '[LegalNotice]',
        'Accepted=true',
        '',
        '[BitTorrent]',
        'Session\\DHTEnabled=false',
        'Session\\LSDEnabled=false',
        'Session\\PeXEnabled=false',
        'Session\\Port=0',
        `Session\\DefaultSavePath=${downloadDir}`,
        '',
        '[Preferences]',
        'Connection\\UPnP=false',
        'WebUI\\LocalHostAuth=false',
        'WebUI\\Address=127.0.0.1',
        `WebUI\\Port=${port}`,
        'WebUI\\CSRFProtection=true',
        'General\\Locale=en',
        '',
      ].join('\n'),
    );
    const output: string[] = [];
    const proc = spawn(QBITTORRENT_NOX, [`--profile=${profileDir}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    proc.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    const q = new QbittorrentNox(proc, port, output);
    const t0 = Date.now();
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`qbittorrent-nox exited: ${output.join('')}`);
      const ok = await fetch(`http://127.0.0.1:${port}/api/v2/app/version`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return q;
      if (Date.now() - t0 > 20_000) {
        proc.kill('SIGKILL');
        throw new Error(`qbittorrent-nox did not start: ${output.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
