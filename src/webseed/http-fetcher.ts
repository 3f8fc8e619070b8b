/**
 * HTTP(S) range requests for web seeds over node:http/https with keep-alive agents: redirects
 * (a few, browser scheme rules, every host checked by the address filter before connecting),
 * a bounded body (exactly the bytes asked for are read, the rest is never taken), and a stall
 * timeout on the injected Clock. What a response means is decided by ./response.ts.
 */
import * as http from 'node:http';
import type * as https from 'node:https';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import type { Clock, TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { httpsModule } from '../util/lazy-require.js';
import { judgeHttpSeedResponse, judgeResponse, parseHttpSeedWait, redirectTarget } from './response.js';

export interface HttpRangeFetcherOptions {
  clock: Clock;
  /** False blocks an IP address (the client's IP filter); checked for every connection. */
  allowAddress?: (address: string) => boolean;
  /** Redirects followed per request (default 5). */
  maxRedirects?: number;
  /** No response byte for this long: the request fails (ms, default 30 s). */
  stallTimeoutMs?: number;
  /** Bytes a server without Range support may make us read and drop (default 4 MiB). */
  maxSkip?: number;
  /** Connections per host and scheme (default 8). */
  maxSockets?: number;
  /**
   * The session's download limit: called with each chunk's size; a promise means "over budget",
   * and the response is paused until it resolves (the peers' gate, so both share one limit).
   */
  downloadGate?: (bytes: number) => Promise<void> | void;
  userAgent?: string;
  /**
   * Agents to connect with instead of our own keep-alive ones (the session's proxy tunnels or
   * bound local address; see src/proxy/agent.ts). Closed by close() like ours.
   */
  agents?: { http: http.Agent; https: https.Agent };
}

export interface RangeFetch {
  url: string;
  /** First byte inside the file and how many. */
  start: number;
  length: number;
  /** The file's length in the torrent. */
  fileLength: number;
  /**
   * BEP 17: the URL names the bytes (no Range header); a 200 body is exactly `length` bytes and a
   * 503 body says how many seconds to wait.
   */
  httpSeed?: boolean;
  /** Body bytes of the range, in order (`length` in all on success). Views valid during the call. */
  onData(chunk: Buffer): void;
}

export type FetchOutcome =
  /** Every byte arrived; `url` is where they came from after redirects. */
  | { ok: true; url: string }
  | { ok: false; kind: 'retry' | 'fail' | 'aborted'; code: string; message: string; afterMs?: number };

export interface FetchHandle {
  /** Stops the transfer (its outcome is then `aborted`). */
  abort(): void;
  readonly done: Promise<FetchOutcome>;
}

const DRAIN_LIMIT = 64 * 1024;

export class HttpRangeFetcher {
  private readonly httpAgent: http.Agent;
  /** Made for the first https: URL (node:https loads then). */
  private secureAgent: https.Agent | undefined;
  private readonly sockets: number;
  private readonly maxRedirects: number;
  private readonly stallMs: number;
  private readonly maxSkip: number;
  private readonly userAgent: string;

  constructor(private readonly o: HttpRangeFetcherOptions) {
    const sockets = o.maxSockets ?? 8;
    this.httpAgent =
      o.agents?.http ?? new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
    this.sockets = sockets;
    this.maxRedirects = o.maxRedirects ?? 5;
    this.stallMs = o.stallTimeoutMs ?? 30_000;
    this.maxSkip = o.maxSkip ?? 4 * 1024 * 1024;
    this.userAgent = o.userAgent ?? 'net-bittorrent';
  }

  /** Closes idle keep-alive connections and refuses nothing else: transfers in progress end on their own. */
  close(): void {
    this.httpAgent.destroy();
    this.secureAgent?.destroy();
  }

  private get httpsAgent(): https.Agent {
    return (this.secureAgent ??=
      this.o.agents?.https ??
      new (httpsModule().Agent)({ keepAlive: true, maxSockets: this.sockets, maxFreeSockets: this.sockets }));
  }

  fetch(req: RangeFetch): FetchHandle {
    let current: http.ClientRequest | undefined;
    let finished = false;
    let stall: TimerHandle | undefined;
    let lastActivity = this.o.clock.now();
    let settle!: (r: FetchOutcome) => void;
    const done = new Promise<FetchOutcome>((resolve) => (settle = resolve));
    const finish = (r: FetchOutcome): void => {
      if (finished) return;
      finished = true;
      stall?.cancel();
      settle(r);
    };
    const armStall = (): void => {
      const left = this.stallMs - (this.o.clock.now() - lastActivity);
      stall = this.o.clock.setTimeout(
        () => {
          if (finished) return;
          if (this.o.clock.now() - lastActivity >= this.stallMs) {
            current?.destroy();
            finish({
              ok: false,
              kind: 'retry',
              code: 'WEBSEED_TIMEOUT',
              message: `no data for ${this.stallMs} ms`,
            });
          } else armStall();
        },
        Math.max(1, left),
      );
    };
    armStall();

    const attempt = (url: string, redirects: number): void => {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return finish({
          ok: false,
          kind: 'fail',
          code: 'WEBSEED_BAD_URL',
          message: `bad URL ${url.slice(0, 200)}`,
        });
      }
      const secure = parsed.protocol === 'https:';
      if (!secure && parsed.protocol !== 'http:')
        return finish({
          ok: false,
          kind: 'fail',
          code: 'WEBSEED_BAD_URL',
          message: `unsupported ${parsed.protocol}`,
        });
      const host = parsed.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && this.o.allowAddress && !this.o.allowAddress(host))
        return finish({
          ok: false,
          kind: 'fail',
          code: 'WEBSEED_IP_FILTERED',
          message: `${host} is blocked`,
        });
      const options: http.RequestOptions = {
        method: 'GET',
        agent: secure ? this.httpsAgent : this.httpAgent,
        headers: {
          ...(req.httpSeed ? {} : { range: `bytes=${req.start}-${req.start + req.length - 1}` }),
          'user-agent': this.userAgent,
          'accept-encoding': 'identity',
        },
        lookup: this.lookup,
      };
      const r = (secure ? httpsModule() : http).request(parsed, options);
      current = r;
      r.on('error', (e: Error & { code?: string }) => {
        if (e.code === 'WEBSEED_IP_FILTERED')
          finish({ ok: false, kind: 'fail', code: e.code, message: e.message });
        else finish({ ok: false, kind: 'retry', code: 'WEBSEED_CONNECTION', message: errorMessage(e) });
      });
      r.on('response', (res) => {
        lastActivity = this.o.clock.now();
        const status = res.statusCode ?? 0;
        const judged = req.httpSeed
          ? judgeHttpSeedResponse(status, res.headers, req.length)
          : judgeResponse(status, res.headers, {
              start: req.start,
              length: req.length,
              fileLength: req.fileLength,
              maxSkip: this.maxSkip,
            });
        if (judged.kind === 'wait-body') {
          // BEP 17 503: the body is the number of seconds to wait (a few bytes; more is junk).
          let text = '';
          const busy = (): void =>
            finish({
              ok: false,
              kind: 'retry',
              code: 'WEBSEED_UNAVAILABLE',
              message: 'HTTP 503',
              ...(parseHttpSeedWait(text) !== undefined ? { afterMs: parseHttpSeedWait(text)! } : {}),
            });
          res.setEncoding('latin1');
          res.on('data', (c: string) => {
            text += c;
            if (text.length > 32) res.destroy();
          });
          res.on('end', busy);
          res.on('close', busy);
          return;
        }
        const v = judged;
        if (v.kind !== 'body') {
          // Drain a small body so the connection stays reusable; never read an unbounded one.
          const len = Number(res.headers['content-length']);
          if (Number.isFinite(len) && len <= DRAIN_LIMIT) res.resume();
          else res.destroy();
        }
        if (v.kind === 'redirect') {
          if (redirects >= this.maxRedirects)
            return finish({
              ok: false,
              kind: 'fail',
              code: 'WEBSEED_BAD_REDIRECT',
              message: 'too many redirects',
            });
          const next = redirectTarget(url, v.location);
          if ('code' in next) return finish({ ok: false, kind: 'fail', ...next });
          return attempt(next.url, redirects + 1);
        }
        if (v.kind === 'retry')
          return finish({
            ok: false,
            kind: 'retry',
            code: v.code,
            message: v.message,
            ...(v.afterMs !== undefined ? { afterMs: v.afterMs } : {}),
          });
        if (v.kind === 'fail') return finish({ ok: false, kind: 'fail', code: v.code, message: v.message });
        let skip = v.skip;
        let left = v.length;
        let excess = 0;
        res.on('data', (chunk: Buffer) => {
          if (finished) {
            // More than we asked for: drop a little (the socket may stay reusable), never a lot.
            excess += chunk.length;
            if (excess > DRAIN_LIMIT) res.destroy();
            return;
          }
          lastActivity = this.o.clock.now();
          let c = chunk;
          if (skip > 0) {
            const n = Math.min(skip, c.length);
            skip -= n;
            c = c.subarray(n);
          }
          if (c.length === 0) return;
          if (c.length > left) c = c.subarray(0, left);
          const wait = this.o.downloadGate?.(c.length);
          if (wait) {
            res.pause();
            void wait.then(() => res.resume());
          }
          left -= c.length;
          try {
            req.onData(c);
          } catch (e) {
            res.destroy();
            return finish({ ok: false, kind: 'aborted', code: 'WEBSEED_ABORTED', message: errorMessage(e) });
          }
          if (left === 0) {
            // The rest (a whole file from a server without ranges) is not ours to read.
            if (!res.complete && (v.skip > 0 || res.statusCode === 200)) res.destroy();
            finish({ ok: true, url });
          }
        });
        res.on('end', () => {
          if (left > 0)
            finish({
              ok: false,
              kind: 'retry',
              code: 'WEBSEED_SHORT_BODY',
              message: `body ended ${left} bytes short`,
            });
        });
        res.on('error', (e) =>
          finish({ ok: false, kind: 'retry', code: 'WEBSEED_CONNECTION', message: errorMessage(e) }),
        );
        res.on('close', () => {
          if (left > 0)
            finish({
              ok: false,
              kind: 'retry',
              code: 'WEBSEED_SHORT_BODY',
              message: `body ended ${left} bytes short`,
            });
        });
      });
      r.end();
    };
    attempt(req.url, 0);
    return {
      abort: () => {
        if (finished) return;
        current?.destroy();
        finish({ ok: false, kind: 'aborted', code: 'WEBSEED_ABORTED', message: 'aborted' });
      },
      done,
    };
  }

  /** DNS lookup that refuses addresses the filter blocks (a name may not lead around it). */
  private readonly lookup: LookupFunction = (hostname, options: LookupOptions, cb) => {
    dnsLookup(
      hostname,
      { ...options, all: true },
      (err: NodeJS.ErrnoException | null, addrs: LookupAddress[]) => {
        if (err) return cb(err, options.all ? [] : '', 0);
        const allow = this.o.allowAddress;
        const ok = allow ? addrs.filter((a) => allow(a.address)) : addrs;
        if (ok.length === 0) {
          const e: NodeJS.ErrnoException = new Error(`${hostname} resolves only to blocked addresses`);
          e.code = 'WEBSEED_IP_FILTERED';
          return cb(e, options.all ? [] : '', 0);
        }
        if (options.all) cb(null, ok);
        else cb(null, ok[0]!.address, ok[0]!.family);
      },
    );
  };
}
