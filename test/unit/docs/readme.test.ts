/**
 * The README stays true to the code: its example blocks are the example files verbatim, its
 * disconnect table is the DisconnectReason enum, and its "Coming from Net::BitTorrent" tables
 * name every Peer method and disconnect constant of Net::BitTorrent's manual and every event
 * of Net::BitTorrent 0.050. `node scripts/readme.mjs` regenerates the generated parts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DisconnectReason, disconnectDescriptions } from '../../../src/peer/disconnect.js';

const readme = readFileSync('README.md', 'utf8');

/** The text between `<!-- name -->` and `<!-- /name -->`. */
function section(name: string): string {
  const start = readme.indexOf(`<!-- ${name} -->`);
  const end = readme.indexOf(`<!-- /${name} -->`);
  assert.ok(start >= 0 && end > start, `README has no ${name} section`);
  return readme.slice(start, end);
}

/** The text under a heading, up to the next heading of the same or a higher level. */
function underHeading(heading: string): string {
  const level = /^#+/.exec(heading)![0].length;
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no heading ${heading}`);
  const rest = readme.slice(start + heading.length + 2);
  const next = new RegExp(`\\n#{1,${level}} `).exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

test('README: every example block equals its file, and every example is shown', () => {
  const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\n\n```ts\n([\s\S]*?)```\n/g)];
  const shown = blocks.map((m) => m[1]!).sort();
  const files = readdirSync('examples')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `examples/${f}`)
    .sort();
  assert.deepEqual(shown, files);
  for (const [, path, body] of blocks) {
    assert.equal(
      body,
      readFileSync(path!, 'utf8'),
      `${path} differs from its README block: node scripts/readme.mjs`,
    );
  }
});

test('README: the disconnect table is exactly the DisconnectReason enum', () => {
  const rows = section('disconnect-reasons')
    .split('\n')
    .filter((l) => /^\| -?\d+ /.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim().replaceAll('\\|', '|')),
    );
  const expected = Object.entries(DisconnectReason)
    .filter((e): e is [string, DisconnectReason] => typeof e[1] === 'number')
    .map(([name, value]) => [String(value), `\`${name}\``, disconnectDescriptions[value]]);
  assert.ok(expected.length > 30);
  assert.deepEqual(rows, expected);
});

// Net::BitTorrent::Peer's manual (the seed document), kept as a fixture.
const manual = readFileSync(join('test', 'fixtures', 'docs', 'Net-BitTorrent-Peer.txt'), 'utf8');

test('README: every Net::BitTorrent::Peer method has a row in the Peer table', () => {
  const methods = manual.slice(manual.indexOf('\nConstructor\n'), manual.indexOf('\nNotes\n'));
  const names = [...methods.matchAll(/^([a-z_]+) \(.*\)$/gm)].map((m) => m[1]!);
  assert.ok(names.length >= 14, `found only ${names.join(', ')}`);
  const table = section('peer-methods');
  for (const name of names) assert.match(table, new RegExp(`^\\| \`${name}\\(`, 'm'), `no row for ${name}()`);
});

test('README: every disconnect constant of the manual (and PREXISTING) is mapped', () => {
  const constants = [...manual.matchAll(/^(DISCONNECT_[A-Z0-9_]+)$/gm)].map((m) => m[1]!);
  assert.ok(constants.includes('DISCONNECT_PREXISTING'));
  const table = underHeading('### Disconnect reason constants');
  for (const c of constants) {
    const row = table.split('\n').find((l) => l.startsWith(`| \`${c}\``));
    assert.ok(row, `no row for ${c}`);
    const ours = c.replace('DISCONNECT_', '').replace('PREXISTING', 'PREEXISTING');
    assert.ok(ours in DisconnectReason, `${ours} is not a DisconnectReason`);
    assert.match(row, new RegExp(`DisconnectReason\\.${ours}\\b`));
    // The number in the row is the one Net::BitTorrent used, and ours is the same.
    const number = Number(row.split('|')[2]!.trim());
    assert.equal(DisconnectReason[ours as keyof typeof DisconnectReason], number, c);
  }
  assert.match(table, /`PREXISTING`/);
});

test('README: every Net::BitTorrent 0.050 client event and Torrent method is mapped', () => {
  // From Net::BitTorrent 0.050's Client and Torrent (see /work/shared/specs/net-bittorrent-0.050.md).
  const events = [
    'ip_filter',
    'peer_connect',
    'peer_disconnect',
    'peer_read',
    'peer_write',
    'incoming_packet',
    'outgoing_packet',
    'tracker_connect',
    'tracker_disconnect',
    'tracker_read',
    'tracker_write',
    'tracker_success',
    'tracker_failure',
    'piece_hash_pass',
    'piece_hash_fail',
    'file_open',
    'file_close',
    'file_read',
    'file_write',
    'file_error',
  ];
  const eventTable = underHeading('### Client callbacks → events');
  for (const e of events) assert.ok(eventTable.includes(`\`${e}`), `event ${e} not mapped`);
  const torrentMethods = [
    'hashcheck',
    'start',
    'stop',
    'pause',
    'save_resume_data',
    'infohash',
    'trackers',
    'bitfield',
    'files',
    'size',
    'downloaded',
    'uploaded',
    'error',
    'comment',
    'created_by',
    'creation_date',
    'name',
    'private',
    'is_complete',
    'piece_count',
    'peers',
    'as_string',
  ];
  const torrentTable = underHeading('### Net::BitTorrent::Torrent');
  for (const m of torrentMethods)
    assert.ok(torrentTable.includes(`\`${m}(`), `Torrent method ${m} not mapped`);
  for (const bit of [
    'STARTED',
    'CHECKING',
    'START_AFTER_CHECK',
    'CHECKED',
    'ERROR',
    'PAUSED',
    'LOADED',
    'QUEUED',
  ])
    assert.match(torrentTable, new RegExp(`^\\| \`${bit}\` `, 'm'), `status bit ${bit} not mapped`);
});

test('README: the quick start is on the first screen and names the exact commands', () => {
  const firstScreen = readme.split('\n').slice(0, 40).join('\n');
  assert.match(firstScreen, /```sh\nnpm install && npm run demo\n```/);
  assert.match(firstScreen, /```sh\nnpm test\n```/);
});

test('README: every nbt command and each of its long options is in the CLI section', async () => {
  const { commands } = await import('../../../src/cli/commands/index.js');
  const cli = underHeading('## The `nbt` command');
  for (const entry of commands) {
    assert.match(cli, new RegExp(`^\\| \`nbt ${entry.name}\\b`, 'm'), `no row for nbt ${entry.name}`);
    const { usage } = await entry.load();
    for (const [option] of usage.matchAll(/--[a-z][a-z-]*/g)) {
      if (option === '--help') continue;
      assert.ok(
        cli.includes(`\`${option}`) || cli.includes(`/${option}`),
        `nbt ${entry.name} ${option} missing`,
      );
    }
  }
});
