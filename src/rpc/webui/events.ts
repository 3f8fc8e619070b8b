/**
 * GET /api/nbt/events: a server-sent event stream for the web UI. Once a second every open
 * stream gets `torrents` (the rows that changed since it was last sent any, and the hashes
 * removed; the first one is full), `session` (global rates, limits, alt speed, counters) and
 * `alerts` (the status, error and tracker alerts posted meanwhile, at most MAX_ALERTS a second).
 * A stream whose socket buffers more than MAX_BUFFERED skips rounds (it diffs against what it
 * last received, so it catches up); the number of streams is bounded.
 */
import type { ServerResponse } from 'node:http';
import type { Daemon } from '../../daemon/daemon.js';
import type { Alert } from '../../client/index.js';
import type { TimerHandle } from '../../util/clock.js';
import { disconnectName, type DisconnectReason } from '../../peer/disconnect.js';
import { torrentRow } from './rows.js';

const TICK_MS = 1000;
const MAX_STREAMS = 32;
const MAX_ALERTS = 100;
const MAX_BUFFERED = 1 << 20;
const FORWARDED = new Set(['status', 'error', 'tracker']);
const SKIPPED = new Set(['check-progress', 'resume-saved', 'settings-changed']);

interface Stream {
  res: ServerResponse;
  /** Row JSON last sent, by hash. */
  sent: Map<string, string>;
}

export class EventHub {
  private readonly streams = new Set<Stream>();
  private timer: TimerHandle | undefined;
  private alerts: Alert[] = [];
  private droppedAlerts = 0;
  /** Closed connections of each torrent by reason name (from peer-disconnect alerts). */
  private readonly disconnects = new Map<string, Record<string, number>>();
  private readonly onAlert = (a: Alert): void => this.alert(a);

  constructor(private readonly daemon: Daemon) {
    daemon.client.on('alert', this.onAlert);
  }

  /** Why the torrent's past connections ended, counted since the server started. */
  disconnectsOf(hash: string): Record<string, number> {
    return { ...this.disconnects.get(hash) };
  }

  /** Takes over the response as an event stream; false when there are too many already. */
  open(res: ServerResponse): boolean {
    if (this.streams.size >= MAX_STREAMS) return false;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const s: Stream = { res, sent: new Map() };
    this.streams.add(s);
    res.on('close', () => {
      this.streams.delete(s);
      if (this.streams.size === 0) this.stopTimer();
    });
    this.timer ??= this.daemon.client.options.clock.setInterval(() => this.tick(), TICK_MS);
    this.tick([s]);
    return true;
  }

  close(): void {
    this.daemon.client.off('alert', this.onAlert);
    this.stopTimer();
    for (const s of this.streams) s.res.end();
    this.streams.clear();
  }

  private stopTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private alert(a: Alert): void {
    if (a.type === 'peer-disconnect' && a.infoHash && a.joined) {
      const counts = this.disconnects.get(a.infoHash) ?? {};
      counts[a.name] = (counts[a.name] ?? 0) + 1;
      this.disconnects.set(a.infoHash, counts);
    }
    if (a.type === 'torrent-removed' && a.infoHash) this.disconnects.delete(a.infoHash);
    if (this.streams.size === 0 || !FORWARDED.has(a.category) || SKIPPED.has(a.type)) return;
    if (this.alerts.length >= MAX_ALERTS) this.droppedAlerts++;
    else this.alerts.push(a);
  }

  /** One round: rows computed once, each stream gets its own difference. */
  private tick(only?: Stream[]): void {
    const rows = new Map<string, string>();
    let dl = 0;
    let ul = 0;
    for (const e of this.daemon.list()) {
      const row = torrentRow(this.daemon, e);
      dl += row.dl;
      ul += row.ul;
      rows.set(row.hash, JSON.stringify(row));
    }
    const session = JSON.stringify(this.session(dl, ul, rows.size));
    const alerts = only ? '' : this.alertsEvent();
    for (const s of only ?? this.streams) {
      if (s.res.writableLength > MAX_BUFFERED) continue;
      const changed: string[] = [];
      for (const [hash, json] of rows)
        if (s.sent.get(hash) !== json) {
          changed.push(json);
          s.sent.set(hash, json);
        }
      const removed: string[] = [];
      for (const hash of s.sent.keys()) if (!rows.has(hash)) removed.push(hash);
      for (const hash of removed) s.sent.delete(hash);
      const full = only !== undefined;
      if (full || changed.length || removed.length)
        s.res.write(
          `event: torrents\ndata: {"full":${full},"rows":[${changed.join(',')}],"removed":${JSON.stringify(removed)}}\n\n`,
        );
      s.res.write(`event: session\ndata: ${session}\n\n${alerts}`);
    }
  }

  private alertsEvent(): string {
    if (this.alerts.length === 0 && this.droppedAlerts === 0) return '';
    const out = `event: alerts\ndata: ${JSON.stringify({ alerts: this.alerts, dropped: this.droppedAlerts })}\n\n`;
    this.alerts = [];
    this.droppedAlerts = 0;
    return out;
  }

  private session(dl: number, ul: number, torrents: number): Record<string, unknown> {
    const s = this.daemon.settings;
    const c = this.daemon.client.counters();
    const closed: Record<string, number> = {};
    for (const [code, n] of Object.entries(c.connectionsClosed))
      closed[disconnectName(Number(code) as DisconnectReason)] = n;
    return {
      dl,
      ul,
      torrents,
      altSpeed: s['alt-speed-enabled'],
      // Bytes per second; 0 = unlimited (the settings are in KB/s, as Transmission's).
      dlLimit: s['speed-limit-down-enabled'] ? s['speed-limit-down'] * 1000 : 0,
      ulLimit: s['speed-limit-up-enabled'] ? s['speed-limit-up'] * 1000 : 0,
      altDlLimit: s['alt-speed-down'] * 1000,
      altUlLimit: s['alt-speed-up'] * 1000,
      downloadDir: s['download-dir'],
      counters: { ...c, connectionsClosed: closed },
    };
  }
}
