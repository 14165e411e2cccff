// Scale: 10,000 objects written concurrently (group commit) and listed. Timings
// are logged for the reader, not asserted (tests must not assert timings).

import test from 'ava';
import type { KubeObject } from '@knet/api';
import { join } from 'node:path';
import { Store } from './store.js';
import { openTemp, tempDir } from './test-helpers.js';

const N = 10_000;

function service(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: `ns-${i % 20}`, labels: { app: `app-${i % 100}`, tier: i % 2 ? 'front' : 'back' } },
    spec: { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: `app-${i % 100}` }, clusterIP: '127.96.0.1' },
  } as KubeObject;
}

test('10,000 concurrent durable creates, then lists of everything', async (t) => {
  const { store, dir } = await openTemp(t);
  let started = Date.now();
  const created = await Promise.all(Array.from({ length: N }, (_, i) => store.create('services', service(i))));
  const writeMs = Date.now() - started;
  t.log(`${N} creates in ${writeMs} ms (${Math.round((N / writeMs) * 1000)}/s, synced, group commit)`);
  t.is(new Set(created.map((o) => o.metadata.resourceVersion)).size, N);
  t.is(store.resourceVersion(), String(N));

  started = Date.now();
  const all = await store.list('services');
  const front = await store.list('services', { filter: (o) => o.metadata.labels?.tier === 'front' });
  const oneNs = await store.list('services', { namespace: 'ns-7', filter: (o) => o.metadata.labels?.app === 'app-7' });
  t.log(`three lists over ${N} objects in ${Date.now() - started} ms`);
  t.is(all.items.length, N);
  t.is(front.items.length, N / 2);
  t.is(oneNs.items.length, N / 100);

  // Paging at 500 (kubectl's chunk size) sees each object once.
  started = Date.now();
  const names = new Set<string>();
  let token: string | undefined;
  do {
    const page = await store.list('services', { limit: 500, continue: token });
    for (const o of page.items) names.add(o.metadata.name ?? '');
    token = page.continue;
  } while (token !== undefined);
  t.log(`paged list of ${N} in ${Date.now() - started} ms`);
  t.is(names.size, N);

  await store.close();
  started = Date.now();
  const reopened = await Store.open(dir);
  t.teardown(() => reopened.close());
  t.log(`reopen with ${N} objects and ${N} events in ${Date.now() - started} ms`);
  t.is((await reopened.list('services')).items.length, N);
});

test('sequential creates with mixed updates keep RVs strictly increasing', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const store = await Store.open(dir, { watchWindow: 50 });
  t.teardown(() => store.close());
  let last = 0;
  for (let i = 0; i < 200; i++) {
    const o = await store.create('pods', { metadata: { name: `p${i}`, namespace: 'default' } });
    const u = await store.guaranteedUpdate('pods', 'default', `p${i}`, (c) => ({ ...c, metadata: { ...c.metadata, labels: { i: String(i) } } }));
    t.true(Number(o.metadata.resourceVersion) > last);
    t.true(Number(u.metadata.resourceVersion) > Number(o.metadata.resourceVersion));
    last = Number(u.metadata.resourceVersion);
  }
  t.is(store.resourceVersion(), '400');
});
