/**
 * Our web UI on the RPC server: pages at `/` and `/login`, files under `/ui/`, and a small JSON
 * API under `/api/nbt/`. The RPC server has already applied the loopback rule (no credentials:
 * loopback clients only, no login) and the Host check. Here:
 * - with credentials, `/` without a live qBittorrent SID cookie redirects to `/login` (which logs
 *   in through /api/v2/auth/login and so shares qBittorrent's sessions, expiry and ban rules),
 *   and `/api/nbt/*` answers 401;
 * - an Origin or Referer naming another host is refused (403) everywhere under `/api/nbt/`;
 * - a state change (POST) needs a same-origin Origin or Referer *and* the X-Nbt-Token header:
 *   an HMAC of the session's SID under a per-server secret, handed out by GET /api/nbt/session
 *   (which another origin cannot read);
 * - `POST /api/nbt/qbt/<endpoint>` then runs the qBittorrent API endpoint of that name, so every
 *   action has one implementation; `POST /api/nbt/inspect` reads a .torrent's file list.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Daemon } from '../../daemon/daemon.js';
import { parseTorrent } from '../../metainfo/index.js';
import { PACKAGE_VERSION } from '../../util/version.js';
import { crossSite, readBody, refuse, send, tooLarge } from '../http.js';
import type { QbtApi } from '../qbittorrent/api.js';
import { Assets, CSP } from './assets.js';
import { EventHub } from './events.js';
import { torrentDetails } from './rows.js';
import { engineSettingsView } from '../../daemon/engine-settings.js';
import { SettingsError } from '../../settings/index.js';

export const TOKEN_HEADER = 'x-nbt-token';
const JSON_TYPE = 'application/json; charset=utf-8';
/** Largest .torrent POST /api/nbt/inspect reads. */
const MAX_TORRENT_BYTES = 16 * 1024 * 1024;
/** Largest settings pack POST /api/nbt/settings reads (every setting changed is ~10 KiB). */
const MAX_SETTINGS_BYTES = 64 * 1024;

export interface WebUiOptions {
  credentials: boolean;
}

export class WebUi {
  private readonly secret = randomBytes(32);
  private readonly assets = new Assets();
  readonly events: EventHub;

  constructor(
    private readonly daemon: Daemon,
    private readonly qbt: QbtApi,
    private readonly o: WebUiOptions,
  ) {
    this.events = new EventHub(daemon);
  }

  /** Whether `path` is the web UI's (the RPC server routes it here). */
  static owns(path: string): boolean {
    return path === '/' || path === '/login' || path.startsWith('/ui/') || path.startsWith('/api/nbt/');
  }

  close(): void {
    this.events.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    const sid = this.o.credentials ? this.qbt.liveSid(req) : undefined;
    const allowed = !this.o.credentials || sid !== undefined;
    if (path.startsWith('/api/nbt/')) return this.api(req, res, path.slice('/api/nbt/'.length), sid, allowed);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(req, res, 405, 'text/plain', 'GET only');
    req.resume();
    if (path === '/' && !allowed) return redirect(res, '/login');
    if (path === '/login' && !this.o.credentials) return redirect(res, '/');
    const name = path === '/' ? 'index.html' : path === '/login' ? 'login.html' : path.slice('/ui/'.length);
    const asset = await this.assets.get(name);
    if (!asset) {
      const missing = name === 'index.html' || name === 'login.html';
      return send(res, missing ? 500 : 404, 'text/plain', missing ? 'web UI not built' : 'Not Found');
    }
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Cache-Control', name.endsWith('.html') ? 'no-store' : 'no-cache');
    res.statusCode = 200;
    res.setHeader('Content-Type', asset.type);
    res.setHeader('Content-Length', asset.bytes.length);
    res.end(req.method === 'HEAD' ? undefined : asset.bytes);
  }

  /** The CSRF token of a session (the SID; without credentials there is one for everyone). */
  tokenOf(sid: string | undefined): string {
    return createHmac('sha256', this.secret)
      .update(sid ?? '-')
      .digest('base64url');
  }

  private async api(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: string,
    sid: string | undefined,
    allowed: boolean,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (crossSite(req)) return refuse(req, res, 403, JSON_TYPE, '{"error":"cross-origin request"}');
    if (!allowed) return refuse(req, res, 401, JSON_TYPE, '{"error":"login required"}');
    if (req.method === 'POST') {
      if (!req.headers.origin && !req.headers.referer)
        return refuse(req, res, 403, JSON_TYPE, '{"error":"Origin or Referer required"}');
      if (!this.tokenValid(req.headers[TOKEN_HEADER], sid))
        return refuse(req, res, 403, JSON_TYPE, '{"error":"bad or missing X-Nbt-Token"}');
      if (endpoint.startsWith('qbt/')) return this.qbt.handle(req, res, endpoint.slice('qbt/'.length));
      if (endpoint === 'inspect') return this.inspect(req, res);
      if (endpoint === 'settings') return this.applySettings(req, res);
      return refuse(req, res, 404, JSON_TYPE, '{"error":"no such endpoint"}');
    }
    if (req.method !== 'GET') return refuse(req, res, 405, JSON_TYPE, '{"error":"GET or POST"}');
    req.resume();
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    switch (endpoint) {
      case 'session':
        return send(
          res,
          200,
          JSON_TYPE,
          JSON.stringify({
            token: this.tokenOf(sid),
            version: PACKAGE_VERSION,
            login: this.o.credentials,
            downloadDir: this.daemon.settings['download-dir'],
          }),
        );
      case 'settings':
        return send(
          res,
          200,
          JSON_TYPE,
          JSON.stringify({ settings: engineSettingsView(this.daemon.client) }),
        );
      case 'events':
        if (!this.events.open(res)) send(res, 503, JSON_TYPE, '{"error":"too many event streams"}');
        return;
      case 'torrent': {
        const hash = (query.get('hash') ?? '').toLowerCase();
        const e = /^[0-9a-f]{40}$/.test(hash) ? this.daemon.byHash(hash) : undefined;
        if (!e) return send(res, 404, JSON_TYPE, '{"error":"no such torrent"}');
        return send(
          res,
          200,
          JSON_TYPE,
          JSON.stringify(torrentDetails(this.daemon, e, this.events.disconnectsOf(hash))),
        );
      }
      default:
        return send(res, 404, JSON_TYPE, '{"error":"no such endpoint"}');
    }
  }

  /** POST /api/nbt/inspect: a .torrent's info-hash, name and files (the add dialog's file choice). */
  private async inspect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_TORRENT_BYTES);
    if (body === 'too-large') return tooLarge(req, res);
    let m;
    try {
      m = parseTorrent(body);
    } catch (e) {
      return send(res, 415, JSON_TYPE, JSON.stringify({ error: (e as Error).message }));
    }
    const files = m.files.flatMap((f, index) =>
      f.pad ? [] : [{ index, path: f.path.join('/'), size: f.length }],
    );
    send(
      res,
      200,
      JSON_TYPE,
      JSON.stringify({ infoHash: m.infoHashHex, name: m.name, size: m.length, files }),
    );
  }

  /**
   * POST /api/nbt/settings: a JSON object of engine settings by name, applied and remembered by
   * the daemon as a whole or not at all; 400 `{ error, code, setting }` names the one at fault.
   */
  private async applySettings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_SETTINGS_BYTES);
    if (body === 'too-large') return tooLarge(req, res);
    let pack: unknown;
    try {
      pack = JSON.parse(body.toString('utf8'));
    } catch {
      return send(
        res,
        400,
        JSON_TYPE,
        '{"error":"the body must be a JSON object","code":"SETTINGS_INVALID","setting":""}',
      );
    }
    try {
      const changed = await this.daemon.setEngineSettings(pack);
      send(res, 200, JSON_TYPE, JSON.stringify({ changed }));
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      send(res, 400, JSON_TYPE, JSON.stringify({ error: e.message, code: e.code, setting: e.setting }));
    }
  }

  private tokenValid(given: string | string[] | undefined, sid: string | undefined): boolean {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.tokenOf(sid));
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function redirect(res: ServerResponse, to: string): void {
  res.statusCode = 302;
  res.setHeader('Location', to);
  res.setHeader('Content-Length', 0);
  res.end();
}
