// TLS against a fake apiserver with certificates made by openssl for this run: CA, server (SAN 127.0.0.1), client.
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { KubeClient, type ClusterConfig } from './client.js';
import { kubeconfigJson, kubeconfigYaml, loadKubeconfig } from './kubeconfig.js';
import { resources } from './resources.js';
import { FakeApiServer } from './testing/fake-apiserver.js';

const dir = mkdtempSync(join(tmpdir(), 'knet-tls-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(name: string, subject: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=knet-test-ca');
issue('server', '/CN=knet-apiserver', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
issue('client', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
const pem = (f: string): string => readFileSync(join(dir, f), 'utf8');
const ca = pem('ca.crt');

async function serve(t: ExecutionContext): Promise<FakeApiServer> {
  const fake = new FakeApiServer({ key: pem('server.key'), cert: pem('server.crt'), clientCA: ca });
  fake.requireToken = 'tls-token';
  await fake.start();
  t.teardown(() => fake.stop());
  return fake;
}

function connect(t: ExecutionContext, cfg: ClusterConfig): KubeClient {
  const client = new KubeClient(cfg);
  t.teardown(() => client.close());
  return client;
}

test('CA data, client certificate and bearer token: requests and watches over TLS', async (t) => {
  const fake = await serve(t);
  const client = connect(t, { server: fake.url, caData: ca, certData: pem('client.crt'), keyData: pem('client.key'), token: 'tls-token' });
  fake.put('pods', { metadata: { name: 'p', namespace: 'default' } });
  const list = await client.list(resources.pods);
  t.deepEqual(list.items.map((p) => p.metadata.name), ['p']);
  t.is(fake.requests.at(-1)?.clientCN, 'admin');
  const events: string[] = [];
  for await (const ev of client.watch(resources.pods, {})) {
    events.push(`${ev.type} ${ev.object.metadata.name}`);
    break;
  }
  t.deepEqual(events, ['ADDED p']);
});

test('a server certificate from an unknown CA is refused', async (t) => {
  const fake = await serve(t);
  const client = connect(t, { server: fake.url, certData: pem('client.crt'), keyData: pem('client.key'), token: 'tls-token' });
  const err = await t.throwsAsync(client.list(resources.pods));
  t.regex(`${(err as NodeJS.ErrnoException).code} ${err?.message}`, /SELF_SIGNED|UNABLE_TO_VERIFY|unable to get local issuer/i);
});

test('insecureSkipTLSVerify accepts the unknown CA', async (t) => {
  const fake = await serve(t);
  const client = connect(t, { server: fake.url, insecureSkipTLSVerify: true, certData: pem('client.crt'), keyData: pem('client.key'), token: 'tls-token' });
  t.deepEqual((await client.list(resources.pods)).items, []);
});

test('without a client certificate the handshake fails', async (t) => {
  const fake = await serve(t);
  const client = connect(t, { server: fake.url, caData: ca, token: 'tls-token' });
  await t.throwsAsync(client.list(resources.pods));
});

test('a kubeconfig with certificate-authority-data and client-certificate files connects', async (t) => {
  const fake = await serve(t);
  const base = kubeconfigYaml({ server: fake.url, caData: ca, token: 'tls-token' });
  const withCert = base.replace('token: tls-token', `token: tls-token\n      client-certificate: client.crt\n      client-key: client.key`);
  const path = join(dir, `kubeconfig-${fake.port}`);
  writeFileSync(path, withCert);
  const cfg = await loadKubeconfig(path);
  t.is(cfg.caData, ca);
  t.is(cfg.certData, pem('client.crt'));
  const client = connect(t, cfg);
  t.deepEqual((await client.list(resources.nodes)).items, []);
});

for (const [name, format] of [['kubeconfigYaml', kubeconfigYaml], ['kubeconfigJson', kubeconfigJson]] as const) {
    test(`kubectl uses a ${name} file as is (CA data + bearer token)`, async (t) => {
    const fake = new FakeApiServer({ key: pem('server.key'), cert: pem('server.crt') });
    fake.requireToken = 'kubectl-token';
    await fake.start();
    t.teardown(() => fake.stop());
    fake.put('pods', { metadata: { name: 'from-kubectl', namespace: 'default' } });
    const path = join(dir, `kubectl-${name}-${fake.port}`);
    writeFileSync(path, format({ server: fake.url, caData: ca, token: 'kubectl-token', namespace: 'default' }));
    const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', path, 'get', '--raw', '/api/v1/namespaces/default/pods'], { timeout: 30_000 });
    t.deepEqual((JSON.parse(stdout) as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name), ['from-kubectl']);
    t.is(fake.requests.at(-1)?.headers.authorization, 'Bearer kubectl-token');
  });
}
