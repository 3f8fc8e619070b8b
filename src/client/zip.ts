/**
 * The one file of a zip archive (blocklists are published as a .zip holding one P2P or DAT
 * file). Pure and bounded: the end-of-central-directory record is looked for only in the last
 * 64 KiB + 22 bytes, at most MAX_ENTRIES central entries are read, every offset and length is
 * checked against the buffer, and the file is inflated (stored or deflate, nothing else) with an
 * output cap. Zip64, encrypted entries and multi-disk archives are refused.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { NbtError } from '../util/errors.js';

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const MAX_ENTRIES = 1000;

/** Whether the bytes start like a zip archive (a local file header). */
export function isZip(data: Buffer): boolean {
  return data.length >= 4 && data.readUInt32LE(0) === LOCAL_SIG;
}

function bad(why: string): NbtError {
  return new NbtError('BLOCKLIST_BAD', `blocklist: bad zip: ${why}`);
}

interface Entry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The contents of the archive's first file (directories skipped), at most `maxBytes` long. */
export function unzipSingle(data: Buffer, maxBytes: number): { name: string; data: Buffer } {
  const entry = firstFile(data);
  if (entry.flags & 1) throw bad('encrypted entry');
  if (entry.size > maxBytes) throw new NbtError('BLOCKLIST_BAD', `blocklist: over ${maxBytes} bytes`);
  const at = entry.localOffset;
  if (at + 30 > data.length || data.readUInt32LE(at) !== LOCAL_SIG) throw bad('no local header');
  const start = at + 30 + data.readUInt16LE(at + 26) + data.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > data.length) throw bad('entry past the end');
  const raw = data.subarray(start, end);
  let out: Buffer;
  if (entry.method === 0) out = Buffer.from(raw);
  else if (entry.method === 8) {
    try {
      out = inflateRawSync(raw, { maxOutputLength: maxBytes });
    } catch (e) {
      throw bad(`cannot inflate: ${(e as Error).message}`);
    }
  } else throw bad(`compression method ${entry.method}`);
  if (out.length !== entry.size) throw bad('size differs from the directory');
  // zlib.crc32 arrived in Node 20.15; without it the size check has to do.
  if (typeof crc32 === 'function' && crc32(out) >>> 0 !== entry.crc) throw bad('CRC mismatch');
  return { name: entry.name, data: out };
}

function firstFile(data: Buffer): Entry {
  const eocd = findEocd(data);
  const disk = data.readUInt16LE(eocd + 4);
  const cdDisk = data.readUInt16LE(eocd + 6);
  const count = data.readUInt16LE(eocd + 10);
  const cdSize = data.readUInt32LE(eocd + 12);
  const cdOffset = data.readUInt32LE(eocd + 16);
  if (disk !== 0 || cdDisk !== 0) throw bad('multi-disk archive');
  if (count === 0xffff || cdOffset === 0xffffffff) throw bad('zip64');
  if (cdOffset + cdSize > eocd) throw bad('central directory out of bounds');
  let p = cdOffset;
  for (let i = 0; i < Math.min(count, MAX_ENTRIES); i++) {
    if (p + 46 > eocd || data.readUInt32LE(p) !== CENTRAL_SIG) throw bad('broken central directory');
    const nameLength = data.readUInt16LE(p + 28);
    const next = p + 46 + nameLength + data.readUInt16LE(p + 30) + data.readUInt16LE(p + 32);
    if (next > eocd) throw bad('central entry out of bounds');
    const name = data.toString('utf8', p + 46, p + 46 + nameLength);
    const e: Entry = {
      name,
      flags: data.readUInt16LE(p + 8),
      method: data.readUInt16LE(p + 10),
      crc: data.readUInt32LE(p + 16),
      compressedSize: data.readUInt32LE(p + 20),
      size: data.readUInt32LE(p + 24),
      localOffset: data.readUInt32LE(p + 42),
    };
    if (e.compressedSize === 0xffffffff || e.size === 0xffffffff || e.localOffset === 0xffffffff)
      throw bad('zip64');
    if (!name.endsWith('/')) return e;
    p = next;
  }
  throw bad('no file in the archive');
}

/** The end-of-central-directory record: the last signature whose comment ends the buffer. */
function findEocd(data: Buffer): number {
  const lowest = Math.max(0, data.length - EOCD_SIZE - MAX_COMMENT);
  for (let p = data.length - EOCD_SIZE; p >= lowest; p--) {
    if (data.readUInt32LE(p) !== EOCD_SIG) continue;
    if (p + EOCD_SIZE + data.readUInt16LE(p + 20) === data.length) return p;
  }
  throw bad('no end of central directory');
}
