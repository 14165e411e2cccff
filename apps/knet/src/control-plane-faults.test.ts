import test from 'ava';
import { Pool } from 'undici';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpamClient, ipamClientTlsCredentials } from '@knet/ipam';
import { startCluster } from './testing.js';
import { waitFor } from '@knet/component/testing';

interface Svc {
  metadata: { name: string; namespace: string };
  spec: { clusterIP?: string };
}

const until = (cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> => waitFor(what, cond, ms, 25);

test('kill -9 of the apiserver and of ipam during a write storm: no acknowledged Service lost, no IP twice, no leak after repair', async (t) => {
  t.timeout(120_000);
  const cluster = await startCluster({ args: ['--ipam-repair-interval', '1s'] });
  t.teardown(() => cluster.stop());
  const pool = new Pool(cluster.apiserver, { connections: 16, connect: cluster.connect });
  t.teardown(() => pool.destroy());

  const acked = new Map<string, string>();
  let next = 0;
  let storming = true;
  const writer = async () => {
    while (storming) {
      const name = `storm-${next++}`;
      try {
        const res = await pool.request({
          path: '/api/v1/namespaces/default/services',
          method: 'POST',
          headers: { 'content-type': 'application/json', ...cluster.authHeaders },
          body: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } }),
        });
        const body = (await res.body.json()) as Svc;
        if (res.statusCode === 201) acked.set(name, body.spec.clusterIP!);
        else await new Promise((r) => setTimeout(r, 10));
      } catch {
        await new Promise((r) => setTimeout(r, 10)); // apiserver down: not acknowledged, try again
      }
    }
  };
  const writers = Array.from({ length: 16 }, writer);

  for (const victim of ['apiserver', 'ipam']) {
    const before = acked.size;
    await until(() => acked.size >= before + 150, 30_000, 'writes before the kill');
    const pid = cluster.pid(victim)!;
    process.kill(pid, 'SIGKILL');
    await until(() => cluster.pid(victim) !== pid && acked.size >= before + 300, 60_000, `${victim} restart and more writes`);
  }
  storming = false;
  await Promise.all(writers);

  const res = await pool.request({ path: '/api/v1/services', method: 'GET', headers: cluster.authHeaders });
  const items = ((await res.body.json()) as { items: Svc[] }).items.filter((s) => s.spec.clusterIP && s.spec.clusterIP !== 'None');
  const stored = new Map(items.filter((s) => s.metadata.namespace === 'default').map((s) => [s.metadata.name, s.spec.clusterIP!]));
  for (const [name, ip] of acked) t.is(stored.get(name), ip, `acknowledged ${name} lost or changed`);
  const ips = items.map((s) => s.spec.clusterIP!);
  t.is(new Set(ips).size, ips.length, 'a ClusterIP was handed out twice');

  // Repair frees what crashed writes allocated but never stored.
  const ipamPort = cluster.state().components.find((c) => c.name === 'ipam')!.address;
  // ipam answers only mTLS clients the cluster CA signed: use the apiserver's certificate.
  const pki = (f: string) => readFileSync(join(cluster.dataDir, 'pki', f));
  const ipam = new IpamClient(ipamPort, { credentials: ipamClientTlsCredentials({ ca: pki('ca.crt'), cert: pki('ipam-client.crt'), key: pki('ipam-client.key') }) });
  t.teardown(() => ipam.close());
  const inUse = new Set(ips);
  await until(
    async () => {
      const allocated = (await ipam.list('ClusterIP')).map((a) => a.value);
      return allocated.length === inUse.size && allocated.every((ip) => inUse.has(ip));
    },
    30_000,
    'ipam allocations to equal the Services’ ClusterIPs',
  );
  t.pass();
});
