import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { encode } from '../../../src/bencode/index.js';
import { tempDir } from '../../helpers/tmp.js';

const mainJs = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

test('`nbt info … | head`: a reader that goes away ends the command quietly (no EPIPE stack)', async () => {
  const tmp = await tempDir();
  try {
    // 20,000 file lines: far more than a pipe buffer, so writes are still going when it closes.
    const files = Array.from({ length: 20_000 }, (_, i) => ({ length: 1, path: ['dir', `file-${i}.bin`] }));
    const torrent = join(tmp.path, 'many.torrent');
    await writeFile(
      torrent,
      encode({ info: { name: 'many', 'piece length': 16384, pieces: Buffer.alloc(40), files } }),
    );
    const child = spawn(process.execPath, [mainJs, 'info', torrent], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `head -1`: read the first chunk, then close our end of the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.on('close', (c, s) => r([c, s])),
    );
    clearTimeout(timer);
    assert.equal(signal, null, 'not killed');
    assert.equal(stderr, '', 'nothing on stderr');
    assert.equal(code, 141, 'exits as a command ended by SIGPIPE does');
  } finally {
    await tmp.cleanup();
  }
});
