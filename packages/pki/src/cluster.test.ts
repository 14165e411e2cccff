import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import { parsePolicyFile } from './abac.js';
import { describeCert, signedBy } from './certs.js';
import { apiserverTlsFlags, ensureClusterCredentials, ensureIdentities, ipamTlsFlags } from './cluster.js';
import { componentIdentities, podIdentity } from './identities.js';
import { parseTokenFile } from './tokens.js';

async function tempDir(t: import('ava').ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'knet-pki-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const opts = { apiserverIPs: ['127.96.0.1'], apiserverDNSNames: ['knet.local'], identities: componentIdentities() };

test('first call creates the CA, certificates, tokens and policy, all 0600', async (t) => {
  const dir = await tempDir(t);
  const c = await ensureClusterCredentials(dir, opts);
  t.is(c.pkiDir, join(dir, 'pki'));
  t.is((await stat(c.pkiDir)).mode & 0o777, 0o700);
  for (const f of [c.caFile, c.caKeyFile, c.apiserverCertFile, c.apiserverKeyFile, c.ipamServerCertFile, c.ipamServerKeyFile,
    c.ipamClientCertFile, c.ipamClientKeyFile, c.tokenFile, c.policyFile]) {
    t.is((await stat(f)).mode & 0o777, 0o600, f);
  }
  const ca = await describeCert(c.caPem);
  t.true(ca.isCA);
  const api = await describeCert(await readFile(c.apiserverCertFile, 'utf8'));
  t.deepEqual(api.ips.sort(), ['127.0.0.1', '127.96.0.1']);
  t.deepEqual(api.dnsNames.sort(), ['knet.local', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost']);
  t.false(api.isCA);
  t.true(await signedBy(await readFile(c.apiserverCertFile, 'utf8'), c.caPem));
  t.is((await describeCert(await readFile(c.ipamClientCertFile, 'utf8'))).commonName, 'kube-apiserver');
  const tokens = parseTokenFile(await readFile(c.tokenFile, 'utf8'));
  t.deepEqual(tokens.map((e) => e.user), componentIdentities().map((i) => i.user));
  t.deepEqual(Object.keys(c.tokens).sort(), ['admin', 'controller', 'dns', 'ipam', 'proxy']);
  t.is(tokens.find((e) => e.user === 'kubernetes-admin')!.token, c.tokens['admin']);
  t.deepEqual(tokens.find((e) => e.user === 'kubernetes-admin')!.groups, ['system:masters']);
  t.true(parsePolicyFile(await readFile(c.policyFile, 'utf8')).length > 5);
  t.true(apiserverTlsFlags(c).includes('--client-ca-file'));
  t.deepEqual(ipamTlsFlags(c).slice(-2), ['--token-file', c.ipamTokenFile!]);
  t.is((await readFile(c.ipamTokenFile!, 'utf8')).trim(), c.tokens['ipam']);
  t.is((await stat(c.ipamTokenFile!)).mode & 0o777, 0o600);
});

test('later calls reuse everything, add identities, and re-issue the serving cert when SANs change', async (t) => {
  const dir = await tempDir(t);
  const first = await ensureClusterCredentials(dir, opts);
  const apiCert = await readFile(first.apiserverCertFile, 'utf8');
  const ipamCert = await readFile(first.ipamServerCertFile, 'utf8');
  await writeFile(first.policyFile, '# edited by the administrator\n');

  const again = await ensureClusterCredentials(dir, { ...opts, identities: [...opts.identities, podIdentity('shop', 'web-1')] });
  t.is(again.caPem, first.caPem);
  t.is(await readFile(again.apiserverCertFile, 'utf8'), apiCert);
  t.is(again.tokens['admin'], first.tokens['admin']);
  t.truthy(again.tokens['pod:shop/web-1']);
  t.is(await readFile(again.policyFile, 'utf8'), '# edited by the administrator\n', 'an edited policy is kept');

  const moved = await ensureClusterCredentials(dir, { ...opts, apiserverIPs: ['127.96.0.1', '127.0.0.2'] });
  const newApi = await readFile(moved.apiserverCertFile, 'utf8');
  t.not(newApi, apiCert);
  t.true((await describeCert(newApi)).ips.includes('127.0.0.2'));
  t.is(await readFile(moved.ipamServerCertFile, 'utf8'), ipamCert);
  t.false('pod:shop/web-1' in moved.tokens, 'only the identities asked for are reported');
  t.is(parseTokenFile(await readFile(moved.tokenFile, 'utf8')).length, 6, 'but none is removed');
});

test('concurrent callers adding identities lose none', async (t) => {
  const dir = await tempDir(t);
  await ensureClusterCredentials(dir, opts);
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    ensureClusterCredentials(dir, { ...opts, identities: [podIdentity('ns', `p${i}`)] })));
  const entries = parseTokenFile(await readFile(join(dir, 'pki', 'tokens.csv'), 'utf8'));
  t.is(entries.length, 5 + 8);
  results.forEach((r, i) => t.is(entries.find((e) => e.user === `system:pod:ns:p${i}`)?.token, r.tokens[`pod:ns/p${i}`]));
});

test('a key without its certificate is an error, not a silent new CA', async (t) => {
  const dir = await tempDir(t);
  const c = await ensureClusterCredentials(dir, opts);
  await rm(c.caFile);
  await t.throwsAsync(() => ensureClusterCredentials(dir, opts), { message: /ca\.crt is missing while .*ca\.key exists/ });
});

test('the certificates work for real TLS: server verified by the CA, client certificate verified by the server', async (t) => {
  const dir = await tempDir(t);
  const c = await ensureClusterCredentials(dir, opts);
  const [cert, key, ca, ccert, ckey] = await Promise.all([c.apiserverCertFile, c.apiserverKeyFile, c.caFile, c.ipamClientCertFile, c.ipamClientKeyFile]
    .map((f) => readFile(f, 'utf8')));
  const server = tls.createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: false }, (s) => {
    const peer = s.getPeerCertificate();
    s.end(`${s.authorized ? 'authorized' : 'anonymous'} ${peer.subject?.CN ?? '-'}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const talk = (o: tls.ConnectionOptions) => new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, ...o }, () => {
      let out = '';
      s.setEncoding('utf8').on('data', (d) => (out += d)).on('end', () => resolve(out.trim()));
    });
    s.on('error', reject);
  });
  t.is(await talk({ cert: ccert, key: ckey }), 'authorized kube-apiserver');
  t.is(await talk({ servername: 'kubernetes.default.svc' }), 'anonymous -');
  await t.throwsAsync(() => talk({ servername: 'example.com' }), { message: /altnames/i });
});

test('ensureIdentities adds pod identities without touching certificates', async (t) => {
  const dir = await tempDir(t);
  await t.throwsAsync(() => ensureIdentities(dir, [podIdentity('ns', 'p')]), { message: /no cluster credentials/ });
  const c = await ensureClusterCredentials(dir, opts);
  const cert = await readFile(c.apiserverCertFile, 'utf8');
  const tokens = await ensureIdentities(dir, [podIdentity('ns', 'p')]);
  t.deepEqual(Object.keys(tokens), ['pod:ns/p']);
  t.deepEqual(await ensureIdentities(dir, [podIdentity('ns', 'p')]), tokens, 'idempotent');
  t.is(await readFile(c.apiserverCertFile, 'utf8'), cert);
  t.is(parseTokenFile(await readFile(c.tokenFile, 'utf8')).find((e) => e.token === tokens['pod:ns/p'])?.user, 'system:pod:ns:p');
});
