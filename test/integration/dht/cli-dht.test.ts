import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dhtCommand } from '../../../src/cli/commands/dht.js';
import type { CliIO } from '../../../src/cli/types.js';
import { DhtNode } from '../../../src/dht/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { formatAddress } from '../../../src/util/compact.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

function io(): { io: CliIO; out: string[] } {
  const out: string[] = [];
  const sink = { write: (s: string) => out.push(s) };
  return {
    io: { stdout: sink, stderr: sink, verbose: false, signal: new AbortController().signal, version: 'test' },
    out,
  };
}

test(
  'nbt dht: bootstraps from a loopback node, looks up, saves and reloads its state',
  { timeout: 20_000 },
  async (t) => {
    const dir = await tempDir();
    const nodes: DhtNode[] = [];
    t.after(async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await dir.cleanup();
    });
    for (let i = 0; i < 4; i++) {
      const n = new DhtNode({
        host: '127.0.0.1',
        port: 0,
        bootstrap: i ? [nodes[0]!.address()!] : [],
        queryTimeoutMs: 500,
      });
      await n.listen();
      if (i) await n.bootstrap();
      nodes.push(n);
    }
    const infoHash = seededBytes(20, 8);
    await nodes[2]!.announce(infoHash, 4321);
    const state = join(dir.path, 'dht.json');
    const args = [
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--bootstrap',
      formatAddress(nodes[0]!.address()!),
      '--lookup',
      infoHash.toString('hex'),
      '--json',
      '--state',
      state,
    ];
    const run1 = io();
    assert.equal(await dhtCommand.run(args, run1.io), 0);
    const events = run1.out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; peers?: string[]; nodes?: number });
    assert.deepEqual(events.find((e) => e.event === 'lookup')?.peers, ['127.0.0.1:4321']);
    assert.ok((events.find((e) => e.event === 'bootstrapped')?.nodes ?? 0) >= 3);
    const saved = JSON.parse(await readFile(state, 'utf8')) as { id: string; nodes: unknown[] };
    assert.ok(saved.nodes.length >= 3);

    const run2 = io();
    assert.equal(
      await dhtCommand.run(
        [
          '--port',
          '0',
          '--host',
          '127.0.0.1',
          '--bootstrap',
          formatAddress(nodes[0]!.address()!),
          '--lookup',
          infoHash.toString('hex'),
          '--state',
          state,
        ],
        run2.io,
      ),
      0,
    );
    const text = run2.out.join('');
    assert.match(text, new RegExp(`DHT node ${saved.id}`), 'same id after restore');
    assert.match(text, /lookup [0-9a-f]{40}: 1 peers 127\.0\.0\.1:4321/);
  },
);

test('nbt dht: usage errors', async () => {
  await assert.rejects(dhtCommand.run(['--lookup', 'xyz'], io().io), (e) => isNbtError(e, 'CLI_USAGE'));
  await assert.rejects(dhtCommand.run(['--port', '70000'], io().io), (e) => isNbtError(e, 'CLI_USAGE'));
  await assert.rejects(dhtCommand.run(['--bootstrap', 'nope'], io().io), (e) => isNbtError(e, 'CLI_USAGE'));
});
