// kill -9 of the apiserver under a running dns process: it keeps answering from its last state, its informers
// back off and resume, and changes made after the restart show up. Its own cluster: this test breaks it.
import test from 'ava';
import type { Service } from '@knet/api';
import { KubeClient, loadKubeconfig, resources } from '@knet/client';
import { startCluster } from '@knet/knet-app/testing';
import { dig, rdata, until } from './dig.test-util.js';
import { startDns } from './testing.js';

const svc = (name: string): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
const fqdn = (name: string): string => `${name}.default.svc.cluster.local`;

test('apiserver killed: answers continue from the last state; after its restart, new changes are served', async (t) => {
  t.timeout(120_000);
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const client = new KubeClient(await loadKubeconfig(cluster.kubeconfig));
  t.teardown(() => client.close());
  const dns = await startDns({ kubeconfig: cluster.kubeconfig, args: ['--no-forward'] });
  t.teardown(() => dns.stop());

  const before = await client.create(resources.services, 'default', svc('before'));
  t.deepEqual(rdata(await until(() => dig(dns.port, fqdn('before')), (r) => r.status === 'NOERROR'), 'A'), [before.spec!.clusterIP!]);

  const pid = cluster.pid('apiserver')!;
  process.kill(pid, 'SIGKILL');
  // While it is gone (the supervisor has not restarted it yet, or it is starting), the zone is still served.
  const down = await dig(dns.port, fqdn('before'));
  t.deepEqual(rdata(down, 'A'), [before.spec!.clusterIP!]);
  t.is((await dig(dns.port, '+tcp', fqdn('before'))).status, 'NOERROR');
  t.is((await fetch(`http://127.0.0.1:${dns.metricsPort}/ready`)).status, 200, 'ready stays ready after the first sync, as CoreDNS');

  // Back: writes succeed again, and the informers picked the watch up.
  const after = await until(
    () => client.create(resources.services, 'default', svc('after')).then((s) => s, () => null),
    (s) => s !== null,
    60_000,
  );
  t.not(after, null, 'the apiserver came back');
  t.not(cluster.pid('apiserver'), pid);
  const r = await until(() => dig(dns.port, fqdn('after')), (x) => x.status === 'NOERROR', 60_000);
  t.deepEqual(rdata(r, 'A'), [after!.spec!.clusterIP!]);
  await client.delete(resources.services, 'default', 'before');
  t.is((await until(() => dig(dns.port, fqdn('before')), (x) => x.status === 'NXDOMAIN', 60_000)).status, 'NXDOMAIN');
  t.is(dns.process.exitCode, null, 'the dns process is still running');
  t.deepEqual(await dns.stop(), { code: 0, signal: null }, 'SIGTERM: a clean exit');
  t.regex(dns.output(), /"msg":"stopped"/);
});
