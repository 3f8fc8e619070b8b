/** Numbers as people read them. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n: number): string {
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${UNITS[i]}`;
}

export function rate(n: number): string {
  return n > 0 ? `${bytes(n)}/s` : '';
}

export function eta(s: number): string {
  if (s < 0) return '∞';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function percent(p: number): string {
  return `${(Math.floor(p * 1000) / 10).toFixed(1)}%`;
}

/** qBittorrent's state strings as words, and the filter group each belongs to. */
export function stateLabel(state: string): string {
  const names: Record<string, string> = {
    downloading: 'Downloading',
    stalledDL: 'Stalled',
    forcedDL: 'Downloading [F]',
    metaDL: 'Fetching metadata',
    forcedMetaDL: 'Fetching metadata [F]',
    uploading: 'Seeding',
    stalledUP: 'Seeding',
    forcedUP: 'Seeding [F]',
    pausedDL: 'Stopped',
    pausedUP: 'Completed',
    queuedDL: 'Queued',
    queuedUP: 'Queued',
    checkingDL: 'Checking',
    checkingUP: 'Checking',
    checkingResumeData: 'Checking',
    missingFiles: 'Missing files',
    error: 'Error',
  };
  return names[state] ?? state;
}

export type StateGroup =
  'downloading' | 'seeding' | 'completed' | 'stopped' | 'active' | 'checking' | 'error';

export function inGroup(state: string, group: string, dl: number, ul: number): boolean {
  switch (group) {
    case 'downloading':
      return /DL$/.test(state) && !state.startsWith('paused') && !state.startsWith('checking');
    case 'seeding':
      return /UP$|^uploading$/.test(state) && !state.startsWith('paused') && !state.startsWith('checking');
    case 'completed':
      return /UP$|^uploading$/.test(state);
    case 'stopped':
      return state.startsWith('paused');
    case 'active':
      return dl > 0 || ul > 0;
    case 'checking':
      return state.startsWith('checking');
    case 'error':
      return state === 'error' || state === 'missingFiles';
    default:
      return true;
  }
}
