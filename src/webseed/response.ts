/**
 * What to make of a web seed's HTTP response, as pure functions (no sockets): the status and
 * headers of an answer to `Range: bytes=a-b` decide whether its body is the bytes we asked for,
 * how many to skip or read, whether to follow a redirect, or how long to wait before asking again.
 */

/** The range we asked for. */
export interface RangeExpectation {
  /** First byte wanted, inside the file. */
  start: number;
  /** Bytes wanted. */
  length: number;
  /** The file's length in the torrent (a Content-Range total must match it). */
  fileLength: number;
  /**
   * A server without Range support answers 200 with the whole file: we read (and drop) up to
   * this many bytes before `start` rather than refuse it.
   */
  maxSkip: number;
}

export type ResponseVerdict =
  /** Read `skip` bytes and drop them, then `length` bytes of the range; stop there. */
  | { kind: 'body'; skip: number; length: number }
  | { kind: 'redirect'; location: string }
  /** Try again later: after `afterMs` when the server said (Retry-After), else our back-off. */
  | { kind: 'retry'; code: string; message: string; afterMs: number | undefined }
  /** The seed cannot serve this torrent (missing file, wrong size, no ranges): drop it. */
  | { kind: 'fail'; code: string; message: string };

export type HeaderValue = string | string[] | undefined;
export type Headers = Readonly<Record<string, HeaderValue>>;

function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `bytes first-last/total` (total may be '*'); undefined if malformed. */
export function parseContentRange(
  value: string,
): { first: number; last: number; total: number | undefined } | undefined {
  const m = /^\s*bytes\s+(\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)\s*$/i.exec(value);
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = Number(m[2]);
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (last < first || (total !== undefined && last >= total)) return undefined;
  return { first, last, total };
}

/** At most an hour: a server may not park us for longer. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Retry-After as delay-seconds or an HTTP-date; a date is measured against the response's own
 * Date header (the server's clock, not ours). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, date: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Math.min(MAX_RETRY_AFTER_MS, Number(v) * 1000);
  const at = Date.parse(v);
  const now = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(at) || Number.isNaN(now)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

function contentLength(h: Headers): number | undefined {
  const v = header(h, 'content-length');
  return v !== undefined && /^\s*\d{1,16}\s*$/.test(v) ? Number(v) : undefined;
}

/** Judges a response to a range request (headers keyed in lower case, as node:http gives them). */
export function judgeResponse(status: number, headers: Headers, want: RangeExpectation): ResponseVerdict {
  const end = want.start + want.length;
  if (status === 206) {
    const raw = header(headers, 'content-range');
    const cr = raw === undefined ? undefined : parseContentRange(raw);
    if (!cr)
      return {
        kind: 'fail',
        code: 'WEBSEED_BAD_RANGE',
        message: `206 with Content-Range ${raw ?? '(none)'}`,
      };
    if (cr.total !== undefined && cr.total !== want.fileLength)
      return {
        kind: 'fail',
        code: 'WEBSEED_WRONG_SIZE',
        message: `file is ${cr.total} bytes on the seed, ${want.fileLength} in the torrent`,
      };
    if (cr.first !== want.start || cr.last !== end - 1)
      return {
        kind: 'fail',
        code: 'WEBSEED_BAD_RANGE',
        message: `asked for bytes ${want.start}-${end - 1}, got ${cr.first}-${cr.last}`,
      };
    const len = contentLength(headers);
    if (len !== undefined && len !== want.length)
      return {
        kind: 'fail',
        code: 'WEBSEED_BAD_RANGE',
        message: `Content-Length ${len} for ${want.length} bytes`,
      };
    return { kind: 'body', skip: 0, length: want.length };
  }
  if (status === 200) {
    // No Range support: the whole file follows.
    const len = contentLength(headers);
    if (len !== undefined && len !== want.fileLength)
      return {
        kind: 'fail',
        code: 'WEBSEED_WRONG_SIZE',
        message: `file is ${len} bytes on the seed, ${want.fileLength} in the torrent`,
      };
    if (want.start > want.maxSkip)
      return {
        kind: 'fail',
        code: 'WEBSEED_NO_RANGES',
        message: `the server ignores Range (200 for bytes ${want.start}-${end - 1})`,
      };
    return { kind: 'body', skip: want.start, length: want.length };
  }
  if (status === 301 || status === 302 || status === 303 || status === 307 || status === 308) {
    const location = header(headers, 'location');
    if (!location)
      return { kind: 'fail', code: 'WEBSEED_BAD_REDIRECT', message: `${status} without Location` };
    return { kind: 'redirect', location };
  }
  if (status === 503 || status === 429) {
    return {
      kind: 'retry',
      code: 'WEBSEED_UNAVAILABLE',
      message: `HTTP ${status}`,
      afterMs: parseRetryAfter(header(headers, 'retry-after'), header(headers, 'date')),
    };
  }
  if (status >= 500 || status === 408)
    return { kind: 'retry', code: 'WEBSEED_HTTP_ERROR', message: `HTTP ${status}`, afterMs: undefined };
  if (status === 416)
    return { kind: 'fail', code: 'WEBSEED_WRONG_SIZE', message: `416 for bytes ${want.start}-${end - 1}` };
  return { kind: 'fail', code: 'WEBSEED_HTTP_ERROR', message: `HTTP ${status}` };
}

/**
 * Judges a BEP 17 HTTP seed's answer to a piece request: 200 with exactly the bytes asked (a
 * Content-Length, when given, must say so); 503 means wait, for the seconds its body says
 * (`readBody`: read at most 32 bytes and give them to parseHttpSeedWait); redirects as for
 * BEP 19; anything else is an error worth retrying later, as BEP 17 asks.
 */
export function judgeHttpSeedResponse(
  status: number,
  headers: Headers,
  length: number,
): ResponseVerdict | { kind: 'wait-body' } {
  if (status === 200) {
    const len = contentLength(headers);
    if (len !== undefined && len !== length)
      return { kind: 'fail', code: 'WEBSEED_BAD_RANGE', message: `${len} bytes for ${length} asked` };
    return { kind: 'body', skip: 0, length };
  }
  if (status === 503) return { kind: 'wait-body' };
  if (status === 301 || status === 302 || status === 303 || status === 307 || status === 308) {
    const location = header(headers, 'location');
    if (!location)
      return { kind: 'fail', code: 'WEBSEED_BAD_REDIRECT', message: `${status} without Location` };
    return { kind: 'redirect', location };
  }
  if (status === 404 || status === 410)
    return { kind: 'fail', code: 'WEBSEED_HTTP_ERROR', message: `HTTP ${status}` };
  return { kind: 'retry', code: 'WEBSEED_HTTP_ERROR', message: `HTTP ${status}`, afterMs: undefined };
}

/** A BEP 17 503 body: an ASCII number of seconds to wait (bounded), or undefined. */
export function parseHttpSeedWait(body: string): number | undefined {
  const v = body.trim();
  return /^\d{1,10}$/.test(v) ? Math.min(MAX_RETRY_AFTER_MS, Number(v) * 1000) : undefined;
}

/**
 * The URL a redirect leads to, or why not: relative locations resolve against the current URL;
 * only http(s); never from https down to http (as browsers block mixed content).
 */
export function redirectTarget(
  current: string,
  location: string,
): { url: string } | { code: string; message: string } {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    return { code: 'WEBSEED_BAD_REDIRECT', message: `bad Location ${location.slice(0, 200)}` };
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:')
    return { code: 'WEBSEED_BAD_REDIRECT', message: `redirect to ${next.protocol} refused` };
  if (new URL(current).protocol === 'https:' && next.protocol === 'http:')
    return { code: 'WEBSEED_BAD_REDIRECT', message: 'redirect from https to http refused' };
  next.hash = '';
  return { url: next.href };
}
