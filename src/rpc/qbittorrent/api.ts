/**
 * The qBittorrent Web API v2 under /api/v2/ on the RPC server. The server has already applied
 * the loopback rule (no credentials: loopback clients only) and the Host check; here, in order:
 * - the CSRF check (qBittorrent's): an Origin or Referer header whose host is not the Host
 *   header's gets 401;
 * - auth/login: without credentials it simply succeeds; with them it checks the username and
 *   password ("Fails." otherwise; 5 failures ban the address for an hour, 403) and sets the SID
 *   cookie;
 * - with credentials every other endpoint needs a live SID cookie (or HTTP basic auth, as
 *   qBittorrent 5.2 accepts), 403 otherwise;
 * - bodies over the limit get 413, malformed forms 400, unknown endpoints 404, GET on an action 405.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Daemon } from '../../daemon/daemon.js';
import { crossSite, readBody, refuse, send, tooLarge } from '../http.js';
import { appEndpoints } from './app.js';
import type { Call, Endpoint, Reply, Session } from './call.js';
import { ApiError } from './errors.js';
import { parseForm, type Form } from './form.js';
import { peerEndpoints } from './peers.js';
import { torrentReadEndpoints } from './torrents-read.js';
import { torrentWriteEndpoints } from './torrents-write.js';

export interface QbtApiOptions {
  username?: string;
  password?: string;
  maxBodyBytes: number;
  /** The RPC port (app/preferences' web_ui_port). */
  port(): number;
}

/** Seconds a session lives after its last use (qBittorrent's default web_ui_session_timeout). */
const SESSION_TIMEOUT = 3600;
const MAX_SESSIONS = 64;
const MAX_FAILURES = 5;
const BAN_SECONDS = 3600;
const MAX_TRACKED_ADDRESSES = 1024;

const endpoints: Record<string, Endpoint> = {
  ...appEndpoints,
  ...torrentReadEndpoints,
  ...torrentWriteEndpoints,
  ...peerEndpoints,
};

const TEXT = 'text/plain; charset=UTF-8';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class QbtApi {
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, { count: number; bannedUntil: number }>();
  private rid = 0;

  constructor(
    private readonly daemon: Daemon,
    private readonly o: QbtApiOptions,
  ) {}

  private get credentials(): boolean {
    return this.o.username !== undefined && this.o.password !== undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, endpoint: string): Promise<void> {
    res.setHeader('X-Frame-Options', 'SAMEORIGIN');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    if (crossSite(req)) return refuse(req, res, 401, TEXT, 'Unauthorized');
    const address = req.socket.remoteAddress ?? '';
    const now = this.daemon.now();
    this.expireSessions(now);
    if (endpoint === 'auth/login') {
      if ((this.failures.get(address)?.bannedUntil ?? 0) > now)
        return refuse(
          req,
          res,
          403,
          TEXT,
          'Your IP address has been banned after too many failed authentication attempts.',
        );
    }
    const session = this.sessionOf(req);
    if (endpoint !== 'auth/login' && this.credentials && !session && !this.basicAuthorized(req))
      return refuse(req, res, 403, TEXT, 'Forbidden');
    const e = Object.hasOwn(endpoints, endpoint) ? endpoints[endpoint] : undefined;
    const isLogin = endpoint === 'auth/login' || endpoint === 'auth/logout';
    if (!e && !isLogin) return refuse(req, res, 404, TEXT, 'Not Found');
    if ((e?.post || isLogin) && req.method !== 'POST')
      return refuse(req, res, 405, TEXT, 'Method Not Allowed');
    const body = req.method === 'POST' ? await readBody(req, this.o.maxBodyBytes) : Buffer.alloc(0);
    if (body === 'too-large') return tooLarge(req, res);
    if (req.method !== 'POST') req.resume();
    let form: Form;
    try {
      const query = (req.url ?? '').includes('?') ? req.url!.slice(req.url!.indexOf('?') + 1) : '';
      form = parseForm(query, body, req.headers['content-type'] ?? '');
    } catch (err) {
      return send(res, 400, TEXT, (err as Error).message);
    }
    if (endpoint === 'auth/login') return this.login(res, form, address, now);
    if (endpoint === 'auth/logout') {
      const sid = this.sidOf(req);
      if (sid) this.sessions.delete(sid);
      res.setHeader('Set-Cookie', 'SID=; HttpOnly; path=/; SameSite=Strict; Max-Age=0');
      return send(res, 200, TEXT, '');
    }
    if (session) session.expiresAt = now + SESSION_TIMEOUT;
    const call: Call = {
      daemon: this.daemon,
      form,
      session,
      webUiPort: this.o.port(),
      username: this.o.username ?? '',
      nextRid: () => ++this.rid,
    };
    let reply: Reply;
    try {
      reply = await e!.run(call);
    } catch (err) {
      if (err instanceof ApiError) return send(res, err.status, TEXT, err.message);
      throw err;
    }
    if (reply === undefined) return send(res, 200, TEXT, '');
    if ('text' in reply) return send(res, 200, TEXT, reply.text);
    if ('bytes' in reply) {
      res.setHeader('Content-Type', reply.type);
      res.setHeader('Content-Length', reply.bytes.length);
      res.end(reply.bytes);
      return;
    }
    send(res, 200, 'application/json', JSON.stringify(reply.json));
  }

  private login(res: ServerResponse, form: Form, address: string, now: number): void {
    if (this.credentials) {
      const user = form.fields.get('username') ?? '';
      const pass = form.fields.get('password') ?? '';
      // Both are compared (constant time over digests) before deciding.
      const okUser = timingSafeEqual(digest(user), digest(this.o.username!));
      const okPass = timingSafeEqual(digest(pass), digest(this.o.password!));
      if (!okUser || !okPass) {
        this.recordFailure(address, now);
        return send(res, 200, TEXT, 'Fails.');
      }
      this.failures.delete(address);
    }
    const sid = randomBytes(24).toString('base64url');
    if (this.sessions.size >= MAX_SESSIONS) {
      // The least recently used session goes.
      let oldest: string | undefined;
      let at = Infinity;
      for (const [k, s] of this.sessions) if (s.expiresAt < at) [oldest, at] = [k, s.expiresAt];
      if (oldest) this.sessions.delete(oldest);
    }
    this.sessions.set(sid, { expiresAt: now + SESSION_TIMEOUT });
    res.setHeader('Set-Cookie', `SID=${sid}; HttpOnly; path=/; SameSite=Strict`);
    send(res, 200, TEXT, 'Ok.');
  }

  private recordFailure(address: string, now: number): void {
    if (this.failures.size >= MAX_TRACKED_ADDRESSES && !this.failures.has(address)) {
      const first = this.failures.keys().next().value;
      if (first !== undefined) this.failures.delete(first);
    }
    const f = this.failures.get(address) ?? { count: 0, bannedUntil: 0 };
    f.count++;
    if (f.count >= MAX_FAILURES) {
      f.bannedUntil = now + BAN_SECONDS;
      f.count = 0;
    }
    this.failures.set(address, f);
  }

  private expireSessions(now: number): void {
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
  }

  private sidOf(req: IncomingMessage): string | undefined {
    const cookie = req.headers.cookie ?? '';
    const m = /(?:^|;\s*)SID=([^;\s]+)/.exec(cookie);
    return m?.[1];
  }

  /** The request's SID when it names a live session (the web UI shares these sessions). */
  liveSid(req: IncomingMessage): string | undefined {
    const sid = this.sidOf(req);
    const s = sid ? this.sessions.get(sid) : undefined;
    const now = this.daemon.now();
    if (!s || s.expiresAt <= now) return undefined;
    s.expiresAt = now + SESSION_TIMEOUT;
    return sid;
  }

  private sessionOf(req: IncomingMessage): Session | undefined {
    const sid = this.sidOf(req);
    return sid ? this.sessions.get(sid) : undefined;
  }

  private basicAuthorized(req: IncomingMessage): boolean {
    const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!, 'base64').toString('utf8');
    return timingSafeEqual(digest(given), digest(`${this.o.username}:${this.o.password}`));
  }
}
