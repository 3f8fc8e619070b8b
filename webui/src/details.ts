/**
 * The details of one torrent, in a side panel with tabs: files (a tree, file-tree.ts),
 * peers (address, client, transport, encryption, rates; why past connections ended), trackers,
 * a piece map and a speed graph. Refreshed every two seconds while open.
 */
import { action, getJson, type TorrentRow } from './api.js';
import { bytes, percent, rate, stateLabel } from './format.js';
import { drawGraph, type SpeedHistory } from './graph.js';
import { FileTree, type FileInfo } from './file-tree.js';

interface PeerInfo {
  address: string;
  client: string;
  transport: string;
  encryption: string;
  incoming: boolean;
  source: string;
  flags: string;
  flagsDesc: string;
  dl: number;
  ul: number;
  progress: number;
}
interface TrackerInfo {
  url: string;
  tier: number;
  status: number;
  num_seeds: number;
  num_leeches: number;
  msg: string;
}
interface Details {
  row: TorrentRow;
  infoHash: string;
  pieceLength: number;
  files: FileInfo[];
  peers: PeerInfo[];
  trackers: TrackerInfo[];
  pieces: string;
  disconnects: Record<string, number>;
}

const TRACKER_STATUS = ['Disabled', 'Not contacted', 'Working', 'Updating', 'Not working'];
const TABS = ['files', 'peers', 'trackers', 'pieces', 'speed'] as const;
type Tab = (typeof TABS)[number];

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  cls?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function table(head: string[], rows: (string | Node)[][], numeric: number[] = []): HTMLTableElement {
  const t = el('table');
  const tr = el('tr');
  head.forEach((h, i) => {
    const th = el('th', h, numeric.includes(i) ? 'num' : undefined);
    th.scope = 'col';
    tr.append(th);
  });
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(tr);
  for (const r of rows) {
    const row = el('tr');
    r.forEach((c, i) => {
      const td = el('td', undefined, numeric.includes(i) ? 'num' : undefined);
      td.append(c);
      row.append(td);
    });
    t.tBodies[0]!.append(row);
  }
  return t;
}

export class DetailsPanel {
  private hash: string | undefined;
  private tab: Tab = 'files';
  private timer = 0;
  private readonly fileTree: FileTree;

  constructor(
    private readonly panel: HTMLElement,
    private readonly history: SpeedHistory,
    private readonly onError: (e: unknown) => void,
  ) {
    this.fileTree = new FileTree(panel.querySelector('#tab-files')!, (indexes, priority) => {
      const hash = this.hash;
      if (!hash) return;
      void action('torrents/filePrio', { hash, id: indexes.join('|'), priority: String(priority) })
        .then(() => this.load())
        .catch(this.onError);
    });
    panel.querySelector('.close')!.addEventListener('click', () => this.close());
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
    });
    const tabs = panel.querySelectorAll<HTMLButtonElement>('[role=tab]');
    tabs.forEach((b) =>
      b.addEventListener('click', () => {
        this.tab = b.dataset['tab'] as Tab;
        this.showTab();
        void this.load();
      }),
    );
    panel.querySelector('[role=tablist]')!.addEventListener('keydown', (e) => {
      const k = (e as KeyboardEvent).key;
      if (k !== 'ArrowRight' && k !== 'ArrowLeft') return;
      const i = (TABS.indexOf(this.tab) + (k === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length;
      this.tab = TABS[i]!;
      this.showTab();
      panel.querySelector<HTMLElement>(`[data-tab=${this.tab}]`)!.focus();
      void this.load();
    });
  }

  /** A second passed (the event stream's session event): redraw the speed graph. */
  tick(): void {
    if (this.hash && this.tab === 'speed') this.speed();
  }

  private speed(): void {
    const host = this.panel.querySelector('#tab-speed')!;
    let canvas = host.querySelector('canvas');
    if (!canvas) {
      canvas = el('canvas', undefined, 'graph');
      canvas.setAttribute('role', 'img');
      host.replaceChildren(canvas);
    }
    drawGraph(canvas, this.history.values(this.hash!));
  }

  get openHash(): string | undefined {
    return this.hash;
  }

  open(hash: string): void {
    this.hash = hash;
    this.panel.hidden = false;
    this.showTab();
    void this.load();
    clearInterval(this.timer);
    this.timer = window.setInterval(() => void this.load(), 2000);
    this.panel.querySelector<HTMLElement>(`[data-tab=${this.tab}]`)!.focus();
  }

  close(): void {
    this.hash = undefined;
    this.panel.hidden = true;
    clearInterval(this.timer);
    document.getElementById('list')?.focus();
  }

  private showTab(): void {
    this.panel.querySelectorAll<HTMLButtonElement>('[role=tab]').forEach((b) => {
      const on = b.dataset['tab'] === this.tab;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    });
    this.panel
      .querySelectorAll<HTMLElement>('[role=tabpanel]')
      .forEach((p) => (p.hidden = p.id !== `tab-${this.tab}`));
  }

  private async load(): Promise<void> {
    const hash = this.hash;
    if (!hash) return;
    let d: Details;
    try {
      d = await getJson<Details>(`/api/nbt/torrent?hash=${hash}`);
    } catch (e) {
      this.close();
      this.onError(e);
      return;
    }
    if (hash !== this.hash) return;
    const r = d.row;
    this.panel.querySelector('.title')!.textContent = r.name;
    this.panel.querySelector('.summary')!.textContent =
      `${stateLabel(r.state)} · ${percent(r.progress)} of ${bytes(r.size)} · ↓ ${rate(r.dl) || '0'} · ↑ ${rate(r.ul) || '0'} · ratio ${r.ratio.toFixed(2)} · ${r.savePath} · ${d.infoHash}`;
    if (this.tab === 'files') this.files(d);
    else if (this.tab === 'peers') this.peers(d);
    else if (this.tab === 'trackers') this.trackers(d);
    else if (this.tab === 'pieces') this.pieces(d);
    else this.speed();
  }

  private files(d: Details): void {
    this.fileTree.show(d.infoHash, d.files);
  }

  private peers(d: Details): void {
    const host = this.panel.querySelector('#tab-peers')!;
    const rows = d.peers.map((p) => {
      const flags = el('abbr', p.flags);
      flags.title = p.flagsDesc;
      return [
        p.address,
        p.client,
        p.transport === 'utp' ? 'µTP' : 'TCP',
        p.encryption === 'rc4' ? 'RC4' : 'plain',
        [p.incoming ? 'incoming' : 'outgoing', p.source].join(', '),
        flags,
        rate(p.dl),
        rate(p.ul),
        percent(p.progress),
      ];
    });
    const past = Object.entries(d.disconnects).sort((a, b) => b[1] - a[1]);
    host.replaceChildren(
      d.peers.length
        ? table(
            ['Address', 'Client', 'Transport', 'Encryption', 'Connection', 'Flags', 'Down', 'Up', 'Has'],
            rows,
            [6, 7, 8],
          )
        : el('p', 'No connected peers.'),
      el('h3', 'Past connections ended by'),
      past.length
        ? table(
            ['Reason', 'Count'],
            past.map(([k, n]) => [k, String(n)]),
            [1],
          )
        : el('p', 'None yet.'),
    );
  }

  private trackers(d: Details): void {
    const rows = d.trackers.map((t) => [
      t.url,
      t.tier < 0 ? '' : String(t.tier),
      TRACKER_STATUS[t.status] ?? String(t.status),
      t.num_seeds < 0 ? '' : String(t.num_seeds),
      t.num_leeches < 0 ? '' : String(t.num_leeches),
      t.msg,
    ]);
    this.panel
      .querySelector('#tab-trackers')!
      .replaceChildren(table(['URL', 'Tier', 'Status', 'Seeds', 'Leechers', 'Message'], rows, [1, 3, 4]));
  }

  /** Pieces as cells on a canvas, wrapped to the panel's width. */
  private pieces(d: Details): void {
    const host = this.panel.querySelector('#tab-pieces')!;
    let canvas = host.querySelector('canvas');
    if (!canvas) {
      canvas = el('canvas');
      canvas.setAttribute('role', 'img');
      host.replaceChildren(el('p', '', 'legend'), canvas);
    }
    const n = d.pieces.length;
    const have = [...d.pieces].filter((c) => c === '2').length;
    host.querySelector('.legend')!.textContent = `${have} of ${n} pieces (${bytes(d.pieceLength)} each)`;
    canvas.setAttribute('aria-label', `Piece map: ${have} of ${n} pieces verified`);
    const width = Math.max(100, host.clientWidth - 4);
    const cell = n > 4000 ? 3 : n > 1000 ? 5 : 9;
    const perRow = Math.max(1, Math.floor(width / cell));
    canvas.width = perRow * cell;
    canvas.height = Math.max(cell, Math.ceil(n / perRow) * cell);
    const g = canvas.getContext('2d')!;
    const style = getComputedStyle(this.panel);
    const on = style.getPropertyValue('--accent').trim() || '#3a7';
    const off = style.getPropertyValue('--muted-bg').trim() || '#ccc';
    for (let i = 0; i < n; i++) {
      g.fillStyle = d.pieces[i] === '2' ? on : off;
      g.fillRect((i % perRow) * cell, Math.floor(i / perRow) * cell, cell - 1, cell - 1);
    }
  }
}
