import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatDuration,
  formatRate,
  parseSize,
  printable,
  terminalSafe,
} from '../../../src/cli/format.js';
import { ProgressBar, RateMeter, eta } from '../../../src/cli/progress.js';
import { parsePieceLength } from '../../../src/cli/commands/create.js';
import { FakeClock } from '../../../src/util/clock.js';

test('formatBytes / formatRate / formatDuration / parseSize', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1 KiB');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(15.5 * 1024 * 1024), '15.5 MiB');
  assert.equal(formatBytes(1 << 30), '1 GiB');
  assert.equal(formatBytes(NaN), '?');
  assert.equal(formatRate(2048), '2 KiB/s');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(7260), '2h01m');
  assert.equal(formatDuration(2 * 86400 + 3600), '2d01h');
  assert.equal(formatDuration(Infinity), '?');
  assert.equal(parseSize('256K'), 262144);
  assert.equal(parseSize('1MiB'), 1 << 20);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('1.5g'), 1.5 * 2 ** 30);
  assert.equal(parseSize('x'), undefined);
  assert.equal(parsePieceLength('18'), 1 << 18);
  assert.equal(parsePieceLength('1M'), 1 << 20);
  assert.equal(parsePieceLength('16384'), 16384);
  assert.throws(() => parsePieceLength('13'));
  assert.throws(() => parsePieceLength('100000'));
});

test('RateMeter and eta', () => {
  const m = new RateMeter(5000);
  assert.equal(m.rate(), 0);
  m.sample(0, 0);
  m.sample(1000, 500);
  assert.equal(m.rate(), 500);
  for (let t = 2000; t <= 20_000; t += 1000) m.sample(t, 500 + (t - 1000) * 2);
  assert.equal(m.rate(), 2000); // old slow samples have left the window
  assert.equal(eta(4000, 2000), 2);
  assert.equal(eta(0, 0), 0);
  assert.equal(eta(10, 0), Infinity);
});

test('ProgressBar: redrawn bar on a TTY, plain lines per 10% otherwise', () => {
  const clock = new FakeClock();
  const tty = {
    text: '',
    isTTY: true,
    columns: 100,
    write(s: string) {
      this.text += s;
    },
  };
  const bar = new ProgressBar(tty, 'hashing', 1000, clock);
  clock.advance(200);
  bar.update(500);
  assert.match(tty.text, /^\rhashing \[#+-+\]\s+50\.0% 500 B\/1000 B/);
  clock.advance(10);
  bar.update(600); // throttled: within 100 ms of the last draw
  assert.doesNotMatch(tty.text, /60\.0%/);
  clock.advance(200);
  bar.done();
  assert.match(tty.text, /\rhashing: 1000 B in 0s .*\n$/);

  const pipe = {
    text: '',
    isTTY: false,
    write(s: string) {
      this.text += s;
    },
  };
  const plain = new ProgressBar(pipe, 'hashing', 100, clock);
  for (let i = 0; i <= 100; i++) plain.update(i);
  plain.done();
  const lines = pipe.text.trimEnd().split('\n');
  assert.equal(lines.length, 11);
  assert.equal(lines[0], 'hashing: 0% of 100 B');
  assert.equal(lines[9], 'hashing: 90% of 100 B');
  assert.ok(!pipe.text.includes('\r') && !pipe.text.includes('\u001b'), 'no terminal control codes');
});

test('printable escapes every control character; terminalSafe keeps only newline, tab and the redraw', () => {
  assert.equal(printable('a\x1b]0;t\x07b\nc\u009b\u202e'), 'a\\u001b]0;t\\u0007b\\u000ac\\u009b\\u202e');
  assert.equal(printable('plain, ünïcode ✓'), 'plain, ünïcode ✓');
  let got = '';
  const out = terminalSafe({ write: (c: string) => (got += c), isTTY: true, columns: 99 });
  assert.equal(out.isTTY, true);
  assert.equal(out.columns, 99);
  out.write('\r[##--] line\x1b[K\n\tx\x1b[2J\x1b]52;c;AA==\x07\u009b\x7f');
  assert.equal(got, '\r[##--] line\x1b[K\n\tx\\u001b[2J\\u001b]52;c;AA==\\u0007\\u009b\\u007f');
  // A C1 character inside JSON text becomes a JSON escape: the value survives a parse.
  got = '';
  out.write(JSON.stringify({ s: 'a\u009bb' }));
  assert.deepEqual(JSON.parse(got), { s: 'a\u009bb' });
  assert.doesNotMatch(got, /\u009b/);
});
