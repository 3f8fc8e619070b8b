/**
 * The qBittorrent API's form parsing: multipart/form-data (files, fields, quoting, preamble,
 * binary data holding CRLFs), urlencoded bodies over the query, and on any input either a Form
 * or NbtError QBT_BAD_FORM — never another exception.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NbtError } from '../../../src/util/errors.js';
import { multipartBoundary, parseForm, parseMultipart } from '../../../src/rpc/qbittorrent/form.js';
import { prng } from '../../helpers/tmp.js';

const CRLF = '\r\n';

function multipart(
  boundary: string,
  parts: { headers: string[]; body: Buffer | string }[],
  preamble = '',
): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble)];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}${CRLF}${p.headers.join(CRLF)}${CRLF}${CRLF}`));
    chunks.push(Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body));
    chunks.push(Buffer.from(CRLF));
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return Buffer.concat(chunks);
}

test('multipart: files keep their bytes (CRLFs and boundary-like text inside), fields their text', () => {
  const data = Buffer.concat([Buffer.from('d8:announce\r\n--b\r\n'), Buffer.from([0, 255, 13, 10, 45, 45])]);
  const body = multipart(
    'b0undary',
    [
      {
        headers: ['Content-Disposition: form-data; name="torrents"; filename="a \\"q\\".torrent"'],
        body: data,
      },
      {
        headers: ['content-disposition: form-data; name=savepath', 'Content-Type: text/plain'],
        body: '/srv/ü',
      },
      { headers: ['Content-Disposition: form-data; name="empty"'], body: '' },
    ],
    'preamble text\r\n',
  );
  const form = parseMultipart(body, 'b0undary');
  assert.equal(form.files.length, 1);
  assert.equal(form.files[0]!.field, 'torrents');
  assert.equal(form.files[0]!.filename, 'a "q".torrent');
  assert.deepEqual(form.files[0]!.data, data);
  assert.equal(form.fields.get('savepath'), '/srv/ü');
  assert.equal(form.fields.get('empty'), '');
});

test('boundaries: quoted, unquoted; a multipart type without one is refused; others are not multipart', () => {
  assert.equal(multipartBoundary('multipart/form-data; boundary=abc'), 'abc');
  assert.equal(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b:c"'), 'a b:c');
  assert.equal(multipartBoundary('application/x-www-form-urlencoded'), undefined);
  assert.throws(() => multipartBoundary('multipart/form-data'), { code: 'QBT_BAD_FORM' });
});

test('urlencoded bodies override the query; an empty content type is urlencoded; JSON is refused', () => {
  const f = parseForm('hashes=all&a=1', Buffer.from('a=2&tags=x%2Cy'), 'application/x-www-form-urlencoded');
  assert.deepEqual(Object.fromEntries(f.fields), { hashes: 'all', a: '2', tags: 'x,y' });
  assert.equal(parseForm('', Buffer.from('x=1'), '').fields.get('x'), '1');
  assert.throws(() => parseForm('', Buffer.from('{}'), 'application/json'), { code: 'QBT_BAD_FORM' });
});

test('too many parts and oversized part headers are refused', () => {
  const many = multipart(
    'b',
    Array.from({ length: 300 }, (_, i) => ({
      headers: [`Content-Disposition: form-data; name="f${i}"`],
      body: 'v',
    })),
  );
  assert.throws(() => parseMultipart(many, 'b'), { code: 'QBT_BAD_FORM' });
  const huge = multipart('b', [
    { headers: [`Content-Disposition: form-data; name="x"; y="${'z'.repeat(9000)}"`], body: '' },
  ]);
  assert.throws(() => parseMultipart(huge, 'b'), { code: 'QBT_BAD_FORM' });
});

test('any damage to a valid body gives a Form or QBT_BAD_FORM, nothing else', () => {
  const valid = multipart('xyz', [
    {
      headers: ['Content-Disposition: form-data; name="torrents"; filename="t.torrent"'],
      body: Buffer.alloc(300, 7),
    },
    { headers: ['Content-Disposition: form-data; name="category"'], body: 'tv' },
  ]);
  const rand = prng(42);
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(valid);
    const kind = i % 3;
    if (kind === 0) for (let k = 0; k < 4; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    const body = kind === 1 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
    const input =
      kind === 2 ? Buffer.from(Array.from({ length: 200 }, () => Math.floor(rand() * 256))) : body;
    try {
      parseMultipart(input, 'xyz');
    } catch (e) {
      assert.ok(e instanceof NbtError && e.code === 'QBT_BAD_FORM', `unexpected ${String(e)}`);
    }
  }
});
