/**
 * Request parameters of the qBittorrent Web API: the query string, and a body that is either
 * application/x-www-form-urlencoded or multipart/form-data (torrents/add uploads .torrent files).
 * The multipart parser works on the whole body (already bounded by the server's body limit) and
 * has limits of its own on parts and header size; anything malformed throws QBT_BAD_FORM.
 */
import { NbtError } from '../../util/errors.js';

export interface FormFile {
  field: string;
  filename: string;
  data: Buffer;
}

export interface Form {
  /** Text fields; a repeated name keeps its last value. */
  fields: Map<string, string>;
  files: FormFile[];
}

/** At most this many parts in one multipart body. */
const MAX_PARTS = 256;
/** At most this many bytes of headers in one part. */
const MAX_PART_HEADERS = 8 * 1024;

function bad(msg: string): NbtError {
  return new NbtError('QBT_BAD_FORM', msg);
}

export function parseUrlEncoded(text: string, into = new Map<string, string>()): Map<string, string> {
  for (const [k, v] of new URLSearchParams(text)) into.set(k, v);
  return into;
}

/** The boundary of a multipart/form-data content type, or undefined for other types. */
export function multipartBoundary(contentType: string): string | undefined {
  if (!/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b) throw bad('multipart body without a boundary');
  return b;
}

/** Splits a multipart/form-data body into text fields and files. */
export function parseMultipart(body: Buffer, boundary: string): Form {
  const form: Form = { fields: new Map(), files: [] };
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let at = body.indexOf(delimiter);
  if (at < 0) throw bad('multipart body without its boundary');
  at += delimiter.length;
  for (let parts = 0; ; parts++) {
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return form; // closing "--boundary--"
    // Transport padding (spaces, tabs) may follow a delimiter.
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) throw bad('malformed multipart delimiter');
    if (parts >= MAX_PARTS) throw bad(`more than ${MAX_PARTS} multipart parts`);
    at += 2;
    const headerEnd = body.indexOf('\r\n\r\n', at);
    if (headerEnd < 0 || headerEnd - at > MAX_PART_HEADERS) throw bad('malformed multipart part headers');
    const headers = body.subarray(at, headerEnd).toString('utf8');
    const end = body.indexOf(next, headerEnd + 4);
    if (end < 0) throw bad('multipart part without its closing boundary');
    addPart(form, headers, body.subarray(headerEnd + 4, end));
    at = end + next.length;
  }
}

function addPart(form: Form, headers: string, data: Buffer): void {
  let disposition: string | undefined;
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad('malformed multipart part header');
    if (line.slice(0, colon).trim().toLowerCase() === 'content-disposition')
      disposition = line.slice(colon + 1);
  }
  if (!disposition || !/^\s*form-data\s*(;|$)/i.test(disposition))
    throw bad('multipart part without Content-Disposition: form-data');
  const name = param(disposition, 'name');
  if (name === undefined) throw bad('multipart part without a name');
  const filename = param(disposition, 'filename');
  if (filename !== undefined) form.files.push({ field: name, filename, data: Buffer.from(data) });
  else form.fields.set(name, data.toString('utf8'));
}

function param(header: string, key: string): string | undefined {
  const re = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i');
  const m = re.exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!;
}

/** The form of a request: query parameters, then the body's fields over them. */
export function parseForm(query: string, body: Buffer, contentType: string): Form {
  const fields = parseUrlEncoded(query);
  if (body.length === 0) return { fields, files: [] };
  const boundary = multipartBoundary(contentType);
  if (boundary) {
    const f = parseMultipart(body, boundary);
    for (const [k, v] of f.fields) fields.set(k, v);
    return { fields, files: f.files };
  }
  // qBittorrent's clients send urlencoded bodies, some without a content type.
  if (contentType === '' || /^\s*application\/x-www-form-urlencoded/i.test(contentType))
    parseUrlEncoded(body.toString('utf8'), fields);
  else if (!/^\s*(text\/plain|application\/octet-stream)/i.test(contentType))
    throw bad(`unsupported content type ${contentType}`);
  return { fields, files: [] };
}
