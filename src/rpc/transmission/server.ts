/**
 * The Transmission RPC over HTTP (node:http): POST /transmission/rpc with a JSON body
 * {method, arguments, tag}. Guards, in the order they are checked:
 * - without credentials only loopback clients are served (403), none is asked to log in;
 * - a Host header that is a name other than localhost or a whitelisted one gets 421 (DNS
 *   rebinding: a web page's script must not reach the daemon through a name it controls);
 * - with credentials, HTTP basic auth (401);
 * - the X-Transmission-Session-Id exchange (409 with the id; a CSRF guard);
 * - bodies over `maxBodyBytes` get 413, malformed JSON a 400 (a JSON-RPC parse error when the
 *   body names `jsonrpc`).
 * A body in the JSON-RPC 2.0 form (Transmission 4.1) is answered in that form (jsonrpc.ts).
 * `/api/v2/` goes to the qBittorrent Web API and `/`, `/login`, `/ui/`, `/api/nbt/` to our web UI
 * (src/rpc/webui), each with its own login and CSRF rules after the first two guards.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Daemon } from '../../daemon/daemon.js';
import { isLoopback, readBody, refuse, send, tooLarge } from '../http.js';
import { QbtApi } from '../qbittorrent/api.js';
import { WebUi } from '../webui/server.js';
import { runMethod, type MethodContext } from './methods.js';
import {
  errorResponse,
  isJsonRpc,
  JsonRpcCode,
  parseRequest,
  responseTo,
  type JsonRpcResponse,
} from './jsonrpc.js';

export { isLoopback };

export interface RpcServerOptions {
  port?: number;
  host?: string;
  username?: string;
  password?: string;
  /** Host names accepted besides IP literals and localhost. */
  hostWhitelist?: string[];
  maxBodyBytes?: number;
  /** Called after session-close has been answered. */
  onClose?: () => void;
}

const SESSION_HEADER = 'x-transmission-session-id';
const DEFAULT_MAX_BODY = 32 * 1024 * 1024;
/** Requests in one JSON-RPC batch. */
const MAX_BATCH = 1000;

export class TransmissionRpcServer {
  readonly sessionId = randomBytes(24).toString('base64url');
  private readonly server: Server;
  private portValue = 0;
  private readonly qbt: QbtApi;
  private readonly webui: WebUi;

  constructor(
    private readonly daemon: Daemon,
    private readonly o: RpcServerOptions = {},
  ) {
    this.qbt = new QbtApi(daemon, {
      ...(o.username !== undefined && o.password !== undefined
        ? { username: o.username, password: o.password }
        : {}),
      maxBodyBytes: o.maxBodyBytes ?? DEFAULT_MAX_BODY,
      port: () => this.portValue,
    });
    this.webui = new WebUi(daemon, this.qbt, { credentials: this.credentials });
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.requestTimeout = 60_000;
    this.server.headersTimeout = 20_000;
  }

  get port(): number {
    return this.portValue;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port ?? 9091, this.o.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address();
    this.portValue = a && typeof a === 'object' ? a.port : 0;
    return this.portValue;
  }

  async close(): Promise<void> {
    this.webui.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private get credentials(): boolean {
    return this.o.username !== undefined && this.o.password !== undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (e) {
      if (!res.headersSent) send(res, 500, 'text/plain', `internal error: ${(e as Error).message}`);
      else res.destroy();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.credentials && !isLoopback(req.socket.remoteAddress ?? '')) {
      return refuse(req, res, 403, 'text/html', '<h1>403: Forbidden</h1><p>Unauthorized IP Address.</p>');
    }
    if (!this.hostAllowed(req.headers.host)) {
      return refuse(req, res, 421, 'text/html', '<h1>421: Misdirected Request</h1><p>Unauthorized Host.</p>');
    }
    const path = (req.url ?? '/').split('?')[0]!;
    // The qBittorrent Web API has its own login (SID cookie) and CSRF rules.
    if (path.startsWith('/api/v2/')) return this.qbt.handle(req, res, path.slice('/api/v2/'.length));
    // The web UI logs in with the qBittorrent SID and has its own CSRF token.
    if (WebUi.owns(path)) return this.webui.handle(req, res, path);
    if (this.credentials && !this.authorized(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Transmission"');
      return refuse(req, res, 401, 'text/html', '<h1>401: Unauthorized</h1>');
    }
    if (path !== '/transmission/rpc' && path !== '/transmission/rpc/') {
      return refuse(req, res, 404, 'text/html', '<h1>404: Not Found</h1>');
    }
    if (req.headers[SESSION_HEADER] !== this.sessionId) {
      res.setHeader('X-Transmission-Session-Id', this.sessionId);
      return refuse(
        req,
        res,
        409,
        'text/html',
        `<h1>409: Conflict</h1><p><code>X-Transmission-Session-Id: ${this.sessionId}</code></p>`,
      );
    }
    if (req.method !== 'POST') {
      return refuse(req, res, 405, 'text/plain', 'POST only');
    }
    const body = await readBody(req, this.o.maxBodyBytes ?? DEFAULT_MAX_BODY);
    if (body === 'too-large') return tooLarge(req, res);
    const text = body.toString('utf8');
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (e) {
      // A body that names jsonrpc is answered in that form; otherwise as Transmission 3 did.
      if (text.includes('"jsonrpc"'))
        return this.sendJson(res, errorResponse(null, JsonRpcCode.PARSE_ERROR, (e as Error).message));
      send(res, 400, 'text/plain', 'malformed JSON');
      return;
    }
    let closeRequested = false;
    const ctx: MethodContext = {
      daemon: this.daemon,
      sessionId: this.sessionId,
      rpcPort: this.portValue,
      requestClose: () => (closeRequested = true),
    };
    // Shut down only once the answer is out.
    res.once('finish', () => {
      if (closeRequested) this.o.onClose?.();
    });
    if (isJsonRpc(request)) return this.answerJsonRpc(res, ctx, request);
    const r =
      request && typeof request === 'object' && !Array.isArray(request)
        ? (request as Record<string, unknown>)
        : {};
    const answer = await runMethod(ctx, r['method'], r['arguments']);
    const tag = r['tag'];
    const out: Record<string, unknown> = { arguments: answer.arguments, result: answer.result };
    if (typeof tag === 'number' && Number.isInteger(tag)) out['tag'] = tag;
    this.sendJson(res, out);
  }

  /** One JSON-RPC 2.0 request or a batch, run in order; notifications get no response. */
  private async answerJsonRpc(res: ServerResponse, ctx: MethodContext, request: unknown): Promise<void> {
    const batch = Array.isArray(request);
    if (batch && (request.length === 0 || request.length > MAX_BATCH))
      return this.sendJson(
        res,
        errorResponse(null, JsonRpcCode.INVALID_REQUEST, `a batch holds 1 to ${MAX_BATCH} requests`),
      );
    const responses: JsonRpcResponse[] = [];
    for (const item of batch ? request : [request]) {
      const call = parseRequest(item);
      if (!('kind' in call)) {
        responses.push(call);
        continue;
      }
      if (call.skip) continue;
      const reply = responseTo(call, await runMethod(ctx, call.method, call.arguments));
      if (reply) responses.push(reply);
    }
    if (responses.length === 0) {
      res.setHeader('X-Transmission-Session-Id', this.sessionId);
      res.statusCode = 204;
      res.end();
      return;
    }
    this.sendJson(res, batch ? responses : responses[0]!);
  }

  private sendJson(res: ServerResponse, value: unknown): void {
    res.setHeader('X-Transmission-Session-Id', this.sessionId);
    send(res, 200, 'application/json; charset=UTF-8', JSON.stringify(value));
  }

  private hostAllowed(host: string | undefined): boolean {
    if (!host) return true;
    const name = host
      .replace(/:\d+$/, '')
      .replace(/^\[(.*)\]$/, '$1')
      .toLowerCase();
    if (isIP(name) || name === 'localhost' || name === 'localhost.') return true;
    return (this.o.hostWhitelist ?? []).some((w) => w.toLowerCase() === name);
  }

  private authorized(header: string | undefined): boolean {
    const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
    if (!m) return false;
    const given = Buffer.from(Buffer.from(m[1]!, 'base64').toString('utf8'));
    const wanted = Buffer.from(`${this.o.username}:${this.o.password}`);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }
}
