/**
 * The npm package as users get it: `npm pack` of this checkout, installed (its runtime
 * dependencies from the registry, as on a fresh machine) into an empty
 * project with a fresh HOME and npm cache; then `npx nbt demo`, `npx nbt daemon --help`, and the
 * installed `nbt daemon`, which answers the RPC, serves the web UI and exits 0 on session-close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, tempDir } from '../helpers/tmp.js';
import { RpcClient } from '../helpers/rpc-client.js';

const run = promisify(execFile);

test(
  'npm pack installs into an empty project; npx nbt demo and nbt daemon run from it',
  { timeout: 240_000 },
  async () => {
    const dir = await tempDir('nbt-pack-');
    const env = {
      ...process.env,
      HOME: join(dir.path, 'home'),
      npm_config_cache: join(dir.path, 'npm-cache'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    try {
      await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir.path], {
        env,
        timeout: 60_000,
      });
      const tarball = (await readdir(dir.path)).find((f) => f.endsWith('.tgz'));
      assert.ok(tarball, 'npm pack made a tarball');
      const project = join(dir.path, 'project');
      await mkdir(project, { recursive: true });
      await mkdir(env.HOME, { recursive: true });
      await run('npm', ['init', '-y'], { cwd: project, env, timeout: 30_000 });
      // No runtime dependencies: it installs with no registry at all.
      await run('npm', ['install', '--no-audit', '--no-fund', join(dir.path, tarball)], {
        cwd: project,
        env,
        timeout: 60_000,
      });
      const demo = await run(
        'npx',
        ['--no-install', 'nbt', 'demo', '--size', '4M', '--leechers', '1', '--json'],
        { cwd: project, env, timeout: 120_000 },
      );
      assert.match(demo.stdout, /"event":"summary"/);
      const help = await run('npx', ['--no-install', 'nbt', 'daemon', '--help'], {
        cwd: project,
        env,
        timeout: 60_000,
      });
      assert.match(help.stdout, /Usage: nbt daemon/);

      // The daemon from the installed bin (with npx in between, npx would own the exit status).
      const rpcPort = await freePort();
      const args = [
        'daemon',
        '--config-dir',
        join(dir.path, 'cfg'),
        '--rpc-port',
        String(rpcPort),
        '--port',
        '0',
        '--no-dht',
        '--json',
      ];
      const child = spawn(join(project, 'node_modules', '.bin', 'nbt'), args, {
        cwd: project,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      child.stderr.on('data', (d: Buffer) => (log += d.toString()));
      const exit = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) => resolve(`${code}/${signal}`)),
      );
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      try {
        const t0 = Date.now();
        while (!log.includes('"rpc listening"')) {
          if (Date.now() - t0 > 30_000 || child.exitCode !== null)
            throw new Error(`daemon did not start: ${log}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const rpc = new RpcClient(rpcPort);
        assert.equal((await rpc.ok('session-get', { fields: ['rpc-version'] }))['rpc-version'], 17);
        // The web UI's page and compiled modules ship in the package.
        for (const path of ['/', '/ui/app.js', '/ui/style.css']) {
          const res = await fetch(`http://127.0.0.1:${rpcPort}${path}`);
          assert.equal(res.status, 200, `${path} from the installed package`);
        }
        await rpc.ok('session-close');
        assert.equal(await exit, '0/null', log);
        assert.match(log, /"daemon stopped"/);
      } finally {
        clearTimeout(timer);
        child.kill('SIGKILL');
      }
    } finally {
      await dir.cleanup();
    }
  },
);
