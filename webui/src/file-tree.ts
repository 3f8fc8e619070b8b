/**
 * A torrent's files as a tree: folders (collapsible) with their size, progress and priority
 * over everything under them; a wanted box and a priority per file and per folder (a folder's
 * sets every file under it, in one torrents/filePrio call). Built once per file set, then only
 * the values are refreshed; a control with the focus is left alone.
 */
import { bytes, percent } from './format.js';

export interface FileInfo {
  index: number;
  name: string;
  size: number;
  progress: number;
  priority: number;
}

/** qBittorrent's file priorities: 0 is "not wanted". */
export const PRIORITIES: [number, string][] = [
  [0, 'Skip'],
  [1, 'Normal'],
  [6, 'High'],
  [7, 'Maximum'],
];

interface Folder {
  path: string;
  name: string;
  depth: number;
  folders: Map<string, Folder>;
  files: FileInfo[];
  /** Every file index under it, in order. */
  indexes: number[];
}

interface Row {
  tr: HTMLTableRowElement;
  /** Folder paths above it, to hide it while one is collapsed. */
  ancestors: string[];
  folder?: Folder;
  file?: number;
}

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

function buildTree(files: FileInfo[]): Folder {
  const root: Folder = { path: '', name: '', depth: -1, folders: new Map(), files: [], indexes: [] };
  for (const f of files) {
    const parts = f.name.split('/');
    let at = root;
    at.indexes.push(f.index);
    for (const part of parts.slice(0, -1)) {
      let next = at.folders.get(part);
      if (!next) {
        const path = at.path ? `${at.path}/${part}` : part;
        next = { path, name: part, depth: at.depth + 1, folders: new Map(), files: [], indexes: [] };
        at.folders.set(part, next);
      }
      at = next;
      at.indexes.push(f.index);
    }
    at.files.push(f);
  }
  return root;
}

function progressCell(): HTMLElement {
  const bar = el('span', undefined, 'bar');
  bar.append(el('span', undefined, 'fill'));
  const cell = el('span', undefined, 'progress');
  cell.append(bar, el('span', '', 'pct'));
  return cell;
}

function prioritySelect(label: string): HTMLSelectElement {
  const select = el('select');
  select.setAttribute('aria-label', label);
  for (const [v, name] of PRIORITIES) select.append(new Option(name, String(v)));
  const mixed = new Option('Mixed', '');
  mixed.disabled = true;
  mixed.hidden = true;
  select.append(mixed);
  return select;
}

export class FileTree {
  private rows: Row[] = [];
  private key = '';
  private readonly collapsed = new Set<string>();
  private byIndex = new Map<number, FileInfo>();

  constructor(
    private readonly host: Element,
    /** Sets the priority of these files (qBittorrent's values). */
    private readonly setPriority: (indexes: number[], priority: number) => void,
  ) {}

  /** Shows `files` (of torrent `key`): rebuilt when the file set changed, else refreshed. */
  show(key: string, files: FileInfo[]): void {
    this.byIndex = new Map(files.map((f) => [f.index, f]));
    const k = `${key}:${files.length}`;
    if (k !== this.key) {
      this.key = k;
      this.collapsed.clear();
      this.build(files);
    }
    this.refresh();
  }

  private build(files: FileInfo[]): void {
    this.rows = [];
    if (files.length === 0) {
      this.host.replaceChildren(el('p', 'No metadata yet.'));
      return;
    }
    const t = el('table', undefined, 'files');
    const head = el('tr');
    for (const [h, cls] of [
      ['Wanted', 'want'],
      ['Name', ''],
      ['Size', 'num'],
      ['Progress', ''],
      ['Priority', ''],
    ] as const) {
      const th = el('th', h, cls || undefined);
      th.scope = 'col';
      head.append(th);
    }
    t.createTHead().append(head);
    const body = t.createTBody();
    const walk = (folder: Folder, ancestors: string[]): void => {
      const sorted = [...folder.folders.values()].sort((a, b) => a.name.localeCompare(b.name));
      for (const sub of sorted) {
        const row = this.folderRow(sub, ancestors);
        body.append(row.tr);
        this.rows.push(row);
        walk(sub, [...ancestors, sub.path]);
      }
      for (const f of folder.files) {
        const row = this.fileRow(f, folder.depth + 1, ancestors);
        body.append(row.tr);
        this.rows.push(row);
      }
    };
    walk(buildTree(files), []);
    this.host.replaceChildren(t);
  }

  private folderRow(folder: Folder, ancestors: string[]): Row {
    const tr = el('tr', undefined, 'folder');
    tr.dataset['folder'] = folder.path;
    const toggle = el('button', folder.name, 'toggle');
    toggle.type = 'button';
    toggle.setAttribute('aria-expanded', 'true');
    toggle.setAttribute('aria-label', `${folder.name} (folder)`);
    toggle.addEventListener('click', () => {
      if (this.collapsed.has(folder.path)) this.collapsed.delete(folder.path);
      else this.collapsed.add(folder.path);
      toggle.setAttribute('aria-expanded', String(!this.collapsed.has(folder.path)));
      this.applyCollapse();
    });
    const name = el('td', undefined, 'name');
    name.style.paddingLeft = `${0.4 + folder.depth * 1.1}rem`;
    name.append(toggle);
    const select = prioritySelect(`Priority of folder ${folder.path}`);
    select.dataset['folder'] = folder.path;
    select.addEventListener('change', () => {
      if (select.value !== '') this.setPriority(folder.indexes, Number(select.value));
    });
    const wanted = el('input');
    wanted.type = 'checkbox';
    wanted.setAttribute('aria-label', `Download folder ${folder.path}`);
    wanted.dataset['folder'] = folder.path;
    wanted.addEventListener('change', () => this.want(folder.indexes, wanted.checked));
    tr.append(
      this.cell(wanted, 'want'),
      name,
      el('td', bytes(sumSize(folder, this.byIndex)), 'num'),
      this.cell(progressCell()),
      this.cell(select),
    );
    return { tr, ancestors, folder };
  }

  private fileRow(f: FileInfo, depth: number, ancestors: string[]): Row {
    const tr = el('tr');
    const base = f.name.slice(f.name.lastIndexOf('/') + 1);
    const name = el('td', base, 'name');
    name.title = f.name;
    name.style.paddingLeft = `${0.4 + depth * 1.1 + 1.2}rem`;
    const select = prioritySelect(`Priority of ${f.name}`);
    select.dataset['index'] = String(f.index);
    select.addEventListener('change', () => this.setPriority([f.index], Number(select.value)));
    const wanted = el('input');
    wanted.type = 'checkbox';
    wanted.setAttribute('aria-label', `Download ${f.name}`);
    wanted.dataset['index'] = String(f.index);
    wanted.addEventListener('change', () => this.want([f.index], wanted.checked));
    tr.append(
      this.cell(wanted, 'want'),
      name,
      el('td', bytes(f.size), 'num'),
      this.cell(progressCell()),
      this.cell(select),
    );
    return { tr, ancestors, file: f.index };
  }

  private cell(child: Node, cls?: string): HTMLTableCellElement {
    const td = el('td', undefined, cls);
    td.append(child);
    return td;
  }

  /** Wanted: the skipped ones among `indexes` become Normal; not wanted: all become Skip. */
  private want(indexes: number[], on: boolean): void {
    const targets = on ? indexes.filter((i) => (this.byIndex.get(i)?.priority ?? 0) === 0) : indexes;
    if (targets.length) this.setPriority(targets, on ? 1 : 0);
  }

  private applyCollapse(): void {
    for (const r of this.rows) r.tr.hidden = r.ancestors.some((a) => this.collapsed.has(a));
  }

  /** Progress, priority and wanted of every row from the latest file list. */
  private refresh(): void {
    for (const r of this.rows) {
      const files = r.folder
        ? r.folder.indexes.map((i) => this.byIndex.get(i)!).filter((f) => f !== undefined)
        : [this.byIndex.get(r.file!)!];
      let size = 0;
      let done = 0;
      for (const f of files) {
        size += f.size;
        done += f.size * f.progress;
      }
      const progress = size > 0 ? done / size : files.every((f) => f.progress >= 1) ? 1 : 0;
      (r.tr.querySelector('.fill') as HTMLElement).style.width = `${progress * 100}%`;
      r.tr.querySelector('.pct')!.textContent = percent(progress);
      const prio = files[0]?.priority ?? 0;
      const mixed = files.some((f) => f.priority !== prio);
      const select = r.tr.querySelector('select')!;
      if (document.activeElement !== select) select.value = mixed ? '' : String(prio);
      const wanted = r.tr.querySelector<HTMLInputElement>('input[type=checkbox]')!;
      const some = files.some((f) => f.priority > 0);
      const all = files.every((f) => f.priority > 0);
      wanted.checked = all;
      wanted.indeterminate = some && !all;
    }
  }
}

function sumSize(folder: Folder, byIndex: Map<number, FileInfo>): number {
  return folder.indexes.reduce((s, i) => s + (byIndex.get(i)?.size ?? 0), 0);
}
