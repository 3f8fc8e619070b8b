import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

const mainJs = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

function nbt(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('nbt create --v2 / --hybrid, and nbt info shows the version, both hashes and file roots', async () => {
  const tmp = await tempDir();
  try {
    const dir = join(tmp.path, 'content');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'one.bin'), seededBytes(100_000, 1));
    await writeFile(join(dir, 'sub', 'two.bin'), seededBytes(5000, 2));
    for (const [flag, version] of [
      ['--v2', 2],
      ['--hybrid', 'hybrid'],
    ] as const) {
      const out = join(tmp.path, `${version}.torrent`);
      const created = await nbt(['create', dir, '-o', out, '-l', '32K', '--no-date', flag]);
      assert.equal(created.code, 0, created.stderr);
      const m = parseTorrent(await readFile(out));
      assert.equal(m.version, version);
      // The same torrent as the library makes with the same options (--no-date; created by differs).
      const lib = await createTorrent(dir, { version, pieceLength: 32768, date: false });
      assert.ok(m.infoHashes.v2!.equals(lib.metainfo.infoHashes.v2!));
      assert.match(created.stdout, new RegExp(`info-hash v2 ${m.infoHashes.v2!.toString('hex')}`));
      assert.match(created.stdout, /2 files/, 'pad files are not counted');
      if (version === 'hybrid')
        assert.match(created.stdout, new RegExp(`info-hash ${m.infoHashes.v1!.toString('hex')}\n`));
      else assert.doesNotMatch(created.stdout, /info-hash [0-9a-f]{40}\n/);

      const human = await nbt(['info', out]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, version === 2 ? /Version:\s+2 \(BEP 52\)/ : /Version:\s+hybrid/);
      assert.match(human.stdout, new RegExp(`Info-hash v2:\\s+${m.infoHashes.v2!.toString('hex')}`));
      assert.equal(/Info-hash:\s+[0-9a-f]{40}/.test(human.stdout), version === 'hybrid');
      for (const f of m.files.filter((x) => !x.pad))
        assert.match(human.stdout, new RegExp(`root ${f.piecesRoot!.toString('hex')}`));
      assert.doesNotMatch(human.stdout, /\.pad/);

      const json = JSON.parse((await nbt(['info', out, '--json'])).stdout) as Record<string, unknown>;
      assert.equal(json.version, version);
      assert.equal(json.infoHashV2, m.infoHashes.v2!.toString('hex'));
      assert.equal(json.infoHashV1, m.infoHashes.v1?.toString('hex'));
      assert.match(String(json.magnet), new RegExp(`xt=urn:btmh:1220${m.infoHashes.v2!.toString('hex')}`));
      const files = json.files as { path: string; piecesRoot?: string; pad?: boolean }[];
      assert.equal(
        files.find((f) => f.path === 'content/one.bin')!.piecesRoot,
        m.files[0]!.piecesRoot!.toString('hex'),
      );

      const magnet = await nbt(['info', String(json.magnet), '--json']);
      const mj = JSON.parse(magnet.stdout) as Record<string, unknown>;
      assert.equal(mj.infoHashV2, m.infoHashes.v2!.toString('hex'));
      assert.equal(mj.infoHashV1, m.infoHashes.v1?.toString('hex'));
    }
    const both = await nbt(['create', dir, '-o', join(tmp.path, 'x.torrent'), '--v2', '--hybrid']);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--v2 and --hybrid exclude each other/);
  } finally {
    await tmp.cleanup();
  }
});
