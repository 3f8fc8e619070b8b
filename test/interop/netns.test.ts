/**
 * The namespace lab itself: nodes reach each other and the root namespace over the bridge, and
 * a crashed run's namespaces, bridge and processes are removed by the next run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetnsLab, deleteStaleNetns, requireNetns } from '../helpers/netns.js';
import { cleanupStack } from '../helpers/cleanup.js';

const helpers = new URL('../helpers/netns.js', import.meta.url);

/** Killed processes whose parent died may linger as zombies until init reaps them. */
function deadOrZombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

function namespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0] ?? '');
}

test('lab nodes talk to each other and to the root namespace over TCP', async (t) => {
  if (!requireNetns(t)) return;
  const defer = cleanupStack(t);
  const lab = NetnsLab.create(2);
  defer(() => lab.cleanup());
  const [a, b] = lab.nodes;
  assert.ok(a && b && a.address !== b.address);
  // A TCP echo in node 0; node 1 connects to it by address; the root namespace too.
  const server = `require('net').createServer(s=>s.pipe(s)).listen(7000,'${a.address}',()=>console.log('up'))`;
  const echo = lab.spawn(0, process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    echo.stdout!.once('data', () => resolve());
    echo.once('exit', (c) => reject(new Error(`echo server exited ${c}`)));
  });
  const client = `const s=require('net').connect(7000,'${a.address}',()=>s.end('ping'));s.on('data',d=>process.stdout.write(d))`;
  const fromB = spawnSync('ip', ['netns', 'exec', b.name, process.execPath, '-e', client], {
    encoding: 'utf8',
    timeout: 5_000,
  });
  assert.equal(fromB.stdout, 'ping', fromB.stderr);
  const fromRoot = spawnSync(process.execPath, ['-e', client], { encoding: 'utf8', timeout: 5_000 });
  assert.equal(fromRoot.stdout, 'ping', fromRoot.stderr);
  // No route out of the lab: only the /24 and nothing else (no default route).
  const routes = spawnSync('ip', ['-n', b.name, 'route', 'show'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n');
  assert.deepEqual(routes.length, 1);
  assert.match(routes[0]!, new RegExp(`^10\\.77\\.${lab.subnet}\\.0/24 dev eth0`));
});

test('a crashed run leaves nothing behind after the next create', async (t) => {
  if (!requireNetns(t)) return;
  // A child process builds a lab, starts a sleeper inside it, and is SIGKILLed (no cleanup).
  const script = `import(${JSON.stringify(fileURLToPath(helpers))}).then(({NetnsLab})=>{
    const lab=NetnsLab.create(1);lab.spawn(0,'sleep',['60'],{stdio:'ignore',detached:true}).unref();
    console.log(JSON.stringify({ns:lab.nodes[0].name,bridge:lab.bridge}));setInterval(()=>{},1000);})`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise<{ ns: string; bridge: string }>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) =>
      resolve(JSON.parse(d.toString()) as { ns: string; bridge: string }),
    );
    child.once('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
  const sleeper = spawnSync('ip', ['netns', 'pids', info.ns], { encoding: 'utf8' }).stdout.trim();
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(namespaces().includes(info.ns), 'the crashed run left its namespace');
  assert.ok(sleeper.length > 0, 'a process was running inside');
  deleteStaleNetns();
  assert.ok(!namespaces().includes(info.ns), 'stale namespace deleted');
  assert.equal(spawnSync('ip', ['link', 'show', info.bridge]).status !== 0, true, 'stale bridge deleted');
  for (const pid of sleeper.split(/\s+/))
    assert.ok(deadOrZombie(Number(pid)), `process ${pid} inside was killed`);
});

test('shape() limits a node upload rate with tc tbf', async (t) => {
  if (!requireNetns(t)) return;
  const defer = cleanupStack(t);
  const lab = NetnsLab.create(2);
  defer(() => lab.cleanup());
  const [a, b] = lab.nodes;
  assert.ok(a && b);
  lab.shape(0, { upKbit: 4_000 }); // 500 kB/s out of node 0
  lab.shape(1, { downKbit: 100_000 }); // the bridge-side qdisc installs (too fast to matter here)
  const bytes = 1_000_000;
  const server = `require('net').createServer(s=>s.end(Buffer.alloc(${bytes}))).listen(7001,'${a.address}',()=>console.log('up'))`;
  const src = lab.spawn(0, process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    src.stdout!.once('data', () => resolve());
    src.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  const client = `const t=Date.now();let n=0;require('net').connect(7001,'${a.address}').on('data',d=>n+=d.length).on('end',()=>console.log(JSON.stringify({n,ms:Date.now()-t})))`;
  const r = spawnSync('ip', ['netns', 'exec', b.name, process.execPath, '-e', client], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const got = JSON.parse(r.stdout) as { n: number; ms: number };
  t.diagnostic(`${got.n} bytes in ${got.ms} ms through a 4 Mbit/s tbf`);
  assert.equal(got.n, bytes);
  assert.ok(got.ms >= 1_500 && got.ms <= 5_000, `1 MB took ${got.ms} ms; 4 Mbit/s means ~2000 ms`);
});
