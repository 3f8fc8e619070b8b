/**
 * `socks` (with ip-address) cost ~40 ms of CPU at every start; only SOCKS5 proxies need it, so
 * it is loaded on first use. A fresh process importing the whole client must not load it, and
 * socksClient() must still hand out the real class.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { socksClient } from '../../../src/proxy/socks-lib.js';

test('importing the client does not load socks', () => {
  const client = fileURLToPath(new URL('../../../src/client/index.js', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(client)});
    const r = createRequire(${JSON.stringify(client)});
    process.stdout.write(String(r.resolve('socks') in r.cache));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(out, 'false');
});

test('socksClient() loads the library on demand', () => {
  const SocksClient = socksClient();
  assert.equal(typeof SocksClient.createConnection, 'function');
  assert.equal(socksClient(), SocksClient);
});
