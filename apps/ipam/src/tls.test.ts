import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { IpamClient, IpamError, ipamClientTlsCredentials } from '@knet/ipam';
import { componentIdentities, createCA, ensureClusterCredentials, issueClientCert } from '@knet/pki';
import test from 'ava';
import { startIpam, spawnIpam, tempDir } from './testing.js';

const common = ['--listen', '127.0.0.1:0', '--service-cluster-ip-range', '127.96.0.0/12', '--repair-interval', '0'];

async function rejected(t: import('ava').ExecutionContext, client: IpamClient): Promise<void> {
  t.teardown(() => client.close());
  const err = await t.throwsAsync(() => client.ranges(), { instanceOf: IpamError });
  t.is(err?.code, 'Unavailable');
}

test('ipam over mTLS: the apiserver certificate is accepted; no certificate, a foreign one, or plaintext are refused', async (t) => {
  const dir = tempDir(t);
  const c = await ensureClusterCredentials(dir, { apiserverIPs: [], apiserverDNSNames: [], identities: componentIdentities() });
  const p = await startIpam(t, [...common, '--data-dir', `${dir}/ipam`, '--tls-cert-file', c.ipamServerCertFile,
    '--tls-private-key-file', c.ipamServerKeyFile, '--client-ca-file', c.caFile, '--allowed-client-names', 'kube-apiserver']);
  const [ca, cert, key] = await Promise.all([c.caFile, c.ipamClientCertFile, c.ipamClientKeyFile].map((f) => readFile(f)));

  const good = new IpamClient(p.address, { deadlineMs: 10_000, credentials: ipamClientTlsCredentials({ ca: ca!, cert: cert!, key: key! }) });
  t.teardown(() => good.close());
  t.deepEqual((await good.ranges()).serviceCIDRs, ['127.96.0.0/12']);
  t.is(await good.allocateClusterIP({ owner: 'default/kubernetes', family: 'IPv4', ip: '127.96.0.1' }), '127.96.0.1');

  // TLS that verifies the server, but presents no client certificate
  await rejected(t, new IpamClient(p.address, { deadlineMs: 3000, credentials: grpc.credentials.createSsl(ca!) }));
  // a client certificate from another CA
  const other = await createCA('intruder-ca');
  const foreign = await issueClientCert(other, { cn: 'kube-apiserver' });
  await rejected(t, new IpamClient(p.address, { deadlineMs: 3000, credentials: ipamClientTlsCredentials({ ca: ca!, cert: foreign.cert, key: foreign.key }) }));
  // plaintext
  await rejected(t, new IpamClient(p.address, { deadlineMs: 3000 }));
  // the cluster CA signed it, but it is not the apiserver's
  const proxy = await issueClientCert({ cert: ca!.toString(), key: await readFile(c.caKeyFile, 'utf8') }, { cn: 'system:knet:proxy' });
  const asProxy = new IpamClient(p.address, { deadlineMs: 3000, credentials: ipamClientTlsCredentials({ ca: ca!, cert: proxy.cert, key: proxy.key }) });
  t.teardown(() => asProxy.close());
  await t.throwsAsync(() => asProxy.ranges(), { instanceOf: IpamError, message: /client certificate CN="system:knet:proxy" is not allowed to call ipam/ });

  // and the good client still works: nothing above disturbed the server
  t.is((await good.list('ClusterIP')).length, 1);
});

test('TLS flags come as a set: a lone --tls-cert-file is refused with a clear message', async (t) => {
  const dir = tempDir(t);
  const p = spawnIpam(t, [...common, '--data-dir', dir, '--tls-cert-file', '/nonexistent.crt']);
  const exit = await p.exited;
  t.is(exit.code, 2);
  t.regex(p.stderr(), /--tls-cert-file, --tls-private-key-file and --client-ca-file go together/);
});

test('an unreadable certificate file is reported by name', async (t) => {
  const dir = tempDir(t);
  const p = spawnIpam(t, [...common, '--data-dir', dir, '--tls-cert-file', `${dir}/missing.crt`, '--tls-private-key-file', `${dir}/k`, '--client-ca-file', `${dir}/ca`]);
  t.is((await p.exited).code, 2);
  t.regex(p.lines.join('\n'), /cannot read --tls-cert-file .*missing\.crt: ENOENT/);
});
