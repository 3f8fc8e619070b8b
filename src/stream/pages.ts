/** The stream server's index page and M3U playlist, and the URL of each file. */
import type { Torrent } from '../torrent/torrent.js';
import type { TorrentFileEntry } from './torrent-file.js';

/** The URL path of a file: /<info-hash hex>/<path components, each percent-encoded>. */
export function filePath(t: Torrent, f: TorrentFileEntry): string {
  return `/${t.infoHashHex}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

export function indexPage(torrents: readonly Torrent[]): string {
  const sections = torrents.map((t) => {
    const items = t.files.map(
      (f) =>
        `<li><a href="${escapeHtml(filePath(t, f))}">${escapeHtml(f.path)}</a> ` +
        `(${size(f.length)}, ${(f.progress * 100).toFixed(1)} %)</li>`,
    );
    const waiting = t.hasMetadata ? '' : '<p>waiting for metadata…</p>';
    return `<h2>${escapeHtml(t.name)}</h2>${waiting}<ul>${items.join('')}</ul>`;
  });
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>net-bittorrent</title></head><body>' +
    `<h1>Torrents</h1>${sections.join('')}<p><a href="/playlist.m3u">playlist.m3u</a></p></body></html>`
  );
}

/** An extended M3U of every file, with absolute URLs under `origin` (http://host:port). */
export function playlist(torrents: readonly Torrent[], origin: string): string {
  const lines = ['#EXTM3U'];
  for (const t of torrents) {
    for (const f of t.files) {
      lines.push(`#EXTINF:-1,${f.path.replace(/[\r\n]/g, ' ')}`, origin + filePath(t, f));
    }
  }
  return lines.join('\n') + '\n';
}
