/**
 * An HTTP server for the files of one or more torrents (`client.createServer()`,
 * `torrent.createServer()`): single byte ranges (RFC 9110; a multi-range request gets its first
 * range), HEAD, conditional requests on an ETag from the info-hash, an index page and an M3U
 * playlist, optional CORS. Each body is a FileReadStream, so a player may seek anywhere before
 * the data exists; a client that disconnects destroys its stream, which releases its window.
 * Requests are matched against the torrents' file lists, never against the file system, so no
 * path can reach outside a torrent. `listen()` binds to 127.0.0.1 unless given a host.
 */
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type RangeParser from 'range-parser';
import type { Torrent } from '../torrent/torrent.js';
import type { TorrentFileEntry } from './torrent-file.js';
import { contentType } from './mime.js';
import { filePath, indexPage, playlist } from './pages.js';
import type { FileReadOptions } from './file-reader.js';
import { lazyRequire } from '../util/lazy-require.js';

export interface StreamServerOptions {
  /** Access-Control-Allow-Origin value ('*' or an origin); absent: no CORS headers. */
  cors?: string;
  /** Host `listen(port)` binds to when none is given (default 127.0.0.1). */
  host?: string;
  /** Reader tuning for every response body. */
  reader?: Pick<FileReadOptions, 'readahead' | 'pieceIntervalMs'>;
}

const ALLOW = 'GET, HEAD, OPTIONS';

/**
 * range-parser, required on the first range request: importing a CommonJS package from an ES
 * module starts Node's CommonJS export scanner, ~1.2 MB in every process (0.4 MB required).
 */
const rangeParser = lazyRequire<typeof RangeParser>('range-parser');

export class StreamServer extends Server {
  private open = 0;

  constructor(
    private readonly source: () => readonly Torrent[],
    private readonly opts: StreamServerOptions = {},
  ) {
    super();
    this.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) this.send(res, 500, 'internal error');
        else res.destroy();
      });
    });
  }

  /** Response bodies being streamed now (for leak checks). */
  get openStreams(): number {
    return this.open;
  }

  /** Like http.Server.listen, but a bare port binds to 127.0.0.1 (or the `host` option). */
  override listen(...args: unknown[]): this {
    const first = args[0];
    if ((typeof first === 'number' || first === undefined) && typeof args[1] !== 'string') {
      const port = (first as number | undefined) ?? 0;
      const rest = args.slice(first === undefined ? 0 : 1).filter((a) => typeof a === 'function');
      return super.listen(port, this.opts.host ?? '127.0.0.1', ...(rest as [() => void]));
    }
    return super.listen(...(args as Parameters<Server['listen']>));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.opts.cors) {
      res.setHeader('Access-Control-Allow-Origin', this.opts.cors);
      res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Accept-Ranges, Content-Length, ETag');
    }
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.setHeader('Allow', ALLOW);
      if (this.opts.cors) {
        res.setHeader('Access-Control-Allow-Methods', ALLOW);
        res.setHeader('Access-Control-Allow-Headers', 'Range, If-Range, If-None-Match');
      }
      res.writeHead(204).end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', ALLOW);
      this.send(res, 405, 'method not allowed');
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const torrents = this.source();
    if (path === '/' || path === '/index.html') {
      this.send(res, 200, indexPage(torrents), 'text/html; charset=utf-8', method);
      return;
    }
    if (path === '/playlist.m3u') {
      this.send(res, 200, playlist(torrents, this.origin(req)), 'audio/x-mpegurl', method);
      return;
    }
    const found = await this.lookup(torrents, path, req);
    if (!found) {
      if (!res.destroyed) this.send(res, 404, 'not found');
      return;
    }
    this.serveFile(req, res, found.torrent, found.file, method === 'HEAD');
  }

  /** The file a path names (a magnet's waits for its metadata); undefined: none. */
  private async lookup(
    torrents: readonly Torrent[],
    path: string,
    req: IncomingMessage,
  ): Promise<{ torrent: Torrent; file: TorrentFileEntry } | undefined> {
    const m = /^\/([0-9a-f]{40})\/(.+)$/.exec(path);
    if (!m) return undefined;
    const t = torrents.find((x) => x.infoHashHex === m[1]);
    if (!t) return undefined;
    let name: string;
    try {
      name = m[2]!.split('/').map(decodeURIComponent).join('/');
    } catch {
      return undefined;
    }
    if (!t.hasMetadata) {
      const arrived = await new Promise<boolean>((resolve) => {
        const done = (ok: boolean) => () => {
          t.off('metadata', onMeta);
          req.off('close', onClose);
          resolve(ok);
        };
        const onMeta = done(true);
        const onClose = done(false);
        t.on('metadata', onMeta);
        req.on('close', onClose);
      });
      if (!arrived) return undefined;
    }
    const file = t.files.find((f) => f.path === name);
    return file ? { torrent: t, file } : undefined;
  }

  private serveFile(
    req: IncomingMessage,
    res: ServerResponse,
    t: Torrent,
    f: TorrentFileEntry,
    head: boolean,
  ): void {
    const etag = `"${t.infoHashHex}-${f.index}"`;
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('ETag', etag);
    res.setHeader('Content-Type', contentType(f.name));
    const created = t.metainfo.creationDate;
    if (created !== undefined && Number.isFinite(created))
      res.setHeader('Last-Modified', new Date(created * 1000).toUTCString());
    if (req.headers['if-none-match']?.split(/\s*,\s*/).includes(etag)) {
      res.writeHead(304).end();
      return;
    }
    let start = 0;
    let end = f.length - 1;
    let status = 200;
    const header = req.headers.range;
    const ifRange = req.headers['if-range'];
    // A Range under an If-Range that names another version is ignored (the whole file is sent).
    if (header && f.length > 0 && (ifRange === undefined || ifRange === etag)) {
      const ranges = rangeParser()(f.length, header, { combine: true });
      if (ranges === -1) {
        res.setHeader('Content-Range', `bytes */${f.length}`);
        this.send(res, 416, 'range not satisfiable');
        return;
      }
      // -2 (malformed) and non-byte units are ignored, as RFC 9110 allows: 200 with the whole file.
      if (ranges !== -2 && ranges.type === 'bytes' && ranges.length > 0) {
        start = ranges[0]!.start;
        end = ranges[0]!.end;
        status = 206;
        res.setHeader('Content-Range', `bytes ${start}-${end}/${f.length}`);
      }
    } else if (header && f.length === 0) {
      res.setHeader('Content-Range', 'bytes */0');
      this.send(res, 416, 'range not satisfiable');
      return;
    }
    res.setHeader('Content-Length', String(end - start + 1));
    res.writeHead(status);
    if (head || end < start) {
      res.end();
      return;
    }
    const body = f.createReadStream({ start, end, ...this.opts.reader });
    this.open++;
    pipeline(body, res, () => {
      this.open--;
      body.destroy();
    });
  }

  private origin(req: IncomingMessage): string {
    const host = req.headers.host;
    if (host && /^[A-Za-z0-9.\-:[\]]+$/.test(host)) return `http://${host}`;
    const a = this.address();
    return a && typeof a === 'object' ? `http://${a.address}:${a.port}` : 'http://127.0.0.1';
  }

  private send(
    res: ServerResponse,
    status: number,
    body: string,
    type = 'text/plain; charset=utf-8',
    method = 'GET',
  ): void {
    const buf = Buffer.from(body);
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(buf.length) });
    res.end(method === 'HEAD' ? undefined : buf);
  }
}

/** A StreamServer for whatever torrents `source` returns at each request. */
export function createStreamServer(
  source: () => readonly Torrent[],
  opts?: StreamServerOptions,
): StreamServer {
  return new StreamServer(source, opts);
}

export { filePath };
