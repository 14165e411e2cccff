// kubectl v1.32 against a real control plane: the judge of compatibility.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { killProcess, startControlPlane, type ControlPlane } from './testing.js';

let cp: ControlPlane;
let dir: string;

test.before(async () => {
  cp = await startControlPlane();
  dir = await mkdtemp(join(tmpdir(), 'knet-kubectl-'));
});
test.after.always(async () => {
  await cp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Out { code: number; stdout: string; stderr: string }

function kubectl(...args: string[]): Promise<Out> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

async function ok(t: { fail(m: string): void }, ...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  if (r.code !== 0) t.fail(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const manifest = (port: number, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: kt
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: ${port}
    targetPort: 8080
${extra}`;

function header(out: string): string[] {
  return out.split('\n')[0]!.trim().split(/\s{2,}/);
}

test.serial('apply, get, describe, patch, label, watch, re-apply, delete', async (t) => {
  t.regex(await ok(t, 'create', 'namespace', 'kt'), /namespace\/kt created/);
  const file = join(dir, 'svc.yaml');
  await writeFile(file, manifest(80));
  t.regex(await ok(t, 'apply', '-f', file), /service\/web created/);
  const ip = await ok(t, 'get', 'svc', 'web', '-n', 'kt', '-o', 'jsonpath={.spec.clusterIP}');
  t.regex(ip, /^127\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);

  const svcs = await ok(t, 'get', 'svc', '-n', 'kt');
  t.deepEqual(header(svcs), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  t.regex(svcs, new RegExp(`web\\s+ClusterIP\\s+${ip.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP\\s+\\d+s`));
  const wide = await ok(t, 'get', 'svc', '-n', 'kt', '-o', 'wide');
  t.deepEqual(header(wide), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
  t.deepEqual(header(await ok(t, 'get', 'endpoints', '-n', 'default')), ['NAME', 'ENDPOINTS', 'AGE']);
  t.regex(await ok(t, 'get', 'ep', 'kubernetes'), /kubernetes\s+127\.0\.0\.1:\d+/);
  t.deepEqual(header(await ok(t, 'get', 'endpointslices')), ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
  t.regex(await ok(t, 'get', 'ns'), /kube-system\s+Active/);
  t.regex(await ok(t, 'get', 'svc', 'kubernetes'), /kubernetes\s+ClusterIP\s+127\.96\.0\.1\s+<none>\s+443\/TCP/);

  const yaml = await ok(t, 'get', 'svc', 'web', '-n', 'kt', '-o', 'yaml');
  t.regex(yaml, /clusterIP: 127\./);
  t.regex(yaml, /kubectl.kubernetes.io\/last-applied-configuration/);
  const desc = await ok(t, 'describe', 'svc', 'web', '-n', 'kt');
  t.regex(desc, /Name:\s+web/);
  t.regex(desc, /Type:\s+ClusterIP/);
  t.regex(desc, /TargetPort:\s+8080\/TCP/);

  // get -w sees a change
  const w = spawn('kubectl', ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'cache'), 'get', 'svc', '-n', 'kt', '-w', '--output-watch-events'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child: w, output: [] as string[] };
  t.teardown(() => killProcess(proc));
  let watched = '';
  w.stdout.setEncoding('utf8').on('data', (d: string) => { watched += d; });
  const deadline = Date.now() + 20_000;
  while (!/ADDED\s+web/.test(watched) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.regex(watched, /ADDED\s+web/);
  t.regex(await ok(t, 'label', 'svc', 'web', '-n', 'kt', 'tier=front'), /service\/web labeled/);
  while (!/MODIFIED\s+web/.test(watched) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.regex(watched, /MODIFIED\s+web/);
  await killProcess(proc);

  t.regex(await ok(t, 'patch', 'svc', 'web', '-n', 'kt', '--type', 'merge', '-p', '{"metadata":{"annotations":{"a":"b"}}}'), /service\/web patched/);
  t.regex(await ok(t, 'patch', 'svc', 'web', '-n', 'kt', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/labels/j","value":"k"}]'), /patched/);
  t.regex(await ok(t, 'patch', 'svc', 'web', '-n', 'kt', '-p', '{"spec":{"ports":[{"port":80,"targetPort":9090}]}}'), /patched/);
  t.is(await ok(t, 'get', 'svc', 'web', '-n', 'kt', '-o', 'jsonpath={.spec.ports[0].targetPort} {.metadata.labels.tier} {.metadata.labels.j}'), '9090 front k');

  // a second apply of a changed manifest
  await writeFile(file, manifest(8081));
  t.regex(await ok(t, 'apply', '-f', file), /service\/web configured/);
  t.is(await ok(t, 'get', 'svc', 'web', '-n', 'kt', '-o', 'jsonpath={.spec.ports[*].port} {.spec.clusterIP}'), `8081 ${ip}`);

  t.regex(await ok(t, 'delete', 'svc', 'web', '-n', 'kt'), /service "web" deleted/);
  const gone = await kubectl('get', 'svc', 'web', '-n', 'kt');
  t.not(gone.code, 0);
  t.regex(gone.stderr, /services "web" not found/);
});

test.serial('kubectl create -f, api-resources, unknown fields rejected', async (t) => {
  const file = join(dir, 'np.yaml');
  await writeFile(file, `apiVersion: v1
kind: Service
metadata:
  name: np
spec:
  type: NodePort
  ports:
  - port: 80
`);
  t.regex(await ok(t, 'create', '-f', file), /service\/np created/);
  t.regex(await ok(t, 'get', 'svc', 'np'), /np\s+NodePort\s+127\.\S+\s+<none>\s+80:3\d{4}\/TCP/);
  const res = await ok(t, 'api-resources');
  t.regex(res, /services\s+svc\s+v1\s+true\s+Service/);
  t.regex(res, /endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice/);
  const typo = join(dir, 'typo.yaml');
  await writeFile(typo, `apiVersion: v1
kind: Service
metadata:
  name: typo
spec:
  portz:
  - port: 80
  ports:
  - port: 80
`);
  const r = await kubectl('apply', '-f', typo);
  t.not(r.code, 0);
  t.regex(r.stderr, /unknown field "spec.portz"/);
  t.regex(await ok(t, 'delete', '-f', file), /service "np" deleted/);
});

test.serial('typed-client (protobuf) creates: kubectl create namespace / service', async (t) => {
  t.regex(await ok(t, 'create', 'namespace', 'pb'), /namespace\/pb created/);
  t.regex(await ok(t, 'create', 'service', 'clusterip', 'foo', '--tcp=80:8080', '-n', 'pb'), /service\/foo created/);
  t.regex(await ok(t, 'create', 'service', 'externalname', 'ex', '--external-name', 'example.com', '-n', 'pb'), /service\/ex created/);
  const out = await ok(t, 'get', 'svc', '-n', 'pb', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.type} {.spec.ports[0].targetPort} {.spec.externalName};{end}');
  t.is(out, 'ex ExternalName  example.com;foo ClusterIP 8080 ;');
  t.regex(await ok(t, 'delete', 'namespace', 'pb'), /namespace "pb" deleted/);
});

test.serial('kubectl apply --server-side', async (t) => {
  const file = join(dir, 'ssa.yaml');
  await writeFile(file, manifest(80).replace('namespace: kt', 'namespace: default').replace('name: web', 'name: ssa'));
  t.regex(await ok(t, 'apply', '--server-side', '-f', file), /service\/ssa serverside-applied/);
  await writeFile(file, manifest(8080).replace('namespace: kt', 'namespace: default').replace('name: web', 'name: ssa').replace(/  labels:\n    app: web\n/, ''));
  t.regex(await ok(t, 'apply', '--server-side', '-f', file), /serverside-applied/);
  t.is(await ok(t, 'get', 'svc', 'ssa', '-o', 'jsonpath={.spec.ports[*].port}|{.metadata.labels}'), '8080|');
  t.regex(await ok(t, 'delete', '-f', file), /service "ssa" deleted/);
});
