import { open } from 'node:fs/promises';
import {
  buildMagnet,
  MAX_TORRENT_BYTES,
  parseMagnet,
  parseTorrent,
  type MagnetLink,
  type Metainfo,
} from '../../metainfo/index.js';
import { formatAddress } from '../../util/compact.js';
import { NbtError } from '../../util/errors.js';
import { parseCommandArgs, positionals } from '../args.js';
import { formatBytes, printable } from '../format.js';
import type { Command } from '../types.js';

const usage = `Usage: nbt info <file.torrent | magnet-link> [--json]

Shows what a .torrent or magnet link describes.

Options:
  --json    machine-readable output: version, infoHash (the 20-byte wire form), infoHashV1,
            infoHashV2, name, length, pieceLength, pieceCount, private,
            files [{path, length, piecesRoot?}], trackers (tiers), webSeeds, magnet, ...
`;

const MAX_TORRENT = MAX_TORRENT_BYTES;

async function readTorrentFile(path: string): Promise<Buffer> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new NbtError(
      'CLI_READ',
      `cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
    );
  });
  try {
    const { size } = await fh.stat();
    if (size > MAX_TORRENT)
      throw new NbtError('METAINFO_TOO_LARGE', `${path} is ${formatBytes(size)}, too large for a .torrent`);
    return await fh.readFile();
  } catch (e) {
    if (e instanceof NbtError) throw e;
    throw new NbtError('CLI_READ', `cannot read ${path}: ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
}

function magnetOf(m: Metainfo): string {
  return buildMagnet({
    infoHash: m.infoHashes.v1,
    infoHashV2: m.infoHashes.v2,
    name: m.name,
    trackers: m.announce.flat(),
  });
}

export function torrentJson(m: Metainfo): Record<string, unknown> {
  return {
    version: m.version,
    infoHash: m.infoHashHex,
    infoHashV1: m.infoHashes.v1?.toString('hex'),
    infoHashV2: m.infoHashes.v2?.toString('hex'),
    name: m.name,
    length: m.length,
    pieceLength: m.pieceLength,
    pieceCount: m.pieceCount,
    private: m.private,
    multiFile: m.multiFile,
    files: m.files.map((f) =>
      f.pad
        ? { path: f.name, length: f.length, pad: true }
        : { path: f.name, length: f.length, piecesRoot: f.piecesRoot?.toString('hex') },
    ),
    trackers: m.announce,
    webSeeds: m.urlList,
    nodes: m.nodes.map(formatAddress),
    comment: m.comment,
    createdBy: m.createdBy,
    creationDate: m.creationDate,
    magnet: magnetOf(m),
  };
}

function magnetJson(l: MagnetLink): Record<string, unknown> {
  return {
    magnet: true,
    infoHash: l.infoHashHex,
    infoHashV1: l.infoHashes.v1?.toString('hex'),
    infoHashV2: l.infoHashes.v2?.toString('hex'),
    name: l.name,
    trackers: l.trackers.map((t) => [t]),
    peers: l.peers.map(formatAddress),
    webSeeds: l.webSeeds,
    selectOnly: l.selectOnly,
  };
}

/** Lines of text per write: a 400,000-file listing is not built as one string first. */
const LINES_PER_WRITE = 2048;

function describeTorrent(m: Metainfo, write: (text: string) => void): void {
  const version = { 1: '1', 2: '2 (BEP 52)', hybrid: 'hybrid (v1 and v2, BEP 52)' }[m.version];
  const lines = [`Name:          ${printable(m.name)}`, `Version:       ${version}`];
  if (m.infoHashes.v1) lines.push(`Info-hash:     ${m.infoHashes.v1.toString('hex')}`);
  if (m.infoHashes.v2) lines.push(`Info-hash v2:  ${m.infoHashes.v2.toString('hex')}`);
  lines.push(
    `Size:          ${formatBytes(m.length)} (${m.length} bytes)`,
    `Pieces:        ${m.pieceCount} x ${formatBytes(m.pieceLength)} (last ${formatBytes(m.lastPieceLength)})`,
    `Private:       ${m.private ? 'yes' : 'no'}`,
  );
  if (m.createdBy) lines.push(`Created by:    ${printable(m.createdBy)}`);
  if (m.creationDate !== undefined)
    lines.push(`Created:       ${new Date(m.creationDate * 1000).toISOString()}`);
  if (m.comment) lines.push(`Comment:       ${printable(m.comment)}`);
  m.announce.forEach((tier, i) => lines.push(`Tracker tier ${i + 1}: ${tier.map(printable).join(' ')}`));
  for (const w of m.urlList) lines.push(`Web seed:      ${printable(w)}`);
  let real = 0;
  for (const f of m.files) if (!f.pad) real++;
  lines.push(`Files (${real}):`);
  for (const f of m.files) {
    if (f.pad) continue;
    lines.push(`  ${formatBytes(f.length).padStart(10)}  ${printable(f.name)}`);
    if (f.piecesRoot) lines.push(`${' '.repeat(14)}root ${f.piecesRoot.toString('hex')}`);
    if (lines.length >= LINES_PER_WRITE) write(lines.splice(0).join('\n') + '\n');
  }
  if (lines.length) write(lines.join('\n') + '\n');
}

function describeMagnet(l: MagnetLink): string {
  const lines = [`Magnet link`];
  if (l.infoHashes.v1) lines.push(`Info-hash:     ${l.infoHashes.v1.toString('hex')}`);
  if (l.infoHashes.v2) lines.push(`Info-hash v2:  ${l.infoHashes.v2.toString('hex')}`);
  if (l.name !== undefined) lines.push(`Name:          ${printable(l.name)}`);
  for (const t of l.trackers) lines.push(`Tracker:       ${printable(t)}`);
  for (const p of l.peers) lines.push(`Peer:          ${formatAddress(p)}`);
  for (const w of l.webSeeds) lines.push(`Web seed:      ${printable(w)}`);
  if (l.selectOnly) lines.push(`Select only:   ${l.selectOnly.join(',')}`);
  return lines.join('\n') + '\n';
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'show the contents of a .torrent or magnet link',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, { json: { type: 'boolean' } });
    const [target] = positionals(pos, ['file.torrent|magnet']);
    if (/^magnet:/i.test(target!)) {
      const link = parseMagnet(target!);
      io.stdout.write(values.json ? JSON.stringify(magnetJson(link), null, 2) + '\n' : describeMagnet(link));
      return 0;
    }
    const data = await readTorrentFile(target!);
    let m: Metainfo;
    try {
      m = parseTorrent(data);
    } catch (e) {
      if (e instanceof NbtError)
        throw new NbtError(e.code, `${target} is not a valid torrent: ${e.message}`, {
          cause: e,
          offset: e.offset,
        });
      throw e;
    }
    if (values.json) io.stdout.write(JSON.stringify(torrentJson(m), null, 2) + '\n');
    else describeTorrent(m, (text) => io.stdout.write(text));
    return 0;
  },
};
