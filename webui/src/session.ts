/**
 * The session: the status bar (global rates, limits, alt-speed toggle) and the session panel
 * (limits editor, the session counters: bytes by kind, connections by source and by close reason).
 */
import { action } from './api.js';
import { bytes, rate } from './format.js';
import { drawGraph, type SpeedHistory } from './graph.js';

export interface SessionState {
  dl: number;
  ul: number;
  torrents: number;
  altSpeed: boolean;
  dlLimit: number;
  ulLimit: number;
  altDlLimit: number;
  altUlLimit: number;
  downloadDir: string;
  counters: {
    payloadDownloaded: number;
    payloadUploaded: number;
    protocolDownloaded: number;
    protocolUploaded: number;
    wastedBytes: number;
    hashFailedBytes: number;
    piecesPassed: number;
    piecesFailed: number;
    connectionsOpen: number;
    connectionsOpened: Record<string, number>;
    connectionsJoined: Record<string, number>;
    connectionsClosed: Record<string, number>;
  };
}

function rows(host: HTMLElement, entries: [string, string][]): void {
  host.replaceChildren(
    ...entries.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

export class SessionView {
  last: SessionState | undefined;
  private readonly dialog = document.getElementById('session-dialog') as HTMLDialogElement;

  constructor(
    private readonly history: SpeedHistory,
    private readonly onError: (e: unknown) => void,
  ) {
    document.getElementById('alt-speed')!.addEventListener('click', () => {
      void action('transfer/toggleSpeedLimitsMode', {}).catch(onError);
    });
    document.getElementById('session-open')!.addEventListener('click', () => this.open());
    this.dialog.querySelector('.cancel')!.addEventListener('click', () => this.dialog.close());
    this.dialog.querySelector('form')!.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.saveLimits();
    });
  }

  update(s: SessionState): void {
    this.last = s;
    const limit = (n: number): string => (n > 0 ? ` (max ${rate(n)})` : '');
    document.getElementById('rate-down')!.textContent =
      `↓ ${rate(s.dl) || '0 B/s'}${limit(s.altSpeed ? s.altDlLimit : s.dlLimit)}`;
    document.getElementById('rate-up')!.textContent =
      `↑ ${rate(s.ul) || '0 B/s'}${limit(s.altSpeed ? s.altUlLimit : s.ulLimit)}`;
    const alt = document.getElementById('alt-speed')!;
    alt.setAttribute('aria-pressed', String(s.altSpeed));
    alt.textContent = s.altSpeed ? 'Alt speed: on' : 'Alt speed: off';
    document.getElementById('torrent-count')!.textContent =
      `${s.torrents} torrents · ${s.counters.connectionsOpen} connections`;
    if (this.dialog.open) this.fillCounters(s);
  }

  private open(): void {
    const s = this.last;
    if (s) {
      (document.getElementById('limit-down') as HTMLInputElement).value = String(
        Math.round(s.dlLimit / 1000),
      );
      (document.getElementById('limit-up') as HTMLInputElement).value = String(Math.round(s.ulLimit / 1000));
      this.fillCounters(s);
    }
    this.dialog.showModal();
  }

  private fillCounters(s: SessionState): void {
    drawGraph(document.getElementById('session-graph') as HTMLCanvasElement, this.history.values('session'));
    const c = s.counters;
    rows(document.getElementById('counters-bytes')!, [
      ['Payload received', bytes(c.payloadDownloaded)],
      ['Payload sent', bytes(c.payloadUploaded)],
      ['Protocol received', bytes(c.protocolDownloaded)],
      ['Protocol sent', bytes(c.protocolUploaded)],
      ['Wasted', bytes(c.wastedBytes)],
      ['Failed hash checks', `${bytes(c.hashFailedBytes)} (${c.piecesFailed} pieces)`],
      ['Pieces verified', String(c.piecesPassed)],
    ]);
    const nonzero = (r: Record<string, number>): [string, string][] =>
      Object.entries(r)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => [k, String(n)]);
    rows(document.getElementById('counters-opened')!, nonzero(c.connectionsOpened));
    rows(document.getElementById('counters-closed')!, nonzero(c.connectionsClosed));
  }

  private async saveLimits(): Promise<void> {
    const kb = (id: string): string =>
      String(Math.max(0, Number((document.getElementById(id) as HTMLInputElement).value) || 0) * 1000);
    try {
      await action('transfer/setDownloadLimit', { limit: kb('limit-down') });
      await action('transfer/setUploadLimit', { limit: kb('limit-up') });
      this.dialog.close();
    } catch (e) {
      this.onError(e);
    }
  }
}
