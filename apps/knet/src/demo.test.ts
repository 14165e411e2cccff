import test from 'ava';
import { request } from 'undici';
import { startCluster } from './testing.js';

test('knet up --demo: production/database gets a ClusterIP and both demo pods answer through it', async (t) => {
  const cluster = await startCluster({ args: ['--demo'] });
  t.teardown(() => cluster.stop());
  const api = (path: string) =>
    request(`${cluster.apiserver}${path}`, { dispatcher: cluster.dispatcher, headers: cluster.authHeaders }).then((r) => r.body.json() as Promise<any>);

  const deadline = Date.now() + 30_000;
  // The demo starts once the cluster is ready.
  let svc = await api('/api/v1/namespaces/production/services/database');
  while (svc.kind === 'Status' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    svc = await api('/api/v1/namespaces/production/services/database');
  }
  t.is(svc.spec.type, 'ClusterIP');
  const seen = new Set<string>();
  while (seen.size < 2 && Date.now() < deadline) {
    try {
      const res = await request(`http://${svc.spec.clusterIP}/`, { headersTimeout: 2000, bodyTimeout: 2000, reset: true });
      seen.add((await res.body.text()).trim());
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  t.deepEqual([...seen].sort(), ['database-1', 'database-2']);
  const eps = await api('/api/v1/namespaces/production/endpoints/database');
  t.is(eps.subsets[0].addresses.length, 2);
});
