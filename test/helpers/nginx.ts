/**
 * Debian's nginx as a web seed for tests: a generated config in a temp dir, bound to a free port
 * on 127.0.0.1, run in the foreground as an unprivileged user (nobody when the tests run as
 * root), logs and pid in the temp dir. `locations` adds config inside the server block (faults:
 * redirects, 503s, other roots).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from './tmp.js';
import { waitForPort } from './opentracker.js';

export const NGINX = '/usr/sbin/nginx';

export interface NginxServer {
  readonly port: number;
  /** http://127.0.0.1:port */
  readonly origin: string;
  /** The access log so far (one line per request: "METHOD URI STATUS RANGE"). */
  accessLog(): Promise<string>;
  stop(): Promise<void>;
}

const NOBODY = 65534;

/** Makes `path` and the directories above it up to `/tmp…` readable by nobody. */
async function openUp(paths: string[]): Promise<void> {
  for (const p of paths) await chmod(p, 0o755).catch(() => undefined);
}

export async function startNginx(o: {
  root: string;
  locations?: string;
  port?: number;
}): Promise<NginxServer> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: run scripts/install-test-peers.sh`);
  const dir = await tempDir('nbt-nginx-');
  const port = o.port ?? (await freePort());
  const d = dir.path;
  for (const sub of ['tmp', 'logs']) await mkdir(join(d, sub));
  const conf = `
worker_processes 1;
daemon off;
pid ${d}/logs/nginx.pid;
error_log ${d}/logs/error.log warn;
events { worker_connections 256; }
http {
  log_format ranges '$request_method $request_uri $status "$http_range"';
  access_log ${d}/logs/access.log ranges;
  client_body_temp_path ${d}/tmp/body;
  proxy_temp_path ${d}/tmp/proxy;
  fastcgi_temp_path ${d}/tmp/fastcgi;
  uwsgi_temp_path ${d}/tmp/uwsgi;
  scgi_temp_path ${d}/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 30s;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:${port};
    root ${o.root};
    ${o.locations ?? ''}
  }
}
`;
  await writeFile(join(d, 'nginx.conf'), conf);
  const root = process.getuid?.() === 0;
  if (root) {
    // Unprivileged: nobody must read the config and data and write the logs.
    await openUp([d, o.root]);
    for (const sub of ['tmp', 'logs']) await chown(join(d, sub), NOBODY, NOBODY);
  }
  const proc: ChildProcess = spawn(
    NGINX,
    ['-p', d, '-c', join(d, 'nginx.conf'), '-e', join(d, 'logs/error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
    },
  );
  // nginx outlives a crashed test process otherwise (it does not watch its parent).
  const reap = (): void => {
    proc.kill('SIGKILL');
  };
  process.once('exit', reap);
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForPort('127.0.0.1', port, 5000),
      exited.then(() => {
        throw new Error(`nginx exited: ${stderr}`);
      }),
    ]);
  } catch (e) {
    proc.kill('SIGKILL');
    await dir.cleanup();
    throw e;
  }
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    accessLog: () => readFile(join(d, 'logs/access.log'), 'utf8').catch(() => ''),
    stop: async () => {
      process.off('exit', reap);
      if (proc.exitCode === null) {
        proc.kill('SIGQUIT');
        const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
      await dir.cleanup();
    },
  };
}

/** Makes a data directory tree readable by the unprivileged nginx (tests run as root in CI). */
export async function shareWithNginx(paths: string[]): Promise<void> {
  if (process.getuid?.() === 0) await openUp(paths);
}
