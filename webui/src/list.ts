/**
 * The torrent list: a virtualised listbox (only the visible rows are in the DOM, so 1,000
 * torrents scroll as fast as 10), with sorting, filtering, search and multi-selection by mouse
 * (click, Ctrl/Cmd-click, Shift-click) and keyboard (arrows, Home/End, Shift to extend, Space to
 * toggle, Ctrl+A, Enter opens the details, Delete removes).
 */
import type { TorrentRow } from './api.js';
import { bytes, eta, inGroup, percent, rate, stateLabel } from './format.js';

const ROW_HEIGHT = 30;
const OVERSCAN = 8;

export interface Column {
  key: keyof TorrentRow;
  title: string;
  render(r: TorrentRow): string;
  numeric?: boolean;
}

export const COLUMNS: Column[] = [
  { key: 'name', title: 'Name', render: (r) => r.name },
  { key: 'size', title: 'Size', render: (r) => bytes(r.size), numeric: true },
  { key: 'progress', title: 'Progress', render: (r) => percent(r.progress), numeric: true },
  { key: 'state', title: 'State', render: (r) => stateLabel(r.state) },
  { key: 'dl', title: 'Down', render: (r) => rate(r.dl), numeric: true },
  { key: 'ul', title: 'Up', render: (r) => rate(r.ul), numeric: true },
  { key: 'ratio', title: 'Ratio', render: (r) => r.ratio.toFixed(2), numeric: true },
  { key: 'eta', title: 'ETA', render: (r) => (r.progress >= 1 ? '' : eta(r.eta)), numeric: true },
  { key: 'peers', title: 'Peers', render: (r) => `${r.seeds}/${r.peers}`, numeric: true },
  { key: 'label', title: 'Label', render: (r) => r.label },
];

export interface ListEvents {
  open(hash: string): void;
  remove(): void;
  selectionChanged(): void;
}

export class TorrentList {
  readonly rows = new Map<string, TorrentRow>();
  readonly selected = new Set<string>();
  private view: TorrentRow[] = [];
  private cursor = -1;
  private anchor = -1;
  private sortKey: keyof TorrentRow = 'added';
  private sortDown = false;
  filterState = 'all';
  filterLabel = '';
  search = '';
  private readonly spacer: HTMLElement;
  private readonly header: HTMLElement;
  private frame = 0;

  constructor(
    private readonly box: HTMLElement,
    headerHost: HTMLElement,
    private readonly on: ListEvents,
  ) {
    this.header = headerHost;
    this.spacer = document.createElement('div');
    this.spacer.className = 'spacer';
    box.append(this.spacer);
    box.addEventListener('scroll', () => this.schedule());
    box.addEventListener('keydown', (e) => this.key(e));
    box.addEventListener('click', (e) => this.click(e));
    box.addEventListener('dblclick', (e) => {
      const hash = rowHash(e.target);
      if (hash) this.on.open(hash);
    });
    new ResizeObserver(() => this.schedule()).observe(box);
    this.renderHeader();
  }

  /** Applies an event-stream update. */
  update(rows: TorrentRow[], removed: string[], full: boolean): void {
    if (full) this.rows.clear();
    for (const r of rows) this.rows.set(r.hash, r);
    for (const h of removed) {
      this.rows.delete(h);
      this.selected.delete(h);
    }
    this.refresh();
  }

  labels(): string[] {
    return [...new Set([...this.rows.values()].map((r) => r.label).filter((l) => l !== ''))].sort();
  }

  /** Recomputes the visible order (filter, search, sort) and redraws. */
  refresh(): void {
    const q = this.search.trim().toLowerCase();
    const cursorHash = this.view[this.cursor]?.hash;
    this.view = [...this.rows.values()].filter(
      (r) =>
        inGroup(r.state, this.filterState, r.dl, r.ul) &&
        (this.filterLabel === '' || r.label === this.filterLabel) &&
        (q === '' || r.name.toLowerCase().includes(q)),
    );
    const k = this.sortKey;
    const dir = this.sortDown ? -1 : 1;
    this.view.sort((a, b) => {
      const x = a[k];
      const y = b[k];
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return (c || a.name.localeCompare(b.name)) * dir;
    });
    this.cursor = cursorHash ? this.view.findIndex((r) => r.hash === cursorHash) : -1;
    this.spacer.style.height = `${this.view.length * ROW_HEIGHT}px`;
    this.box.setAttribute('aria-rowcount', String(this.view.length));
    this.schedule();
  }

  visibleCount(): number {
    return this.view.length;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Puts the rows in the viewport (plus some) in the DOM, reusing row elements. */
  private draw(): void {
    const first = Math.max(0, Math.floor(this.box.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(
      this.view.length,
      Math.ceil((this.box.scrollTop + this.box.clientHeight) / ROW_HEIGHT) + OVERSCAN,
    );
    const existing = [...this.box.querySelectorAll<HTMLElement>('.row')];
    let used = 0;
    for (let i = first; i < last; i++) {
      const r = this.view[i]!;
      let el = existing[used++];
      if (!el) {
        el = document.createElement('div');
        el.className = 'row';
        el.setAttribute('role', 'option');
        for (const c of COLUMNS) {
          const cell = document.createElement('span');
          cell.className = `cell c-${c.key}${c.numeric ? ' num' : ''}`;
          if (c.key === 'progress')
            cell.innerHTML = '<span class="bar"><span class="fill"></span></span><span class="pct"></span>';
          el.append(cell);
        }
        this.box.append(el);
      }
      this.fill(el, r, i);
    }
    for (let j = used; j < existing.length; j++) existing[j]!.remove();
    const active = this.view[this.cursor];
    if (active) this.box.setAttribute('aria-activedescendant', `row-${active.hash}`);
    else this.box.removeAttribute('aria-activedescendant');
  }

  private fill(el: HTMLElement, r: TorrentRow, i: number): void {
    el.id = `row-${r.hash}`;
    el.dataset['hash'] = r.hash;
    el.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
    el.setAttribute('aria-selected', String(this.selected.has(r.hash)));
    el.setAttribute('aria-posinset', String(i + 1));
    el.classList.toggle('cursor', i === this.cursor);
    el.dataset['state'] = r.state;
    const cells = el.children;
    COLUMNS.forEach((c, j) => {
      const cell = cells[j] as HTMLElement;
      if (c.key === 'progress') {
        (cell.querySelector('.fill') as HTMLElement).style.width = `${r.progress * 100}%`;
        (cell.querySelector('.pct') as HTMLElement).textContent = percent(r.progress);
      } else {
        const text = c.render(r);
        if (cell.textContent !== text) cell.textContent = text;
        if (c.key === 'name') cell.title = text;
      }
    });
  }

  private renderHeader(): void {
    this.header.replaceChildren(
      ...COLUMNS.map((c) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = `cell c-${c.key}${c.numeric ? ' num' : ''}`;
        b.textContent = c.title;
        const sorted = this.sortKey === c.key;
        b.setAttribute('aria-sort', sorted ? (this.sortDown ? 'descending' : 'ascending') : 'none');
        if (sorted) b.dataset['sort'] = this.sortDown ? '▼' : '▲';
        b.addEventListener('click', () => {
          if (this.sortKey === c.key) this.sortDown = !this.sortDown;
          else [this.sortKey, this.sortDown] = [c.key, c.numeric === true];
          this.renderHeader();
          this.refresh();
        });
        return b;
      }),
    );
  }

  private click(e: MouseEvent): void {
    const hash = rowHash(e.target);
    if (!hash) return;
    const i = this.view.findIndex((r) => r.hash === hash);
    if (e.shiftKey && this.anchor >= 0) this.selectRange(this.anchor, i, e.ctrlKey || e.metaKey);
    else if (e.ctrlKey || e.metaKey) {
      this.toggle(hash);
      this.anchor = i;
    } else {
      this.selected.clear();
      this.selected.add(hash);
      this.anchor = i;
    }
    this.cursor = i;
    this.box.focus();
    this.changed();
  }

  private key(e: KeyboardEvent): void {
    const n = this.view.length;
    if (n === 0) return;
    const page = Math.max(1, Math.floor(this.box.clientHeight / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = {
      ArrowDown: this.cursor + 1,
      ArrowUp: this.cursor - 1,
      PageDown: this.cursor + page,
      PageUp: this.cursor - page,
      Home: 0,
      End: n - 1,
    };
    if (e.key in moves) {
      e.preventDefault();
      const to = Math.max(0, Math.min(n - 1, moves[e.key]!));
      if (e.shiftKey) this.selectRange(this.anchor < 0 ? to : this.anchor, to, false);
      else if (!e.ctrlKey) {
        this.selected.clear();
        this.selected.add(this.view[to]!.hash);
        this.anchor = to;
      }
      this.cursor = to;
      this.reveal(to);
      this.changed();
    } else if (e.key === ' ' && this.cursor >= 0) {
      e.preventDefault();
      this.toggle(this.view[this.cursor]!.hash);
      this.anchor = this.cursor;
      this.changed();
    } else if (e.key === 'a' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      for (const r of this.view) this.selected.add(r.hash);
      this.changed();
    } else if (e.key === 'Enter' && this.cursor >= 0) {
      this.on.open(this.view[this.cursor]!.hash);
    } else if (e.key === 'Delete' && this.selected.size > 0) {
      this.on.remove();
    } else if (e.key === 'Escape') {
      this.selected.clear();
      this.changed();
    }
  }

  private selectRange(from: number, to: number, keep: boolean): void {
    if (!keep) this.selected.clear();
    const [a, b] = from < to ? [from, to] : [to, from];
    for (let i = a; i <= b; i++) this.selected.add(this.view[i]!.hash);
  }

  private toggle(hash: string): void {
    if (this.selected.has(hash)) this.selected.delete(hash);
    else this.selected.add(hash);
  }

  private reveal(i: number): void {
    const top = i * ROW_HEIGHT;
    if (top < this.box.scrollTop) this.box.scrollTop = top;
    else if (top + ROW_HEIGHT > this.box.scrollTop + this.box.clientHeight)
      this.box.scrollTop = top + ROW_HEIGHT - this.box.clientHeight;
  }

  private changed(): void {
    this.schedule();
    this.on.selectionChanged();
  }
}

function rowHash(target: EventTarget | null): string | undefined {
  return (target as HTMLElement | null)?.closest<HTMLElement>('.row')?.dataset['hash'];
}
