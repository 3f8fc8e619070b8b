/**
 * What `nbt download`, `nbt seed` and `nbt demo` print about a running torrent: a redrawn
 * progress line on a terminal (rate, peers, ETA), plain lines at each 10% otherwise, or JSON
 * lines (`--json`) for progress, every peer connect/disconnect, and the final summary.
 */
import type { Client, PortMapping, PortMappingFailure } from '../../client/index.js';
import type { Peer } from '../../peer/index.js';
import type { DisconnectInfo } from '../../peer/disconnect.js';
import type { Torrent } from '../../torrent/index.js';
import type { TrackerErrorInfo } from '../../tracker/index.js';
import type { WebSeedErrorInfo } from '../../torrent/web-seed.js';
import { formatBytes, formatDuration, formatRate, printable } from '../format.js';
import type { CliOutput } from '../types.js';
import type { FileErrorInfo } from '../../torrent/types.js';
import { NbtError } from '../../util/errors.js';
import { formatAddress, type PeerAddress } from '../../util/compact.js';

export type OutputMode = 'text' | 'json' | 'quiet';

export interface ReporterOptions {
  mode: OutputMode;
  verbose: boolean;
  /** Prefix for text lines (the demo names each client). */
  label?: string;
  /** Milliseconds between progress lines/redraws (default 1000 for JSON, 200 on a terminal). */
  intervalMs?: number;
  /** Where storage problems are written as one line each, whatever the mode (the CLI's stderr). */
  errors?: CliOutput;
}

export interface PeerRecord {
  address: string;
  peerId: string | null;
  client: string | null;
  source: string;
  /** 'tcp', 'utp', … (Peer.transport). */
  transport: string;
  encryption: string;
}

export function peerRecord(peer: Peer<unknown>): PeerRecord {
  return {
    address: peer.host.includes(':') ? `[${peer.host}]:${peer.port}` : `${peer.host}:${peer.port}`,
    peerId: peer.peerId ? Buffer.from(peer.peerId).toString('hex') : null,
    client: peer.peerId ? peer.clientName : null,
    source: peer.source.kind,
    transport: peer.transport,
    encryption: peer.encryption,
  };
}

/** Prints a torrent's life; `summary()` gives the final figures. */
export class SwarmReporter {
  readonly started = Date.now();
  /** Disconnect reason name → count, for connections that had joined this torrent or tried to. */
  readonly disconnects = new Map<string, { reason: number; count: number }>();
  peersSeen = 0;
  /** The torrent's error (its 'error' event), shown in the summary. */
  error: { code: string; message: string } | undefined;
  /** The last storage problem reported (recovered from or not). */
  fileError: FileErrorInfo | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDecile = -1;
  private drawn = false;
  private readonly detach: (() => void)[] = [];

  constructor(
    private readonly out: CliOutput,
    private readonly client: Client,
    private readonly torrent: Torrent,
    private readonly o: ReporterOptions,
  ) {
    const onConnect = (t: Torrent, peer: Peer<unknown>): void => {
      if (t !== torrent) return;
      this.peersSeen++;
      const rec = peerRecord(peer);
      if (o.mode === 'json') this.json({ event: 'peer-connect', ...rec });
      else if (o.verbose && o.mode === 'text')
        this.text(
          `peer ${rec.address} connected (${printable(rec.client ?? '?')}, ${rec.source}, ${rec.encryption})`,
        );
    };
    const onDisconnect = (peer: Peer<unknown>, info: DisconnectInfo, t: Torrent | undefined): void => {
      if (t !== undefined && t !== torrent) return;
      const d = this.disconnects.get(info.name) ?? { reason: info.reason, count: 0 };
      d.count++;
      this.disconnects.set(info.name, d);
      const rec = peerRecord(peer);
      if (o.mode === 'json')
        this.json({
          event: 'peer-disconnect',
          ...rec,
          reason: info.reason,
          reasonName: info.name,
          description: info.description,
          ...(info.errno ? { errno: info.errno } : {}),
          ...(info.message ? { message: info.message } : {}),
        });
      else if (o.verbose && o.mode === 'text')
        this.text(
          `peer ${rec.address} disconnected: ${info.name} (${info.reason}) ${printable(info.message ?? info.description)}`,
        );
    };
    const onTrackerError = (t: Torrent, info: TrackerErrorInfo): void => {
      if (t !== torrent) return;
      // The announce event travels as `announceEvent`: `event` names the line itself.
      this.event(
        'tracker-error',
        { url: info.url, announceEvent: info.event, code: info.code, message: info.message },
        `tracker ${printable(info.url)}: ${printable(info.message)}`,
      );
    };
    // Storage trouble must reach the user: a line on stderr (any mode) and a JSON event.
    const name = (): string => printable(torrent.metainfo.name);
    const onFileError = (info: FileErrorInfo): void => {
      this.fileError = info;
      o.errors?.write(`nbt: ${name()}: ${info.operation} failed: ${printable(info.message)}\n`);
      if (o.mode === 'json') this.json({ event: 'file-error', ...info });
    };
    const onError = (e: Error): void => {
      const code = e instanceof NbtError ? e.code : 'ERROR';
      this.error = { code, message: e.message };
      o.errors?.write(`nbt: ${name()}: torrent stopped with an error: ${printable(e.message)}\n`);
      if (o.mode === 'json') this.json({ event: 'error', code, message: e.message });
    };
    torrent.on('file-error', onFileError);
    const onLsdPeer = (t: Torrent, peer: PeerAddress): void => {
      if (t !== torrent) return;
      const address = formatAddress(peer);
      if (o.mode === 'json') this.json({ event: 'lsd-peer', address, source: 'lsd' });
      else if (o.verbose && o.mode === 'text') this.text(`peer ${address} found on the LAN (lsd)`);
    };
    torrent.on('error', onError);
    const onWebSeedError = (t: Torrent, info: WebSeedErrorInfo): void => {
      if (t !== torrent) return;
      const what = info.dropped ? 'dropped' : `retrying in ${Math.round((info.retryInMs ?? 0) / 1000)} s`;
      this.event(
        'web-seed-error',
        { ...info },
        `web seed ${printable(info.url)}: ${printable(info.message)} (${info.code}, ${what})`,
      );
    };
    const onMapped = (m: PortMapping, renewal: boolean): void => {
      if (renewal) return;
      const at = `${m.externalAddress ?? '?'}:${m.externalPort}`;
      this.event(
        'port-mapped',
        { ...m },
        `${m.protocol.toUpperCase()} port ${m.internalPort} mapped on the gateway (${m.mapper}): ${at}`,
      );
    };
    const onMapError = (f: PortMappingFailure): void => {
      const { mapper, protocol, internalPort } = f;
      const code = f.error instanceof NbtError ? f.error.code : 'ERROR';
      if (o.mode === 'json')
        this.json({
          event: 'port-mapping-error',
          mapper,
          protocol,
          internalPort,
          code,
          message: f.error.message,
        });
      else if (o.verbose && o.mode === 'text')
        this.text(`port mapping (${mapper}, ${protocol}) failed: ${printable(f.error.message)}`);
    };
    client.on('port-mapped', onMapped);
    client.on('port-mapping-error', onMapError);
    client.on('lsd-peer', onLsdPeer);
    client.on('peer-connect', onConnect);
    client.on('peer-disconnect', onDisconnect);
    client.on('tracker-error', onTrackerError);
    client.on('web-seed-error', onWebSeedError);
    this.detach.push(
      () => torrent.off('file-error', onFileError),
      () => torrent.off('error', onError),
      () => client.off('web-seed-error', onWebSeedError),
      () => client.off('lsd-peer', onLsdPeer),
      () => client.off('port-mapped', onMapped),
      () => client.off('port-mapping-error', onMapError),
      () => client.off('peer-connect', onConnect),
      () => client.off('peer-disconnect', onDisconnect),
      () => client.off('tracker-error', onTrackerError),
    );
  }

  /** Starts periodic progress output. */
  start(): void {
    const every = this.o.intervalMs ?? (this.o.mode === 'json' ? 1000 : 200);
    this.timer = setInterval(() => this.progress(), every);
    this.timer.unref();
  }

  /** One progress report now (a JSON line, a redraw, or a 10% line). */
  progress(force = false): void {
    const s = this.torrent.stats();
    if (this.o.mode === 'json') {
      this.json({
        event: 'progress',
        state: s.state,
        progress: Number(s.progress.toFixed(4)),
        bytesDone: s.bytesDone,
        length: s.length,
        pieces: s.pieces.have,
        piecesTotal: s.pieces.total,
        downloadRate: Math.round(s.downloadRate),
        uploadRate: Math.round(s.uploadRate),
        downloaded: s.sessionDownloaded,
        uploaded: s.sessionUploaded,
        peers: s.peers.total,
        eta: s.eta === undefined || !Number.isFinite(s.eta) ? null : Math.round(s.eta),
      });
      return;
    }
    if (this.o.mode === 'quiet') return;
    const pct = `${(s.progress * 100).toFixed(1)}%`;
    const line =
      `${this.o.label ? `${this.o.label} ` : ''}${s.state} ${pct} ${formatBytes(s.bytesDone)}/${formatBytes(s.length)}` +
      ` down ${formatRate(s.downloadRate)} up ${formatRate(s.uploadRate)} peers ${s.peers.total}` +
      (s.state === 'downloading' ? ` ETA ${formatDuration(s.eta ?? Infinity)}` : '');
    if (this.out.isTTY) {
      const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - line.length - 4));
      const filled = Math.round(s.progress * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${line}\x1b[K`);
      this.drawn = true;
    } else {
      const decile = Math.floor(s.progress * 10);
      if (!force && decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.out.write(`${line}\n`);
    }
  }

  /** A free-form event: a JSON line `{event, ...data}` (`event` always the name) or a text line. */
  event(event: string, data: Record<string, unknown>, text: string): void {
    // Assigning `event` again keeps it first in the line and stops `data` from overwriting it.
    if (this.o.mode === 'json') this.json(Object.assign({ event }, data, { event }));
    else if (this.o.mode === 'text') this.text(text);
  }

  /** Ends periodic progress output (peer events are still reported until `stop`). */
  stopProgress(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.endLine();
  }

  stop(): void {
    this.stopProgress();
    for (const d of this.detach.splice(0)) d();
  }

  /** The final figures (also what the JSON summary line holds). */
  summary(status: string): Record<string, unknown> {
    const s = this.torrent.stats();
    const elapsedMs = Date.now() - this.started;
    // A torrent in error says so, whatever the command thought it was doing.
    const failed = this.torrent.state === 'error' || status === 'error';
    return {
      event: 'summary',
      status: failed ? 'error' : status,
      ...(failed
        ? { error: this.error?.message ?? this.torrent.error?.message ?? 'unknown error' }
        : this.fileError
          ? { error: this.fileError.message }
          : {}),
      name: this.torrent.metainfo.name,
      infoHash: this.torrent.infoHashHex,
      savePath: this.torrent.savePath,
      complete: s.pieces.have === s.pieces.total,
      elapsedMs,
      length: s.length,
      bytesDone: s.bytesDone,
      downloaded: s.sessionDownloaded,
      uploaded: s.sessionUploaded,
      wasted: s.wasted,
      averageRate: elapsedMs > 0 ? Math.round((s.sessionDownloaded * 1000) / elapsedMs) : 0,
      pieces: s.pieces.have,
      piecesTotal: s.pieces.total,
      hashFailures: s.hashFailures,
      peers: this.peersSeen,
      disconnects: Object.fromEntries([...this.disconnects].map(([name, d]) => [name, d])),
    };
  }

  /** Prints the summary (JSON line, or a few text lines; quiet prints one line). */
  printSummary(summary: Record<string, unknown>, extraText: string[] = []): void {
    if (this.o.mode === 'json') {
      this.json(summary);
      return;
    }
    this.endLine();
    const n = (k: string): number => Number(summary[k] ?? 0);
    const secs = n('elapsedMs') / 1000;
    const head =
      `${this.o.label ? `${this.o.label} ` : ''}${String(summary['status'])}: ${printable(String(summary['name']))} ` +
      `${n('pieces')}/${n('piecesTotal')} pieces verified, down ${formatBytes(n('downloaded'))} ` +
      `up ${formatBytes(n('uploaded'))} in ${formatDuration(secs)} (avg ${formatRate(n('averageRate'))}), ` +
      `${n('peers')} peer${n('peers') === 1 ? '' : 's'}`;
    this.out.write(`${head}\n`);
    if (summary['error'] !== undefined) this.out.write(`  error: ${printable(String(summary['error']))}\n`);
    if (this.o.mode === 'quiet') return;
    if (this.disconnects.size > 0)
      this.out.write(
        `  disconnects: ${[...this.disconnects].map(([name, d]) => `${name} (${d.reason}) ×${d.count}`).join(', ')}\n`,
      );
    for (const l of extraText) this.out.write(`  ${l}\n`);
  }

  private endLine(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  private json(obj: Record<string, unknown>): void {
    const line = this.o.label ? { ...obj, who: this.o.label } : obj;
    this.out.write(`${JSON.stringify(line)}\n`);
  }

  private text(line: string): void {
    this.endLine();
    this.out.write(`${this.o.label ? `${this.o.label} ` : ''}${line}\n`);
  }
}
