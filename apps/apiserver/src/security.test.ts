// TLS, authentication, authorization and limits on real processes (startControlPlane({ secure: true })),
// spoken to over real sockets by undici, curl and kubectl.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import { Agent, request } from 'undici';
import { createCA, ensureIdentities, issueClientCert, KNET_USERS, podIdentity } from '@knet/pki';
import { apiserverExit, kubeconfig, startControlPlane, type ControlPlane } from './testing.js';
import { until as pollUntil } from '@knet/component/testing';

let cp: ControlPlane;
let dir: string;
let ca: string;
let agent: Agent;

test.before(async () => {
  cp = await startControlPlane({ secure: true });
  ca = cp.credentials!.caPem;
  agent = new Agent({ connect: { ca } });
  dir = await mkdtemp(join(tmpdir(), 'knet-security-'));
});
test.after.always(async () => {
  await agent?.close();
  await cp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: any }

async function call(method: string, path: string, opts: { token?: string; body?: unknown; type?: string; dispatcher?: Agent; url?: string } = {}): Promise<Reply> {
  const r = await request((opts.url ?? cp.url) + path, {
    method: method as 'GET',
    dispatcher: opts.dispatcher ?? agent,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': opts.type ?? 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await r.body.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* text */ }
  return { status: r.statusCode, headers: r.headers, body };
}

const token = (name: string): string => cp.credentials!.tokens[name]!;
const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } });

function exec(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

test('HTTPS with the cluster CA; no credentials → 401 Status; public paths open', async (t) => {
  t.regex(cp.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const anon = await call('GET', '/api/v1/namespaces/default/services');
  t.is(anon.status, 401);
  t.like(anon.body, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  for (const p of ['/healthz', '/livez', '/readyz', '/version']) t.is((await call('GET', p)).status, 200, p);
  t.is((await call('GET', '/api')).status, 401, 'discovery needs an identity');
  t.is((await call('GET', '/metrics')).status, 401);
  t.is((await call('GET', '/healthz', { token: 'wrong' })).status, 401, 'wrong credentials are refused even on public paths');
  t.is((await call('GET', '/api/v1/namespaces/default/services', { token: 'wrong' })).status, 401);
  t.is((await call('GET', '/api/v1/namespaces/default/services', { token: token('admin') })).status, 200);

  // a client that does not trust the cluster CA cannot even connect
  await t.throwsAsync(() => request(`${cp.url}/version`), { message: /self[- ]signed|unable to verify|certificate/i });

  // curl, as the issue asks
  const caFile = join(dir, 'ca.crt');
  await writeFile(caFile, ca);
  const curl = await exec('curl', ['-s', '--cacert', caFile, '-w', '\\n%{http_code}', `${cp.url}/api/v1/namespaces/default/services`]);
  t.is(curl.code, 0, curl.stderr);
  t.regex(curl.stdout, /"reason":"Unauthorized"[\s\S]*\n401$/);
  const curlOk = await exec('curl', ['-s', '--cacert', caFile, '-H', `Authorization: Bearer ${token('admin')}`, '-o', '/dev/null', '-w', '%{http_code}', `${cp.url}/api/v1/namespaces`]);
  t.is(curlOk.stdout, '200');
});

test('x509 client certificates: CN is the user, O the groups; a foreign CA is refused', async (t) => {
  const caKey = await readFile(cp.credentials!.caKeyFile, 'utf8');
  const proxyCert = await issueClientCert({ cert: ca, key: caKey }, { cn: KNET_USERS.proxy });
  const asProxy = new Agent({ connect: { ca, cert: proxyCert.cert, key: proxyCert.key } });
  t.teardown(() => asProxy.close());
  t.is((await call('GET', '/api/v1/services', { dispatcher: asProxy })).status, 200);
  const denied = await call('POST', '/api/v1/namespaces/default/services', { dispatcher: asProxy, body: svc('x509') });
  t.is(denied.status, 403);
  t.is(denied.body.message, `services is forbidden: User "${KNET_USERS.proxy}" cannot create resource "services" in API group "" in the namespace "default"`);

  const masters = await issueClientCert({ cert: ca, key: caKey }, { cn: 'ops-alice', organizations: ['system:masters'] });
  const asAlice = new Agent({ connect: { ca, cert: masters.cert, key: masters.key } });
  t.teardown(() => asAlice.close());
  t.is((await call('POST', '/api/v1/namespaces/default/services', { dispatcher: asAlice, body: svc('by-cert') })).status, 201);

  const other = await createCA('other-ca');
  const foreign = await issueClientCert(other, { cn: 'ops-alice', organizations: ['system:masters'] });
  const asForeign = new Agent({ connect: { ca, cert: foreign.cert, key: foreign.key } });
  t.teardown(() => asForeign.close());
  t.is((await call('GET', '/api/v1/services', { dispatcher: asForeign })).status, 401);
});

// [identity, method, path, body, expected status]
const S = '/api/v1/namespaces/default/services';
const EPS = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
const slice = (name: string) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, labels: { 'kubernetes.io/service-name': 'x' } }, addressType: 'IPv4', endpoints: [] });
const eps = (name: string) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets: [] });
const abacTable: [string, string, string, unknown, number][] = [
  ['admin', 'POST', S, svc('abac-admin'), 201],
  ['admin', 'GET', '/metrics', undefined, 200],
  ['controller', 'GET', '/api/v1/pods', undefined, 200],
  ['controller', 'GET', S, undefined, 200],
  ['controller', 'POST', '/api/v1/namespaces/default/endpoints', eps('abac-ctl'), 201],
  ['controller', 'POST', EPS, slice('abac-ctl'), 201],
  ['controller', 'POST', S, svc('abac-ctl'), 403],
  ['controller', 'DELETE', `${S}/kubernetes`, undefined, 403],
  ['controller', 'GET', '/metrics', undefined, 403],
  ['proxy', 'GET', '/apis/discovery.k8s.io/v1/endpointslices', undefined, 200],
  ['proxy', 'GET', '/api/v1/nodes', undefined, 200],
  ['proxy', 'GET', S, undefined, 200],
  ['proxy', 'POST', EPS, slice('abac-proxy'), 403],
  ['proxy', 'GET', '/api/v1/pods', undefined, 403],
  ['dns', 'GET', '/api/v1/pods', undefined, 200],
  ['dns', 'GET', '/api/v1/namespaces', undefined, 200],
  ['dns', 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dns-ns' } }, 403],
  ['ipam', 'GET', '/api/v1/services', undefined, 200],
  ['ipam', 'GET', '/api/v1/endpoints', undefined, 403],
  ['ipam', 'GET', '/apis/discovery.k8s.io/v1', undefined, 200],
];
for (const [who, method, path, body, want] of abacTable) {
  test(`ABAC over HTTP: ${who} ${method} ${path} → ${want}`, async (t) => {
    const r = await call(method, path, { token: token(who), ...(body !== undefined ? { body } : {}) });
    t.is(r.status, want, JSON.stringify(r.body));
    if (want === 403) t.like(r.body, { kind: 'Status', reason: 'Forbidden', code: 403 });
  });
}

test('a pod identity writes only its own Pod', async (t) => {
  // knet run adds the identity to tokens.csv; the apiserver picks it up without a restart
  const me = (await ensureIdentities(cp.dir, [podIdentity('default', 'web-1')]))['pod:default/web-1']!;
  const P = '/api/v1/namespaces/default/pods';
  t.is((await call('POST', P, { token: token('admin'), body: pod('web-2') })).status, 201);
  const created = await call('POST', P, { token: me, body: pod('web-1') });
  t.is(created.status, 201, JSON.stringify(created.body));
  const other = await call('POST', P, { token: me, body: pod('web-3') });
  t.is(other.status, 403);
  t.regex(other.body.message, /may only create its own pod default\/web-1/);
  t.is((await call('GET', `${P}/web-1`, { token: me })).status, 200);
  const status = { status: { phase: 'Running', podIP: '127.244.0.9', conditions: [{ type: 'Ready', status: 'True' }] } };
  t.is((await call('PATCH', `${P}/web-1/status`, { token: me, body: status, type: 'application/merge-patch+json' })).status, 200);
  t.is((await call('PATCH', `${P}/web-1`, { token: me, body: { metadata: { labels: { v: '2' } } }, type: 'application/merge-patch+json' })).status, 200);
  const foreign = await call('PATCH', `${P}/web-2/status`, { token: me, body: status, type: 'application/merge-patch+json' });
  t.is(foreign.status, 403);
  t.is(foreign.body.message, 'pods "web-2" is forbidden: User "system:pod:default:web-1" cannot patch resource "pods/status" in API group "" in the namespace "default"');
  t.is((await call('DELETE', `${P}/web-2`, { token: me })).status, 403);
  t.is((await call('GET', P, { token: me })).status, 403, 'no listing of other pods');
  t.is((await call('GET', `${P}?fieldSelector=metadata.name%3Dweb-1`, { token: me })).status, 200, 'its own pod by field selector');
  t.is((await call('GET', S, { token: me })).status, 200, 'services of its namespace (env vars)');
  t.is((await call('GET', `${S}/kubernetes`, { token: me })).status, 200);
  t.is((await call('GET', '/api/v1/namespaces/kube-system/services', { token: me })).status, 403);
  t.is((await call('POST', S, { token: me, body: svc('from-pod') })).status, 403);
  t.is((await call('GET', '/api/v1/nodes', { token: me })).status, 200, 'knet run picks its node');
  t.is((await call('POST', '/api/v1/nodes', { token: me, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'evil' } } })).status, 403);
  t.is((await call('DELETE', `${P}/web-1?gracePeriodSeconds=0`, { token: me })).status, 200);
});

test('kubectl auth can-i and kubectl get with a kubeconfig per identity', async (t) => {
  const can = async (who: string, ...args: string[]) => {
    const file = join(dir, `${who}.kubeconfig`);
    await writeFile(file, kubeconfig(cp.url, 'default', { caPem: ca, token: token(who) }), { mode: 0o600 });
    return exec('kubectl', ['--kubeconfig', file, '--cache-dir', join(dir, `cache-${who}`), ...args]);
  };
  const yes = await can('proxy', 'auth', 'can-i', 'list', 'services');
  t.is(yes.stdout.trim(), 'yes', yes.stderr);
  const no = await can('proxy', 'auth', 'can-i', 'create', 'services');
  t.is(no.stdout.trim(), 'no', no.stderr);
  t.is(no.code, 1);
  t.is((await can('controller', 'auth', 'can-i', 'update', 'services', '--subresource', 'status')).stdout.trim(), 'yes');
  t.is((await can('controller', 'auth', 'can-i', 'update', 'services')).stdout.trim(), 'no');
  t.is((await can('controller', 'auth', 'can-i', 'create', 'endpointslices.discovery.k8s.io', '-n', 'kube-system')).stdout.trim(), 'yes');
  t.is((await can('admin', 'auth', 'can-i', '*', '*')).stdout.trim(), 'yes');
  const list = await can('dns', 'auth', 'can-i', '--list');
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /pods\s+\[\]\s+\[\]\s+\[get list watch\]/);
  const get = await can('proxy', 'get', 'services', '-n', 'default');
  t.is(get.code, 0, get.stderr);
  t.regex(get.stdout, /kubernetes\s+ClusterIP/);
  const forbidden = await can('proxy', 'delete', 'service', 'kubernetes');
  t.not(forbidden.code, 0);
  t.regex(forbidden.stderr, /services "kubernetes" is forbidden: User "system:knet:proxy" cannot delete resource "services" in API group "" in the namespace "default"/);
});

test('plain HTTP is refused on a non-loopback address', async (t) => {
  const { code, stderr: err } = await apiserverExit(['--listen', '0.0.0.0:0', '--data-dir', join(dir, 'refused'), '--ipam', '127.0.0.1:1']);
  t.is(code, 2);
  t.regex(err, /refusing to serve plain HTTP on 0\.0\.0\.0, which is not a loopback address: pass --tls-cert-file/);
});

/** Opens a request whose body never finishes: it holds an in-flight slot until `end()`. */
function slowRequest(url: string, caPem: string, method: string, path: string, tokenValue: string): { socket: tls.TLSSocket; response: Promise<string>; end(): void } {
  const u = new URL(url);
  const socket = tls.connect({ host: u.hostname, port: Number(u.port), ca: caPem });
  let data = '';
  const response = new Promise<string>((resolve) => {
    socket.setEncoding('utf8').on('data', (d) => (data += d));
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
  });
  socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${tokenValue}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
  return { socket, response, end: () => socket.destroy() };
}

const until = <T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> => pollUntil(what, fn, ms, 25);

test('limits: in-flight floods get 429 + Retry-After, watches are capped per user, slow requests time out with 504', async (t) => {
  const limited = await startControlPlane({
    secure: true,
    apiserverArgs: ['--max-mutating-requests-inflight', '2', '--max-requests-inflight', '3', '--max-watches-per-user', '2', '--request-timeout', '3s'],
  });
  t.teardown(() => limited.stop());
  const lagent = new Agent({ connect: { ca: limited.credentials!.caPem } });
  t.teardown(() => lagent.close());
  const ctl = limited.credentials!.tokens['controller']!;
  const admin = limited.credentials!.tokens['admin']!;
  const at = { url: limited.url, dispatcher: lagent };
  const E = '/api/v1/namespaces/default/endpoints';
  const lca = limited.credentials!.caPem;
  const slow = [slowRequest(limited.url, lca, 'POST', E, ctl), slowRequest(limited.url, lca, 'POST', E, ctl)];
  t.teardown(() => slow.forEach((s) => s.end()));
  let n = 0;
  const flooded = await until('a 429', async () => {
    const r = await call('POST', E, { ...at, token: ctl, body: eps(`flood-${n++}`) });
    return r.status === 429 ? r : undefined;
  });
  t.like(flooded.body, { kind: 'Status', reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 1 } });
  t.is(flooded.headers['retry-after'], '1');
  t.is((await call('GET', E, { ...at, token: ctl })).status, 200, 'reads have their own budget');
  t.is((await call('POST', E, { ...at, token: admin, body: eps('by-admin') })).status, 201, 'system:masters is exempt, as in Kubernetes');

  // the held requests are cut off by the request timeout: 504, then the budget is free again
  const answers = await Promise.all(slow.map((s) => s.response));
  for (const a of answers) {
    t.regex(a, /^HTTP\/1\.1 504/);
    t.regex(a, /"reason":"Timeout"/);
  }
  await until('writes flowing again', async () => ((await call('POST', E, { ...at, token: ctl, body: eps(`after-${n++}`) })).status === 201 ? true : undefined));

  // watches: two per user, then 429; another user is unaffected
  const watches: AbortController[] = [];
  t.teardown(() => watches.forEach((w) => w.abort()));
  const openWatch = async (tok: string) => {
    const ac = new AbortController();
    watches.push(ac);
    const r = await request(`${limited.url}${E}?watch=1`, { dispatcher: lagent, signal: ac.signal, headers: { authorization: `Bearer ${tok}` } });
    if (r.statusCode !== 200) await r.body.text();
    return r.statusCode;
  };
  t.is(await openWatch(ctl), 200);
  t.is(await openWatch(ctl), 200);
  t.is(await openWatch(ctl), 429);
  t.is(await openWatch(limited.credentials!.tokens['ipam']!), 403, 'ipam may not watch endpoints at all');
  t.is(await openWatch(admin), 200, 'another user has its own budget');
  watches[0]!.abort();
  await until('a watch slot freed', async () => ((await openWatch(ctl)) === 200 ? true : undefined));
});
