/**
 * The web UI's entry point: loads the session (CSRF token), opens the event stream
 * (/api/nbt/events: changed rows every second, the session, alerts) and wires the toolbar, the
 * list, the details panel and the dialogs.
 */
import { action, loadSession, type SessionInfo, type TorrentRow } from './api.js';
import { AddDialog } from './add.js';
import { DetailsPanel } from './details.js';
import { EditDialog } from './edit.js';
import { SpeedHistory } from './graph.js';
import { TorrentList } from './list.js';
import { SessionView, type SessionState } from './session.js';
import { SettingsDialog } from './settings.js';

interface AlertRecord {
  type: string;
  infoHash?: string;
  name?: string;
  message?: string;
  url?: string;
}

const $ = (id: string): HTMLElement => document.getElementById(id)!;

function notify(text: string, error = false): void {
  const log = $('log');
  const p = document.createElement('p');
  p.textContent = text;
  if (error) p.className = 'error';
  log.prepend(p);
  while (log.childElementCount > 5) log.lastElementChild!.remove();
  setTimeout(() => p.remove(), error ? 20_000 : 8_000);
}

function onError(e: unknown): void {
  notify(e instanceof Error ? e.message : String(e), true);
}

async function main(): Promise<void> {
  const info: SessionInfo = await loadSession();
  $('version').textContent = `net-bittorrent ${info.version}`;
  const history = new SpeedHistory();
  const session = new SessionView(history, onError);
  const details = new DetailsPanel($('details'), history, onError);
  const settings = new SettingsDialog((t) => notify(t), onError);
  $('settings-open').addEventListener('click', () => void settings.open());
  const add = new AddDialog(() => session.last?.downloadDir ?? info.downloadDir, onError);
  const list = new TorrentList($('list'), $('list-header'), {
    open: (hash) => details.open(hash),
    remove: () => askRemove(false),
    selectionChanged: () => updateButtons(),
  });

  const hashes = (): string => [...list.selected].join('|');
  const run = (endpoint: string, extra: Record<string, string> = {}): void => {
    if (list.selected.size === 0) return;
    void action(endpoint, { hashes: hashes(), ...extra }).catch(onError);
  };
  const updateButtons = (): void => {
    const none = list.selected.size === 0;
    for (const id of ['start', 'stop', 'verify', 'remove', 'remove-data', 'edit', 'details-open'])
      ($(id) as HTMLButtonElement).disabled = none;
    $('selection').textContent = none ? '' : `${list.selected.size} selected`;
  };
  const removeDialog = $('remove-dialog') as HTMLDialogElement;
  const askRemove = (withData: boolean): void => {
    if (list.selected.size === 0) return;
    ($('remove-data-box') as HTMLInputElement).checked = withData;
    $('remove-what').textContent =
      list.selected.size === 1
        ? `Remove “${list.rows.get([...list.selected][0]!)?.name ?? ''}”?`
        : `Remove ${list.selected.size} torrents?`;
    removeDialog.showModal();
  };
  removeDialog.querySelector('form')!.addEventListener('submit', (e) => {
    e.preventDefault();
    const withData = ($('remove-data-box') as HTMLInputElement).checked;
    run('torrents/delete', { deleteFiles: String(withData) });
    if (details.openHash && list.selected.has(details.openHash)) details.close();
    removeDialog.close();
  });
  removeDialog.querySelector('.cancel')!.addEventListener('click', () => removeDialog.close());

  $('add').addEventListener('click', () => add.open());
  $('start').addEventListener('click', () => run('torrents/resume'));
  $('stop').addEventListener('click', () => run('torrents/pause'));
  $('verify').addEventListener('click', () => run('torrents/recheck'));
  $('remove').addEventListener('click', () => askRemove(false));
  $('remove-data').addEventListener('click', () => askRemove(true));
  const edit = new EditDialog(onError);
  $('edit').addEventListener('click', () => {
    const rows = [...list.selected].map((h) => list.rows.get(h)).filter((r) => r !== undefined);
    const same = (k: 'label' | 'savePath'): string =>
      rows.every((r) => r[k] === rows[0]![k]) ? rows[0]![k] : '';
    if (rows.length)
      edit.open(
        rows.map((r) => r.hash),
        same('label'),
        same('savePath'),
      );
  });
  $('details-open').addEventListener('click', () => {
    const first = [...list.selected][0];
    if (first) details.open(first);
  });
  if (info.login) {
    const out = $('logout') as HTMLButtonElement;
    out.hidden = false;
    out.addEventListener('click', () => {
      void action('auth/logout', {}).finally(() => (location.href = '/login'));
    });
  }
  const search = $('search') as HTMLInputElement;
  search.addEventListener('input', () => {
    list.search = search.value;
    list.refresh();
  });
  const stateFilter = $('filter-state') as HTMLSelectElement;
  stateFilter.addEventListener('change', () => {
    list.filterState = stateFilter.value;
    list.refresh();
  });
  const labelFilter = $('filter-label') as HTMLSelectElement;
  labelFilter.addEventListener('change', () => {
    list.filterLabel = labelFilter.value;
    list.refresh();
  });
  const refreshLabels = (): void => {
    const labels = list.labels();
    const have = [...labelFilter.options].slice(1).map((o) => o.value);
    if (have.join('\n') === labels.join('\n')) return;
    labelFilter.replaceChildren(new Option('All labels', ''), ...labels.map((l) => new Option(l, l)));
    labelFilter.value = labels.includes(list.filterLabel) ? list.filterLabel : '';
  };
  // "/" focuses the search, "n" adds, as in most torrent UIs.
  document.addEventListener('keydown', (e) => {
    const typing = (e.target as HTMLElement).closest('input, textarea, select, dialog');
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') {
      e.preventDefault();
      search.focus();
    } else if (e.key === 'n') {
      e.preventDefault();
      add.open();
    }
  });

  const events = new EventSource('/api/nbt/events');
  events.addEventListener('torrents', (m) => {
    const u = JSON.parse((m as MessageEvent<string>).data) as {
      full: boolean;
      rows: TorrentRow[];
      removed: string[];
    };
    list.update(u.rows, u.removed, u.full);
    for (const h of u.removed) history.forget(h);
    if (details.openHash && !list.rows.has(details.openHash)) details.close();
    refreshLabels();
    updateButtons();
    $('empty').hidden = list.rows.size > 0;
    // The first full list is in: the page is ready (tests wait for this).
    document.body.dataset['ready'] = 'true';
  });
  events.addEventListener('session', (m) => {
    const s = JSON.parse((m as MessageEvent<string>).data) as SessionState;
    history.push('session', s.dl, s.ul);
    for (const r of list.rows.values()) history.push(r.hash, r.dl, r.ul);
    session.update(s);
    details.tick();
  });
  events.addEventListener('alerts', (m) => {
    const a = JSON.parse((m as MessageEvent<string>).data) as { alerts: AlertRecord[] };
    for (const x of a.alerts) {
      const name = (x.infoHash && list.rows.get(x.infoHash)?.name) || x.name || x.infoHash || '';
      if (x.type === 'torrent-done') notify(`Completed: ${name}`);
      else if (x.type === 'torrent-added') notify(`Added: ${name}`);
      else if (x.type === 'metadata-received') notify(`Metadata received: ${name}`);
      else if (x.type.endsWith('error')) notify(`${x.type}: ${name} ${x.url ?? ''} ${x.message ?? ''}`, true);
    }
  });
  events.addEventListener('open', () => document.body.classList.remove('offline'));
  events.addEventListener('error', () => document.body.classList.add('offline'));
  updateButtons();
  $('list').focus();
}

void main().catch(onError);
