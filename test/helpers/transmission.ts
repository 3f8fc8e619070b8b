/**
 * A Transmission 3 peer (transmission-daemon in the foreground) for interop tests, driven by its
 * JSON RPC over node:http (no transmission-remote: we get typed numbers, not parsed tables).
 *
 * RPC: POST /transmission/rpc; the first request gets 409 with an X-Transmission-Session-Id
 * header, which every later request must carry (CSRF guard); a 409 later means it rotated.
 *
 * How Transmission finds peers: it has no RPC or CLI to add a peer address. It learns peers from
 * trackers, DHT, PEX, LPD and incoming connections, and it drops tracker/PEX/DHT peers on
 * 127.0.0.0/8 ("martian" addresses). So on loopback it can only seed to (or leech from) a peer
 * that connects to IT; for it to connect out, put each client in its own network namespace
 * (netns.ts) and use a tracker on the lab bridge.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, tempDir } from './tmp.js';

/** Transmission's own names; it cannot turn encryption off, only prefer plaintext. */
export type TransmissionEncryption = 'tolerated' | 'preferred' | 'required';

/** Our policy names (disabled/enabled/required) mapped onto Transmission's closest setting. */
export function transmissionEncryption(ours: 'disabled' | 'enabled' | 'required'): TransmissionEncryption {
  return ours === 'disabled' ? 'tolerated' : ours === 'enabled' ? 'preferred' : 'required';
}

const ENCRYPTION_SETTING: Record<TransmissionEncryption, number> = {
  tolerated: 0,
  preferred: 1,
  required: 2,
};

export interface TransmissionOptions {
  /** Peer listen port (default: a free one). */
  peerPort?: number;
  /** RPC port (default: a free one). */
  rpcPort?: number;
  encryption?: TransmissionEncryption;
  dht?: boolean;
  lpd?: boolean;
  pex?: boolean;
  utp?: boolean;
  /** Argv prefix to run the daemon elsewhere, e.g. lab.execPrefix(1). */
  prefix?: string[];
  /** Address the RPC is reached at (default 127.0.0.1; a namespace's address with `prefix`). */
  rpcHost?: string;
  /** KiB/s limits (0 or absent: unlimited). */
  uploadLimitKBps?: number;
  downloadLimitKBps?: number;
  /**
   * A config dir to use and keep (settings.json is rewritten, resume files stay), so a later
   * start finds the torrents again; default: a fresh temp dir removed by kill().
   */
  configDir?: string;
}

export interface TransmissionPeerInfo {
  address: string;
  port: number;
  clientName: string;
  isEncrypted: boolean;
  isIncoming: boolean;
  progress: number;
  /** Transmission's flag letters, e.g. 'T' = over uTP, 'E' = encrypted, 'I' = incoming. */
  flagStr: string;
}

export interface TransmissionStatus {
  id: number;
  hashString: string;
  /** 0 stopped, 1 check-wait, 2 checking, 3 download-wait, 4 downloading, 5 seed-wait, 6 seeding. */
  status: number;
  percentDone: number;
  leftUntilDone: number;
  peersConnected: number;
  rateDownload: number;
  rateUpload: number;
  downloadedEver: number;
  uploadedEver: number;
  error: number;
  errorString: string;
  peers: TransmissionPeerInfo[];
}

const STATUS_FIELDS = [
  'id',
  'hashString',
  'status',
  'percentDone',
  'leftUntilDone',
  'peersConnected',
  'rateDownload',
  'rateUpload',
  'downloadedEver',
  'uploadedEver',
  'error',
  'errorString',
  'peers',
];

export const TR_STATUS_SEEDING = 6;

interface RpcReply {
  result: string;
  arguments?: Record<string, unknown>;
}

export class TransmissionPeer {
  private sessionId = '';
  private output = '';
  private killed: Promise<void> | null = null;
  readonly exit: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly configDir: string,
    private readonly removeConfig: () => Promise<void>,
    readonly rpcHost: string,
    readonly rpcPort: number,
    readonly peerPort: number,
  ) {
    this.exit = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    const keep = (d: Buffer): void => void (this.output = (this.output + d.toString()).slice(-4000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
  }

  /** Starts the daemon with its own config dir and waits until its RPC answers. */
  static async start(o: TransmissionOptions = {}): Promise<TransmissionPeer> {
    const cfg = o.configDir
      ? { path: o.configDir, cleanup: async (): Promise<void> => {} }
      : await tempDir('nbt-transmission-');
    const rpcPort = o.rpcPort ?? (await freePort());
    const peerPort = o.peerPort ?? (await freePort());
    const inNamespace = (o.prefix?.length ?? 0) > 0;
    const settings = {
      'dht-enabled': o.dht ?? false,
      'lpd-enabled': o.lpd ?? false,
      'pex-enabled': o.pex ?? false,
      'utp-enabled': o.utp ?? false,
      encryption: ENCRYPTION_SETTING[o.encryption ?? 'preferred'],
      'peer-port': peerPort,
      'peer-port-random-on-start': false,
      'port-forwarding-enabled': false,
      'rpc-enabled': true,
      'rpc-port': rpcPort,
      'rpc-bind-address': inNamespace ? '0.0.0.0' : '127.0.0.1',
      'rpc-authentication-required': false,
      'rpc-whitelist-enabled': false,
      'rpc-host-whitelist-enabled': false,
      'download-dir': join(cfg.path, 'downloads'),
      'incomplete-dir-enabled': false,
      'watch-dir-enabled': false,
      'blocklist-enabled': false,
      'start-added-torrents': true,
      'download-queue-enabled': false,
      'seed-queue-enabled': false,
      'queue-stalled-enabled': false,
      'ratio-limit-enabled': false,
      'idle-seeding-limit-enabled': false,
      'speed-limit-up-enabled': (o.uploadLimitKBps ?? 0) > 0,
      'speed-limit-up': o.uploadLimitKBps ?? 0,
      'speed-limit-down-enabled': (o.downloadLimitKBps ?? 0) > 0,
      'speed-limit-down': o.downloadLimitKBps ?? 0,
      'alt-speed-enabled': false,
      'message-level': 2,
    };
    await writeFile(join(cfg.path, 'settings.json'), JSON.stringify(settings, null, 1));
    const argv = [...(o.prefix ?? []), 'transmission-daemon', '-f', '-g', cfg.path];
    const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const peer = new TransmissionPeer(
      proc,
      cfg.path,
      cfg.cleanup,
      o.rpcHost ?? '127.0.0.1',
      rpcPort,
      peerPort,
    );
    try {
      await peer.waitForRpc(10_000);
    } catch (e) {
      await peer.kill();
      throw e;
    }
    return peer;
  }

  /** The daemon's recent log output (for failure messages). */
  get log(): string {
    return this.output;
  }

  private async waitForRpc(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exit.then(() => (exited = true));
    for (;;) {
      try {
        await this.rpc('session-get');
        return;
      } catch (e) {
        if (exited) throw new Error(`transmission-daemon exited: ${this.output}`);
        if (Date.now() > deadline)
          throw new Error(`transmission RPC not ready: ${String(e)}; ${this.output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private post(body: string): Promise<{ status: number; sessionId: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.rpcHost,
          port: this.rpcPort,
          method: 'POST',
          path: '/transmission/rpc',
          timeout: 5_000,
          headers: { 'content-type': 'application/json', 'x-transmission-session-id': this.sessionId },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const sid = res.headers['x-transmission-session-id'];
            resolve({
              status: res.statusCode ?? 0,
              sessionId: typeof sid === 'string' ? sid : '',
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('transmission RPC timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** One RPC call; returns its `arguments`, throws when `result` is not "success". */
  async rpc(method: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const body = JSON.stringify({ method, arguments: args });
    let res = await this.post(body);
    if (res.status === 409) {
      this.sessionId = res.sessionId;
      res = await this.post(body);
    }
    if (res.status !== 200)
      throw new Error(`transmission ${method}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
    const reply = JSON.parse(res.text) as RpcReply;
    if (reply.result !== 'success') throw new Error(`transmission ${method}: ${reply.result}`);
    return reply.arguments ?? {};
  }

  /** Adds a .torrent (sent as metainfo, so the daemon need not see the path); returns its id. */
  async addTorrent(torrentPath: string, downloadDir: string, o: { paused?: boolean } = {}): Promise<number> {
    const metainfo = (await readFile(torrentPath)).toString('base64');
    const a = await this.rpc('torrent-add', {
      metainfo,
      'download-dir': downloadDir,
      paused: o.paused ?? false,
    });
    const t = (a['torrent-added'] ?? a['torrent-duplicate']) as { id?: number } | undefined;
    if (typeof t?.id !== 'number') throw new Error(`torrent-add gave no id: ${JSON.stringify(a)}`);
    return t.id;
  }

  start(id: number): Promise<Record<string, unknown>> {
    return this.rpc('torrent-start-now', { ids: [id] });
  }

  stop(id: number): Promise<Record<string, unknown>> {
    return this.rpc('torrent-stop', { ids: [id] });
  }

  verify(id: number): Promise<Record<string, unknown>> {
    return this.rpc('torrent-verify', { ids: [id] });
  }

  /** Asks for an announce now (Transmission may still hold it back to its minimum interval). */
  reannounce(id: number): Promise<Record<string, unknown>> {
    return this.rpc('torrent-reannounce', { ids: [id] });
  }

  remove(id: number, deleteData = false): Promise<Record<string, unknown>> {
    return this.rpc('torrent-remove', { ids: [id], 'delete-local-data': deleteData });
  }

  async status(id: number): Promise<TransmissionStatus> {
    const a = await this.rpc('torrent-get', { ids: [id], fields: STATUS_FIELDS });
    const list = a.torrents as TransmissionStatus[] | undefined;
    const s = list?.[0];
    if (!s) throw new Error(`transmission has no torrent ${id}`);
    return s;
  }

  /** Polls status every 100 ms until `pred` holds; rejects after timeoutMs with the last status. */
  async waitFor(
    id: number,
    pred: (s: TransmissionStatus) => boolean,
    timeoutMs: number,
    what = 'condition',
  ): Promise<TransmissionStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status(id);
      if (pred(s)) return s;
      // 1/2 are tracker warnings/errors (often transient); 3 is a local error (disk, data).
      if (s.error === 3) throw new Error(`transmission torrent error ${s.error}: ${s.errorString}`);
      if (Date.now() > deadline) {
        const { peers: _p, ...brief } = s;
        throw new Error(
          `transmission: no ${what} in ${timeoutMs} ms: ${JSON.stringify(brief)}; log: ${this.output}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Complete and seeding (after its hash check of existing data). */
  waitSeeding(id: number, timeoutMs = 20_000): Promise<TransmissionStatus> {
    return this.waitFor(
      id,
      (s) => s.percentDone === 1 && s.status === TR_STATUS_SEEDING,
      timeoutMs,
      'seeding',
    );
  }

  /** Download finished (percentDone 1 with nothing left). */
  waitDone(id: number, timeoutMs = 30_000): Promise<TransmissionStatus> {
    return this.waitFor(id, (s) => s.percentDone === 1 && s.leftUntilDone === 0, timeoutMs, 'completion');
  }

  /** SIGTERM and wait for the exit: Transmission saves its resume files on the way out. */
  async terminate(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.exit;
  }

  /** SIGKILL (no "stopped" announce, no shutdown delay), wait for exit, remove the config dir. */
  kill(): Promise<void> {
    this.killed ??= (async () => {
      if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
      await this.exit;
      await this.removeConfig();
    })();
    return this.killed;
  }
}
