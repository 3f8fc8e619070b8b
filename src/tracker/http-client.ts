/**
 * HTTP(S) tracker client: a thin I/O layer over the codec. One GET per request, no keep-alive,
 * a bounded number of redirects, a deadline from the injected Clock and a cap on the body size,
 * so a hostile tracker can cost at most `maxBodyBytes` of memory and `timeoutMs` of time.
 *
 * A tracker URL comes from a torrent, i.e. from anyone: redirects stay on the tracker's own host
 * (never a request forgery lever against another host or the local network), and every address
 * we connect to passes `allowAddress` (the Client's IP filter) after DNS resolution.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import { httpsModule } from '../util/lazy-require.js';
import {
  buildAnnounceUrl,
  buildScrapeUrl,
  parseAnnounceResponse,
  parseScrapeResponse,
  scrapeUrlFor,
} from './http-codec.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeResult, TrackerTransport } from './types.js';

export interface HttpTrackerOptions {
  clock?: Clock;
  /** Whole request deadline, redirects included (default 15 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  /** Redirects followed (default 5). */
  maxRedirects?: number;
  /**
   * Which redirects are followed: `same-host` (default: the same host name and port, or the
   * same host upgraded from http to https on the default port) or `none`. Others fail with
   * TRACKER_REDIRECT_REFUSED.
   */
  redirects?: 'same-host' | 'none';
  /**
   * False for an IP address we must not connect to (the Client's IP filter). Checked on every
   * address a tracker's host name resolves to, and on literal addresses; a host with no allowed
   * address fails with TRACKER_IP_FILTERED.
   */
  allowAddress?: (address: string) => boolean;
  userAgent?: string;
  /** Extra trusted CA certificates (PEM) for HTTPS trackers, e.g. a private tracker's own CA. */
  ca?: string | Buffer;
  /**
   * Agents to connect with (a proxy's tunnels, a bound local address); default none (a fresh
   * connection each). Through a proxy, host names go to the proxy: `allowAddress` then sees
   * literal addresses only.
   */
  agents?: { http: HttpAgent; https: HttpsAgent };
}

export class HttpTrackerClient implements TrackerTransport {
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly maxRedirects: number;
  private readonly userAgent: string;
  private readonly ca: string | Buffer | undefined;
  private readonly redirects: 'same-host' | 'none';
  private readonly allowAddress: ((address: string) => boolean) | undefined;
  private readonly agents: { http: HttpAgent; https: HttpsAgent } | undefined;

  constructor(o: HttpTrackerOptions = {}) {
    this.agents = o.agents;
    this.clock = o.clock ?? systemClock;
    this.timeoutMs = o.timeoutMs ?? 15_000;
    this.maxBodyBytes = o.maxBodyBytes ?? 1 << 20;
    this.maxRedirects = o.maxRedirects ?? 5;
    this.userAgent = o.userAgent ?? 'net-bittorrent/0.1';
    this.ca = o.ca;
    this.redirects = o.redirects ?? 'same-host';
    this.allowAddress = o.allowAddress;
  }

  async announce(url: string, request: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
    return parseAnnounceResponse(await this.get(buildAnnounceUrl(url, request), signal));
  }

  async scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeResult> {
    const scrapeUrl = scrapeUrlFor(url);
    if (!scrapeUrl)
      throw new NbtError('TRACKER_NO_SCRAPE', `no scrape URL for ${url} (path does not end in "announce")`);
    return parseScrapeResponse(await this.get(buildScrapeUrl(scrapeUrl, infoHashes), signal));
  }

  /** Nothing to release: every request uses its own connection. */
  close(): void {}

  /** GETs `url`, following redirects, and resolves with the body of a 200 response. */
  get(url: string, signal?: AbortSignal): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let current: { destroy(): void } | undefined;
      const finish = (err: Error | undefined, body?: Buffer): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        current?.destroy();
        if (err) reject(err);
        else resolve(body!);
      };
      const onAbort = (): void => finish(new NbtError('TRACKER_ABORTED', 'tracker request aborted'));
      const timer = this.clock.setTimeout(
        () => finish(new NbtError('TRACKER_TIMEOUT', `no tracker response within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });

      const fetchOnce = (target: string, redirectsLeft: number): void => {
        let parsed: URL;
        try {
          parsed = new URL(target);
        } catch {
          return finish(new NbtError('TRACKER_BAD_URL', `bad tracker URL: ${target}`));
        }
        const request =
          parsed.protocol === 'http:'
            ? httpRequest
            : parsed.protocol === 'https:'
              ? httpsModule().request
              : undefined;
        if (!request)
          return finish(new NbtError('TRACKER_BAD_URL', `unsupported tracker URL scheme ${parsed.protocol}`));
        const literal = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
        if (this.allowAddress && isIP(literal) && !this.allowAddress(literal))
          return finish(filtered(literal));
        const req = request(
          parsed,
          {
            method: 'GET',
            agent: this.agents
              ? parsed.protocol === 'https:'
                ? this.agents.https
                : this.agents.http
              : false,
            ...(this.allowAddress ? { lookup: filteredLookup(this.allowAddress) } : {}),
            headers: { 'user-agent': this.userAgent, 'accept-encoding': 'identity', connection: 'close' },
            ...(this.ca !== undefined && parsed.protocol === 'https:' ? { ca: this.ca } : {}),
          },
          (res: IncomingMessage) => {
            const status = res.statusCode ?? 0;
            if (status >= 300 && status < 400 && status !== 304) {
              res.resume();
              const location = res.headers.location;
              if (!location)
                return finish(new NbtError('TRACKER_HTTP_STATUS', `HTTP ${status} without Location`));
              if (redirectsLeft <= 0) return finish(new NbtError('TRACKER_REDIRECTS', 'too many redirects'));
              let next: string;
              try {
                next = new URL(location, parsed).toString();
              } catch {
                return finish(
                  new NbtError('TRACKER_BAD_URL', `bad redirect Location: ${location.slice(0, 200)}`),
                );
              }
              if (this.redirects === 'none' || !sameHost(parsed, new URL(next)))
                return finish(
                  new NbtError(
                    'TRACKER_REDIRECT_REFUSED',
                    `tracker redirect to ${next.slice(0, 200)} not followed (${
                      this.redirects === 'none' ? 'redirects are off' : 'another host'
                    })`,
                  ),
                );
              return fetchOnce(next, redirectsLeft - 1);
            }
            const declared = Number(res.headers['content-length']);
            if (declared > this.maxBodyBytes) {
              finish(tooLarge(this.maxBodyBytes));
              return res.destroy();
            }
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > this.maxBodyBytes) {
                finish(tooLarge(this.maxBodyBytes));
                res.destroy();
              } else chunks.push(c);
            });
            res.on('error', (e) =>
              finish(new NbtError('TRACKER_HTTP_ERROR', `tracker response: ${errorMessage(e)}`)),
            );
            res.on('close', () => {
              if (!res.complete) finish(new NbtError('TRACKER_HTTP_ERROR', 'tracker response was cut short'));
            });
            res.on('end', () => {
              const body = Buffer.concat(chunks, size);
              // Many trackers answer "failure reason" with a non-200 status; let the body speak first.
              if (status !== 200 && !(body.length > 0 && body[0] === 0x64 /* d */))
                return finish(new NbtError('TRACKER_HTTP_STATUS', `tracker answered HTTP ${status}`));
              finish(undefined, body);
            });
          },
        );
        current = req;
        req.on('error', (e) =>
          finish(
            e instanceof NbtError
              ? e // refused by the IP filter in filteredLookup
              : new NbtError('TRACKER_HTTP_ERROR', `tracker request failed: ${errorMessage(e)}`),
          ),
        );
        req.end();
      };
      fetchOnce(url, this.maxRedirects);
    });
  }
}

/**
 * A redirect we follow: the same host name and port, or the same host moved from http to https
 * on the default port. Never a downgrade from https, never another host or port.
 */
function sameHost(from: URL, to: URL): boolean {
  if (from.hostname.toLowerCase() !== to.hostname.toLowerCase()) return false;
  if (from.protocol === to.protocol) return from.port === to.port;
  return from.protocol === 'http:' && to.protocol === 'https:' && to.port === '';
}

function filtered(address: string): NbtError {
  return new NbtError('TRACKER_IP_FILTERED', `tracker address ${address} is blocked by the IP filter`);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** dns.lookup keeping only the addresses `allow` accepts (both the single and the `all` form). */
function filteredLookup(allow: (address: string) => boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const ok = addresses.filter((a) => allow(a.address));
      if (ok.length === 0)
        return callback(
          filtered(`${hostname} (${addresses.map((a) => a.address).join(', ')})`) as NodeJS.ErrnoException,
          [],
        );
      if (options.all) return callback(null, ok);
      callback(null, ok[0]!.address, ok[0]!.family);
    });
  };
}

function tooLarge(limit: number): NbtError {
  return new NbtError('TRACKER_RESPONSE_TOO_LARGE', `tracker response larger than ${limit} bytes`);
}
