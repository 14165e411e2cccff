import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { componentNodeFlags, knetBin, portFlags, rangeFlags } from './testing.js';

const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(cmd: string, args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const knet = (...args: string[]) => sh(process.execPath, [knetBin, ...args]);

function killFromPidFile(dir: string): void {
  try {
    process.kill(Number(readFileSync(join(dir, 'knet.pid'), 'utf8')), 'SIGTERM');
  } catch {
    // not running
  }
}

test('knet up --detach, status, a second up, kubectl, down, and a restart that keeps every object', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-cli-'));
  t.teardown(() => killFromPidFile(dir));
  const ports = [...(await portFlags()), ...rangeFlags()];

  // Through the bin's own #! line, as a user runs it: its V8 flags go on to the background supervisor.
  const up = await sh(knetBin, ['up', '--detach', '--data-dir', dir, ...ports]);
  t.is(up.code, 0, up.stderr);
  t.regex(up.stdout, /kubeconfig\s+\S+kubeconfig/);
  const cmdline = (pid: string | number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const binFlags = /^#!\/usr\/bin\/env -S node (.*)$/m.exec(readFileSync(knetBin, 'utf8'))![1]!.split(' ');
  const supervisor = cmdline(readFileSync(join(dir, 'knet.pid'), 'utf8').trim());
  for (const f of binFlags) t.true(supervisor.includes(f), `supervisor lacks ${f}: ${supervisor.join(' ')}`);

  const st = await knet('status', '--data-dir', dir);
  t.is(st.code, 0, st.stderr);
  // Each component runs with its own V8 flags.
  for (const [name, flags] of Object.entries(componentNodeFlags)) {
    const pid = new RegExp(`^${name}\\s+(\\d+)\\s`, 'm').exec(st.stdout)?.[1];
    t.truthy(pid, `${name} in ${st.stdout}`);
    const args = cmdline(pid!);
    for (const f of flags) t.true(args.includes(f), `${name} lacks ${f}: ${args.join(' ')}`);
  }
  t.regex(st.stdout, /ipam\s+\d+\s+127\.0\.0\.1:\d+\s+true\s+0/);
  t.regex(st.stdout, /apiserver\s+\d+\s+https:\/\/127\.0\.0\.1:\d+\s+true\s+0/);

  const again = await knet('up', '--data-dir', dir, ...ports);
  t.is(again.code, 1);
  t.regex(again.stderr, /already running on data dir .* \(pid \d+\)/);
  t.regex(again.stderr, /knet down --data-dir/);

  const kubeconfig = join(dir, 'kubeconfig');
  const kubectl = (...args: string[]) => sh('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args]);
  const ns = await kubectl('get', 'namespaces', '-o', 'name');
  t.is(ns.code, 0, ns.stderr);
  for (const n of ['default', 'kube-system', 'kube-public']) t.true(ns.stdout.includes(`namespace/${n}`));

  // TLS and authentication by default: no credentials → 401; each component has least privilege.
  const server = /server: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]!;
  t.regex(server, /^https:/);
  const anonymous = await sh('curl', ['-sk', `${server}/api/v1/namespaces`]);
  t.regex(anonymous.stdout, /"reason": ?"Unauthorized"/);
  t.regex(anonymous.stdout, /"code": ?401/);
  const canI = (component: string, ...args: string[]) =>
    sh('kubectl', ['--kubeconfig', join(dir, 'kubeconfigs', `${component}.kubeconfig`), '--cache-dir', join(dir, 'kube-cache'), 'auth', 'can-i', ...args]);
  t.is((await canI('dns', 'list', 'services', '-A')).stdout.trim(), 'yes');
  t.is((await canI('dns', 'create', 'services', '-n', 'default')).stdout.trim(), 'no');
  t.is((await canI('controller', 'create', 'endpointslices.discovery.k8s.io', '-n', 'default')).stdout.trim(), 'yes');
  t.is((await canI('proxy', 'delete', 'pods', '-n', 'default')).stdout.trim(), 'no');

  const manifest = join(dir, 'db.yaml');
  writeFileSync(manifest, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: database\nspec:\n  selector:\n    app: db\n  ports:\n  - port: 5432\n');
  const applied = await kubectl('apply', '-f', manifest);
  t.is(applied.code, 0, applied.stderr);
  const ip = (await kubectl('get', 'svc', 'database', '-o', 'jsonpath={.spec.clusterIP}')).stdout;
  t.regex(ip, /^127\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);

  const down = await knet('down', '--data-dir', dir);
  t.is(down.code, 0, down.stderr);
  const stopped = await knet('status', '--data-dir', dir);
  t.is(stopped.code, 1);
  t.regex(stopped.stderr, /no cluster is running .*`knet up`/s);

  // The restart asks for synced acknowledgements: the apiserver gets the flag.
  t.is((await knet('up', '--detach', '--data-dir', dir, ...ports, '--fsync', 'always')).code, 0);
  const apiserverPid = /^apiserver\s+(\d+)\s/m.exec((await knet('status', '--data-dir', dir)).stdout)?.[1];
  t.regex(cmdline(apiserverPid!).join(' '), /--fsync always/);
  const after = await kubectl('get', 'svc', 'database', '-o', 'jsonpath={.spec.clusterIP}');
  t.is(after.stdout, ip, after.stderr);
  t.is((await knet('down', '--data-dir', dir)).code, 0);
});

test('knet --version prints the version of its package', async (t) => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const r = await sh(process.execPath, [knetBin, '--version']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), version);
});

test('knet up names a busy port and the flag that avoids it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-cli-'));
  t.teardown(() => killFromPidFile(dir));
  const { createServer } = await import('node:net');
  const busy = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => busy.once('listening', r));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const res = await knet('up', '--data-dir', dir, ...(await portFlags()), '--api-port', String(port));
  t.is(res.code, 1);
  t.regex(res.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
  t.regex(res.stderr, /--api-port/);
});

test('knet run refuses a preStop sleep longer than the grace period, and names the fix', async (t) => {
  const r = await knet('run', 'x', '--pre-stop-sleep', '10', '--grace-period', '5', '--', 'true');
  t.is(r.code, 1);
  t.regex(r.stderr, /--pre-stop-sleep 10 is longer than --grace-period 5, which counts from its start\n\s+give a grace period at least as long, e.g. --grace-period 15/);
});
