import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  judgeHttpSeedResponse,
  parseHttpSeedWait,
  judgeResponse,
  parseContentRange,
  parseRetryAfter,
  redirectTarget,
  MAX_RETRY_AFTER_MS,
} from '../../../src/webseed/response.js';

const want = { start: 1000, length: 500, fileLength: 10_000, maxSkip: 4096 };

test('206 is accepted only when Content-Range matches the range and the file size', () => {
  assert.deepEqual(
    judgeResponse(206, { 'content-range': 'bytes 1000-1499/10000', 'content-length': '500' }, want),
    {
      kind: 'body',
      skip: 0,
      length: 500,
    },
  );
  assert.equal(judgeResponse(206, { 'content-range': 'bytes 1000-1499/*' }, want).kind, 'body');
  const bad = (h: Record<string, string>): string => {
    const v = judgeResponse(206, h, want);
    return v.kind === 'fail' ? v.code : v.kind;
  };
  assert.equal(bad({}), 'WEBSEED_BAD_RANGE');
  assert.equal(bad({ 'content-range': 'bytes 0-499/10000' }), 'WEBSEED_BAD_RANGE');
  assert.equal(bad({ 'content-range': 'bytes 1000-1999/10000' }), 'WEBSEED_BAD_RANGE');
  assert.equal(bad({ 'content-range': 'bytes 1000-1499/20000' }), 'WEBSEED_WRONG_SIZE');
  assert.equal(
    bad({ 'content-range': 'bytes 1000-1499/10000', 'content-length': '501' }),
    'WEBSEED_BAD_RANGE',
  );
  assert.equal(bad({ 'content-range': 'garbage' }), 'WEBSEED_BAD_RANGE');
});

test('200 (no Range support): skip to the range within the limit, else refuse', () => {
  assert.deepEqual(judgeResponse(200, { 'content-length': '10000' }, want), {
    kind: 'body',
    skip: 1000,
    length: 500,
  });
  const far = judgeResponse(200, {}, { ...want, start: 5000 });
  assert.equal(far.kind === 'fail' && far.code, 'WEBSEED_NO_RANGES');
  const size = judgeResponse(200, { 'content-length': '9999' }, want);
  assert.equal(size.kind === 'fail' && size.code, 'WEBSEED_WRONG_SIZE');
});

test('redirects, retries and failures', () => {
  assert.deepEqual(judgeResponse(302, { location: '/x' }, want), { kind: 'redirect', location: '/x' });
  assert.equal(judgeResponse(301, {}, want).kind, 'fail');
  const busy = judgeResponse(503, { 'retry-after': '120' }, want);
  assert.deepEqual(busy, {
    kind: 'retry',
    code: 'WEBSEED_UNAVAILABLE',
    message: 'HTTP 503',
    afterMs: 120_000,
  });
  const soon = judgeResponse(
    503,
    { 'retry-after': 'Wed, 21 Oct 2026 07:28:30 GMT', date: 'Wed, 21 Oct 2026 07:28:00 GMT' },
    want,
  );
  assert.equal(soon.kind === 'retry' && soon.afterMs, 30_000);
  assert.equal(judgeResponse(500, {}, want).kind, 'retry');
  const missing = judgeResponse(404, {}, want);
  assert.equal(missing.kind === 'fail' && missing.code, 'WEBSEED_HTTP_ERROR');
});

test('Retry-After and Content-Range parsing bounds', () => {
  assert.equal(parseRetryAfter(undefined, undefined), undefined);
  assert.equal(parseRetryAfter('0', undefined), 0);
  assert.equal(parseRetryAfter('99999999', undefined), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('soon', undefined), undefined);
  // A date without the server's Date header cannot be measured: our own back-off applies.
  assert.equal(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', undefined), undefined);
  assert.deepEqual(parseContentRange('bytes 0-0/1'), { first: 0, last: 0, total: 1 });
  assert.equal(parseContentRange('bytes 5-4/10'), undefined);
  assert.equal(parseContentRange('bytes 0-10/10'), undefined);
  assert.equal(parseContentRange('bytes 0-1/' + '9'.repeat(30)), undefined);
});

test('redirect targets: relative resolved, https never down to http, only http(s)', () => {
  assert.deepEqual(redirectTarget('http://a/x/y', '../z#frag'), { url: 'http://a/z' });
  assert.deepEqual(redirectTarget('http://a/x', 'https://b/x'), { url: 'https://b/x' });
  assert.deepEqual(redirectTarget('https://a/x', 'https://b/x'), { url: 'https://b/x' });
  const down = redirectTarget('https://a/x', 'http://a/x');
  assert.ok('code' in down && down.code === 'WEBSEED_BAD_REDIRECT');
  const ftp = redirectTarget('http://a/x', 'ftp://a/x');
  assert.ok('code' in ftp && ftp.code === 'WEBSEED_BAD_REDIRECT');
  const junk = redirectTarget('http://a/x', 'http://[::1');
  assert.ok('code' in junk);
});

test('BEP 17 answers: 200 of exactly the bytes asked; 503 waits for its body; 404 fails', () => {
  assert.deepEqual(judgeHttpSeedResponse(200, { 'content-length': '500' }, 500), {
    kind: 'body',
    skip: 0,
    length: 500,
  });
  assert.equal(judgeHttpSeedResponse(200, {}, 500).kind, 'body');
  const wrong = judgeHttpSeedResponse(200, { 'content-length': '16384' }, 500);
  assert.equal(wrong.kind === 'fail' && wrong.code, 'WEBSEED_BAD_RANGE');
  assert.deepEqual(judgeHttpSeedResponse(503, {}, 500), { kind: 'wait-body' });
  assert.equal(judgeHttpSeedResponse(404, {}, 500).kind, 'fail');
  assert.equal(judgeHttpSeedResponse(500, {}, 500).kind, 'retry');
  assert.equal(parseHttpSeedWait(' 30\r\n'), 30_000);
  assert.equal(parseHttpSeedWait('soon'), undefined);
  assert.equal(parseHttpSeedWait('9999999999'), MAX_RETRY_AFTER_MS);
});
