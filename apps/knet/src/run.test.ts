import test from 'ava';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'undici';
import { startCluster, knetBin, echoServer, rangeFlags, type TestCluster } from './testing.js';
import { until as pollUntil } from '@knet/component/testing';
import { localNodeName } from './node-name.js';

const exec = promisify(execFile);

let cluster: TestCluster;
test.before(async () => {
  cluster = await startCluster();
});
test.after.always(() => cluster?.stop());

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { podIP?: string; phase?: string; conditions?: { type: string; status: string }[] };
}

async function getPod(name: string): Promise<{ code: number; pod?: Pod }> {
  const res = await request(`${cluster.apiserver}/api/v1/namespaces/default/pods/${name}`, { dispatcher: cluster.dispatcher, headers: cluster.authHeaders });
  const body = (await res.body.json()) as Pod;
  return { code: res.statusCode, pod: res.statusCode === 200 ? body : undefined };
}

const until = <T>(fn: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> => pollUntil(what, fn, ms, 50);

function knetRun(name: string, port: number, ...extra: string[]): ChildProcess {
  const child = spawn(
    process.execPath,
    [knetBin, 'run', name, '--data-dir', cluster.dataDir, '-l', 'app=echo', '-p', `http:${port}`, '--readiness', 'http:/healthz', ...extra, '--', process.execPath, echoServer],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  return child;
}

/** knet run and the process it started, by process group, in case the test failed half-way. */
function killGroup(c: ChildProcess): void {
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

const ready = (p?: Pod) => p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

test('knet run creates a ready Pod with its own IP and the service environment, and removes it on Ctrl-C', async (t) => {
  const svc = await request(`${cluster.apiserver}/api/v1/namespaces/default/services`, {
    method: 'POST',
    dispatcher: cluster.dispatcher,
    headers: { 'content-type': 'application/json', ...cluster.authHeaders },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'redis-primary' }, spec: { selector: { app: 'redis' }, ports: [{ name: 'redis', port: 6379 }] } }),
  });
  const redisIP = ((await svc.body.json()) as { spec: { clusterIP: string } }).spec.clusterIP;

  const a = knetRun('echo-a', 8080);
  const b = knetRun('echo-b', 8080);
  t.teardown(() => [a, b].forEach(killGroup));
  const podA = await until(async () => { const { pod } = await getPod('echo-a'); return ready(pod) ? pod : undefined; }, 'echo-a ready');
  const podB = await until(async () => { const { pod } = await getPod('echo-b'); return ready(pod) ? pod : undefined; }, 'echo-b ready');
  t.regex(podA.status!.podIP!, /^127\.244\.\d+\.\d+$/);
  t.not(podA.status!.podIP, podB.status!.podIP);
  t.is(podA.status!.phase, 'Running');

  const hello = await request(`http://${podA.status!.podIP}:8080/`);
  t.is(await hello.body.text(), 'echo-a\n');
  const env = await (await request(`http://${podA.status!.podIP}:8080/env`)).body.text();
  t.regex(env, new RegExp(`^REDIS_PRIMARY_SERVICE_HOST=${redisIP.replace(/\./g, '\\.')}$`, 'm'));
  t.regex(env, /^REDIS_PRIMARY_SERVICE_PORT_REDIS=6379$/m);
  t.regex(env, /^KUBERNETES_SERVICE_HOST=127\.\d+\.\d+\.1$/m);
  t.regex(env, new RegExp(`^POD_IP=${podA.status!.podIP!.replace(/\./g, '\\.')}$`, 'm'));

  const printed = await exec(process.execPath, [knetBin, 'env', '--data-dir', cluster.dataDir]);
  t.regex(printed.stdout, /^REDIS_PRIMARY_PORT=tcp:\/\/127\.\d+\.\d+\.\d+:6379$/m);

  a.kill('SIGINT');
  const code = await new Promise<number | null>((r) => a.once('exit', r));
  t.is(code, 0);
  t.is((await getPod('echo-a')).code, 404);
  t.is((await getPod('echo-b')).code, 200);
});

test('a Pod whose readiness probe fails is not Ready', async (t) => {
  const c = spawn(process.execPath, [knetBin, 'run', 'never-ready', '--data-dir', cluster.dataDir, '-p', '9', '--readiness', 'exec:false', '--', process.execPath, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
  t.teardown(() => killGroup(c));
  const pod = await until(async () => { const { pod } = await getPod('never-ready'); return pod?.status?.podIP ? pod : undefined; }, 'pod with an IP');
  t.false(ready(pod));
  c.kill('SIGTERM');
  await new Promise((r) => c.once('exit', r));
  t.is((await getPod('never-ready')).code, 404);
});

test('knet run names a missing namespace and how to create it', async (t) => {
  const res = await exec(process.execPath, [knetBin, 'run', 'x', '-n', 'nope', '--data-dir', cluster.dataDir, '--', 'true']).catch((e) => e as { code: number; stderr: string });
  t.is((res as { code: number }).code, 1);
  t.regex((res as { stderr: string }).stderr, /namespace "nope" does not exist\n\s+create it: kubectl create namespace nope/);
});

test('knet join registers another Node; knet run --host-network uses its address as the pod IP', async (t) => {
  // A pod range leased like a test cluster's, so that no other cluster on this machine hands out its addresses.
  const ranges = rangeFlags();
  const podCIDR = ranges[ranges.indexOf('--cluster-cidr') + 1]!;
  const joined = await exec(process.execPath, [knetBin, 'join', '--data-dir', cluster.dataDir, '--node-name', 'node-b', '--address', '127.0.0.1', '--pod-cidr', podCIDR]);
  t.regex(joined.stdout, /node\/node-b registered/);
  const node = (await (await request(`${cluster.apiserver}/api/v1/nodes/node-b`, { dispatcher: cluster.dispatcher, headers: cluster.authHeaders })).body.json()) as { spec: { podCIDR: string }; status: { addresses: { type: string; address: string }[] } };
  t.is(node.spec.podCIDR, podCIDR);
  t.deepEqual(node.status.addresses[0], { type: 'InternalIP', address: '127.0.0.1' });

  const c = spawn(process.execPath, [knetBin, 'run', 'hostnet', '--node', 'node-b', '--host-network', '--data-dir', cluster.dataDir, '--', process.execPath, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
  t.teardown(() => killGroup(c));
  const pod = await until(async () => { const { pod } = await getPod('hostnet'); return ready(pod) ? pod : undefined; }, 'hostnet ready');
  t.is(pod.status!.podIP, '127.0.0.1');
  t.is((pod as unknown as { spec: { hostNetwork?: boolean; nodeName: string } }).spec.hostNetwork, true);
  c.kill('SIGTERM');
  await new Promise((r) => c.once('exit', r));

  // Without --node, a pod still runs on this machine's Node, not on the one joined (first by name).
  const local = spawn(process.execPath, [knetBin, 'run', 'stays-local', '--data-dir', cluster.dataDir, '--', process.execPath, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
  t.teardown(() => killGroup(local));
  const placed = await until(async () => { const { pod } = await getPod('stays-local'); return ready(pod) ? pod : undefined; }, 'stays-local ready');
  t.is((placed as unknown as { spec: { nodeName: string } }).spec.nodeName, localNodeName());
  local.kill('SIGTERM');
  await new Promise((r) => local.once('exit', r));
});

test('knet dns-service points kube-system/kube-dns at a DNS server (idempotent for the one knet up made)', async (t) => {
  type Svc = { spec: { clusterIP: string; ports: { name: string; port: number; targetPort: number; protocol: string }[] } };
  type Eps = { subsets: { addresses: { ip: string }[]; ports: { name: string; port: number }[] }[] };
  const get = async <T>(path: string): Promise<T> =>
    (await (await request(`${cluster.apiserver}${path}`, { dispatcher: cluster.dispatcher, headers: cluster.authHeaders })).body.json()) as T;
  const before = await get<Svc>('/api/v1/namespaces/kube-system/services/kube-dns');
  const eps = await get<Eps>('/api/v1/namespaces/kube-system/endpoints/kube-dns');
  const address = eps.subsets[0]!.addresses[0]!.ip;
  const dnsPort = eps.subsets[0]!.ports.find((p) => p.name === 'dns')!.port;
  const metricsPort = eps.subsets[0]!.ports.find((p) => p.name === 'metrics')!.port;

  const out = await exec(process.execPath, [knetBin, 'dns-service', '--data-dir', cluster.dataDir, '--cluster-ip', before.spec.clusterIP,
    '--address', address, '--port', String(dnsPort), '--metrics-port', String(metricsPort)]);
  t.is(out.stdout, `service/kube-dns (${before.spec.clusterIP}) → ${address}:${dnsPort}\n`);
  const after = await get<Svc>('/api/v1/namespaces/kube-system/services/kube-dns');
  t.is(after.spec.clusterIP, before.spec.clusterIP);
  t.deepEqual(after.spec.ports.map((p) => p.port).sort(), before.spec.ports.map((p) => p.port).sort());
  const epsAfter = await get<Eps>('/api/v1/namespaces/kube-system/endpoints/kube-dns');
  t.is(epsAfter.subsets[0]!.addresses[0]!.ip, address);
  t.is(epsAfter.subsets[0]!.ports.find((p) => p.name === 'dns')!.port, dnsPort);
});

test('--pre-stop-sleep: on Ctrl-C the Pod turns terminating while the process still serves; SIGTERM comes after the sleep', async (t) => {
  const p = knetRun('echo-drain', 8080, '--pre-stop-sleep', '2', '--grace-period', '10');
  t.teardown(() => killGroup(p));
  const pod = await until(async () => { const { pod } = await getPod('echo-drain'); return ready(pod) ? pod : undefined; }, 'echo-drain ready');
  t.deepEqual((pod as unknown as { spec: { containers: { lifecycle?: unknown }[] } }).spec.containers[0]!.lifecycle, { preStop: { sleep: { seconds: 2 } } });
  const exited = new Promise<number | null>((r) => p.once('exit', r));
  const signalled = Date.now();
  p.kill('SIGINT');
  await until(async () => ((await getPod('echo-drain')).pod?.metadata.deletionTimestamp ? true : undefined), 'echo-drain terminating');
  // Terminating, and still answering: new connections are not refused during the sleep.
  t.is(await (await request(`http://${pod.status!.podIP}:8080/`)).body.text(), 'echo-drain\n');
  t.is(await exited, 0);
  t.true(Date.now() - signalled >= 2000, 'the process was stopped only after the preStop sleep');
  t.is((await getPod('echo-drain')).code, 404);
});
