import test from 'ava';
import type { KubeObject } from '@knet/api';
import { Store } from './store.js';
import { StoreError } from './errors.js';
import { encodeJSON } from './encoded.js';
import { openTemp, svc, tempDir } from './test-helpers.js';
import { join } from 'node:path';
import { Level } from 'level';
import { readdir, writeFile } from 'node:fs/promises';
import type { StoreOptions } from './types.js';

async function rejectsWith(t: import('ava').ExecutionContext, p: Promise<unknown>, reason: string, message?: string | RegExp) {
  const err = await t.throwsAsync(p, { instanceOf: StoreError });
  t.is((err as StoreError).reason, reason as StoreError['reason']);
  if (typeof message === 'string') t.is(err?.message, message);
  else if (message) t.regex(err?.message ?? '', message);
}

test('create sets uid, creationTimestamp, resourceVersion; get returns it', async (t) => {
  const { store } = await openTemp(t);
  t.is(store.resourceVersion(), '0');
  const created = await store.create('services', svc('db'));
  t.regex(created.metadata.uid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.regex(created.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.is(created.metadata.resourceVersion, '1');
  t.is(store.resourceVersion(), '1');
  t.deepEqual(await store.get('services', 'default', 'db'), created);
});

test('create ignores uid, creationTimestamp and resourceVersion given by the caller', async (t) => {
  const { store } = await openTemp(t);
  const created = await store.create('services', {
    metadata: { name: 'x', namespace: 'default', uid: 'mine', creationTimestamp: '2000-01-01T00:00:00Z', resourceVersion: '77' },
  });
  t.not(created.metadata.uid, 'mine');
  t.not(created.metadata.creationTimestamp, '2000-01-01T00:00:00Z');
  t.is(created.metadata.resourceVersion, '1');
});

test('create of an existing name is AlreadyExists with the Kubernetes message', async (t) => {
  const { store } = await openTemp(t);
  await store.create('services', svc('db'));
  await rejectsWith(t, store.create('services', svc('db')), 'AlreadyExists', 'services "db" already exists');
  await rejectsWith(
    t,
    (async () => {
      await store.create('discovery.k8s.io/endpointslices', svc('s'));
      return store.create('discovery.k8s.io/endpointslices', svc('s'));
    })(),
    'AlreadyExists',
    'endpointslices.discovery.k8s.io "s" already exists',
  );
  // Same name in another namespace or resource is another object.
  await t.notThrowsAsync(store.create('services', svc('db', 'other')));
  await t.notThrowsAsync(store.create('endpoints', svc('db')));
});

test('concurrent creates of one name: exactly one wins', async (t) => {
  const { store } = await openTemp(t);
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.create('services', svc('same'))));
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') t.is((r.reason as StoreError).reason, 'AlreadyExists');
  t.is(store.resourceVersion(), '1');
});

test('generateName appends 5 random characters and never collides', async (t) => {
  const { store } = await openTemp(t);
  const names = new Set<string>();
  const made = await Promise.all(
    Array.from({ length: 200 }, () => store.create('pods', { metadata: { generateName: 'web-', namespace: 'default' } })),
  );
  for (const o of made) {
    t.regex(o.metadata.name ?? '', /^web-[a-z0-9]{5}$/);
    names.add(o.metadata.name ?? '');
  }
  t.is(names.size, 200);
  const long = await store.create('pods', { metadata: { generateName: 'a'.repeat(70), namespace: 'default' } });
  t.is(long.metadata.name?.length, 63);
  const named = await store.create('pods', { metadata: { name: 'fixed', generateName: 'web-', namespace: 'default' } });
  t.is(named.metadata.name, 'fixed');
});

test('bad keys are rejected with a clear error and nothing is stored', async (t) => {
  const { store } = await openTemp(t);
  await rejectsWith(t, store.create('services', { metadata: { namespace: 'default' } }), 'StorageError', /name or generateName is required/);
  await rejectsWith(t, store.create('services', svc('a/b')), 'StorageError', /may not contain/);
  await rejectsWith(t, store.create('services', svc('a', 'x/y')), 'StorageError', /may not contain/);
  await rejectsWith(t, store.create('services', 'nope' as unknown as KubeObject), 'StorageError', /JSON object/);
  const cyclic: Record<string, unknown> = { metadata: { name: 'c' } };
  cyclic.self = cyclic;
  await rejectsWith(t, store.create('services', cyclic as unknown as KubeObject), 'StorageError', /cannot be serialized/);
  t.is(store.resourceVersion(), '0');
});

test('get of a missing object is NotFound', async (t) => {
  const { store } = await openTemp(t);
  await rejectsWith(t, store.get('services', 'default', 'nope'), 'NotFound', 'services "nope" not found');
});

test('objects handed out are frozen and independent of the caller\'s copy', async (t) => {
  const { store } = await openTemp(t);
  const input = svc('db');
  const created = await store.create('services', input);
  input.metadata.labels = { changed: 'yes' };
  t.deepEqual((await store.get('services', 'default', 'db')).metadata.labels, { app: 'db' });
  t.throws(() => {
    (created.metadata as { name?: string }).name = 'other';
  });
  t.throws(() => {
    (created.metadata.labels as Record<string, string>).app = 'x';
  });
  const got = await store.get('services', 'default', 'db');
  t.true(Object.isFrozen(got) && Object.isFrozen(got.metadata));
});

test('cluster-scoped objects use namespace ""', async (t) => {
  const { store } = await openTemp(t);
  const ns = await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } });
  t.is(ns.metadata.namespace, undefined);
  t.is((await store.get('namespaces', '', 'prod')).metadata.name, 'prod');
  t.is((await store.list('namespaces', { namespace: '' })).items.length, 1);
});

test('update: bumps RV, keeps uid and creationTimestamp, Conflict on stale RV, NotFound if absent', async (t) => {
  const { store } = await openTemp(t);
  const created = await store.create('services', svc('db'));
  const changed = await store.update('services', {
    ...created,
    metadata: { ...created.metadata, uid: 'forged', creationTimestamp: '2000-01-01T00:00:00Z', labels: { app: 'v2' } },
  });
  t.is(changed.metadata.resourceVersion, '2');
  t.is(changed.metadata.uid, created.metadata.uid);
  t.is(changed.metadata.creationTimestamp, created.metadata.creationTimestamp);
  t.deepEqual(changed.metadata.labels, { app: 'v2' });

  await rejectsWith(
    t,
    store.update('services', { ...created, metadata: { ...created.metadata, labels: { app: 'v3' } } }),
    'Conflict',
    'Operation cannot be fulfilled on services "db": the object has been modified; please apply your changes to the latest version and try again',
  );
  // Without a resourceVersion the update is unconditional.
  const forced = await store.update('services', { ...svc('db'), metadata: { name: 'db', namespace: 'default', labels: { app: 'v4' } } });
  t.is(forced.metadata.resourceVersion, '3');
  await rejectsWith(t, store.update('services', svc('ghost')), 'NotFound', 'services "ghost" not found');
});

test('an update that changes nothing writes nothing', async (t) => {
  const { store } = await openTemp(t);
  const created = await store.create('services', svc('db'));
  const same = await store.update('services', created);
  t.is(same.metadata.resourceVersion, '1');
  t.is(store.resourceVersion(), '1');
  // uid and creationTimestamp are the store's: other values for them change nothing either
  t.is(await store.update('services', { ...created, metadata: { ...created.metadata, uid: 'forged', creationTimestamp: '2000-01-01T00:00:00Z' } }), created);
  t.is(store.resourceVersion(), '1');
  const changed = await store.update('services', { ...created, spec: { ...(created as { spec?: object }).spec, changed: true } } as KubeObject);
  t.is(changed.metadata.resourceVersion, '2');
  t.is(changed.metadata.uid, created.metadata.uid);
  t.is(encodeJSON(changed), JSON.stringify(changed));
});

test('update copies the caller\'s object when called: later changes to it do not reach the store', async (t) => {
  const { store } = await openTemp(t);
  const created = await store.create('services', svc('db'));
  const input = structuredClone(created) as KubeObject;
  input.metadata.labels = { app: 'v2' };
  const pending = store.update('services', input);
  input.metadata.labels.app = 'changed after the call';
  input.metadata.resourceVersion = 'stale';
  const updated = await pending;
  t.deepEqual(updated.metadata.labels, { app: 'v2' });
  t.is(updated.metadata.resourceVersion, '2');
  t.true(Object.isFrozen(updated.metadata.labels));
  t.not(updated.metadata, input.metadata);
});

test('onCommit hears of each durable batch: its write time and its writes; a batch that writes nothing is not one', async (t) => {
  const commits: [number, number][] = [];
  const { store } = await openTemp(t, { onCommit: (seconds, writes) => commits.push([seconds, writes]) });
  const created = await Promise.all(['a', 'b', 'c'].map((n) => store.create('services', svc(n))));
  t.deepEqual(commits.map(([, n]) => n), [3], 'one group commit of three creates');
  t.true(commits[0][0] >= 0 && commits[0][0] < 60);
  await store.update('services', created[0]);
  t.is(commits.length, 1, 'an update that changes nothing syncs nothing');
});

test('delete: returns the last state at the delete RV; preconditions; NotFound', async (t) => {
  const { store } = await openTemp(t);
  const created = await store.create('services', svc('db'));
  await rejectsWith(
    t,
    store.delete('services', 'default', 'db', { uid: 'wrong' }),
    'Conflict',
    `Precondition failed: UID in precondition: wrong, UID in object meta: ${created.metadata.uid}`,
  );
  await rejectsWith(
    t,
    store.delete('services', 'default', 'db', { resourceVersion: '9' }),
    'Conflict',
    'Precondition failed: ResourceVersion in precondition: 9, ResourceVersion in object meta: 1',
  );
  const gone = await store.delete('services', 'default', 'db', { uid: created.metadata.uid, resourceVersion: '1' });
  t.is(gone.metadata.resourceVersion, '2');
  t.is(gone.metadata.uid, created.metadata.uid);
  t.is(store.resourceVersion(), '2');
  await rejectsWith(t, store.get('services', 'default', 'db'), 'NotFound');
  await rejectsWith(t, store.delete('services', 'default', 'db'), 'NotFound', 'services "db" not found');
  // The name is free again; the new object is a new object.
  const again = await store.create('services', svc('db'));
  t.not(again.metadata.uid, created.metadata.uid);
});

test('guaranteedUpdate: concurrent read-modify-writes all land', async (t) => {
  const { store } = await openTemp(t);
  await store.create('services', { ...svc('counter'), metadata: { name: 'counter', namespace: 'default', annotations: { n: '0' } } });
  await Promise.all(
    Array.from({ length: 50 }, () =>
      store.guaranteedUpdate('services', 'default', 'counter', (cur) => {
        const n = Number(cur.metadata.annotations?.n ?? '0');
        cur.metadata.annotations = { n: String(n + 1) };
        return cur;
      }),
    ),
  );
  const final = await store.get('services', 'default', 'counter');
  t.is(final.metadata.annotations?.n, '50');
  t.is(final.metadata.resourceVersion, '51');
});

test('guaranteedUpdate: async fn, a stale RV set by fn is Conflict, fn errors propagate, key is fixed', async (t) => {
  const { store } = await openTemp(t);
  await store.create('services', svc('db'));
  const updated = await store.guaranteedUpdate('services', 'default', 'db', async (cur) => {
    await new Promise((r) => setImmediate(r));
    return { ...cur, metadata: { ...cur.metadata, name: 'renamed', namespace: 'elsewhere', labels: { app: 'x' } } };
  });
  t.is(updated.metadata.name, 'db');
  t.is(updated.metadata.namespace, 'default');
  t.deepEqual(updated.metadata.labels, { app: 'x' });
  await rejectsWith(
    t,
    store.guaranteedUpdate('services', 'default', 'db', (cur) => ({ ...cur, metadata: { ...cur.metadata, resourceVersion: '1' } })),
    'Conflict',
  );
  await t.throwsAsync(
    store.guaranteedUpdate('services', 'default', 'db', () => {
      throw new Error('invalid by strategy');
    }),
    { message: 'invalid by strategy' },
  );
  await rejectsWith(t, store.guaranteedUpdate('services', 'default', 'none', (c) => c), 'NotFound');
  // fn returning the object unchanged is a no-op.
  const before = store.resourceVersion();
  await store.guaranteedUpdate('services', 'default', 'db', (c) => c);
  t.is(store.resourceVersion(), before);
});

test('list: sorted by namespace/name (etcd key order), namespace and filter, list RV', async (t) => {
  const { store } = await openTemp(t);
  for (const [ns, name] of [['b', 'z'], ['a', 'y'], ['a-b', 'x'], ['a', 'b'], ['c', 'a']]) {
    await store.create('services', svc(name, ns));
  }
  await store.create('endpoints', svc('other', 'a'));
  const all = await store.list('services');
  t.deepEqual(
    all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
    ['a-b/x', 'a/b', 'a/y', 'b/z', 'c/a'],
  );
  t.is(all.resourceVersion, '6');
  t.is(all.continue, undefined);
  t.is(all.remainingItemCount, undefined);
  t.deepEqual((await store.list('services', { namespace: 'a' })).items.map((o) => o.metadata.name), ['b', 'y']);
  t.deepEqual((await store.list('services', { namespace: 'nope' })).items, []);
  t.deepEqual(
    (await store.list('services', { filter: (o) => o.metadata.name !== 'y' && o.metadata.namespace !== 'c' })).items.map((o) => o.metadata.name),
    ['x', 'b', 'z'],
  );
  t.deepEqual((await store.list('nothing')).items, []);
});

test('list: limit/continue pages through everything with remainingItemCount', async (t) => {
  const { store } = await openTemp(t);
  for (let i = 0; i < 25; i++) await store.create('services', svc(`s${String(i).padStart(2, '0')}`));
  const seen: string[] = [];
  let token: string | undefined;
  const remaining: (number | undefined)[] = [];
  do {
    const page = await store.list('services', { limit: 10, continue: token });
    seen.push(...page.items.map((o) => o.metadata.name ?? ''));
    remaining.push(page.remainingItemCount);
    t.is(page.resourceVersion, '25');
    token = page.continue;
  } while (token !== undefined);
  t.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(2, '0')}`));
  t.deepEqual(remaining, [15, 5, undefined]);
  // An exact fit leaves no continue.
  const exact = await store.list('services', { limit: 25 });
  t.is(exact.continue, undefined);
});

test('list: with a filter, continue only when more matches follow', async (t) => {
  const { store } = await openTemp(t);
  for (let i = 0; i < 10; i++) await store.create('services', svc(`s${i}`));
  const even = (o: KubeObject) => Number(o.metadata.name?.slice(1)) % 2 === 0;
  const p1 = await store.list('services', { limit: 3, filter: even });
  t.deepEqual(p1.items.map((o) => o.metadata.name), ['s0', 's2', 's4']);
  t.is(p1.remainingItemCount, undefined);
  t.truthy(p1.continue);
  const p2 = await store.list('services', { limit: 3, filter: even, continue: p1.continue });
  t.deepEqual(p2.items.map((o) => o.metadata.name), ['s6', 's8']);
  t.is(p2.continue, undefined);
  const p3 = await store.list('services', { limit: 4, filter: (o) => o.metadata.name === 's0' || o.metadata.name === 's1' });
  t.is(p3.items.length, 2);
  t.is(p3.continue, undefined);
});

test('list: later pages are a consistent snapshot at the first page\'s RV', async (t) => {
  const { store } = await openTemp(t);
  for (let i = 0; i < 6; i++) await store.create('services', svc(`s${i}`));
  const p1 = await store.list('services', { limit: 2 });
  t.is(p1.resourceVersion, '6');
  // Writes after the first page: a create, an update, a delete, after the cursor.
  await store.create('services', svc('s3a'));
  await store.guaranteedUpdate('services', 'default', 's4', (c) => ({ ...c, metadata: { ...c.metadata, labels: { app: 'new' } } }));
  await store.delete('services', 'default', 's5');
  await store.create('endpoints', svc('unrelated'));
  const p2 = await store.list('services', { continue: p1.continue });
  t.is(p2.resourceVersion, '6');
  t.deepEqual(p2.items.map((o) => o.metadata.name), ['s2', 's3', 's4', 's5']);
  t.deepEqual(p2.items.find((o) => o.metadata.name === 's4')?.metadata.labels, { app: 's4' });
  t.is(p2.items.find((o) => o.metadata.name === 's4')?.metadata.resourceVersion, '5');
  // A fresh list sees the present.
  t.deepEqual((await store.list('services')).items.map((o) => o.metadata.name), ['s0', 's1', 's2', 's3', 's3a', 's4']);
});

test('list: continue from an RV that left the window is Gone; garbage tokens too', async (t) => {
  const { store } = await openTemp(t, { watchWindow: 5 });
  for (let i = 0; i < 4; i++) await store.create('services', svc(`s${i}`));
  const p1 = await store.list('services', { limit: 1 });
  for (let i = 0; i < 6; i++) await store.create('endpoints', svc(`e${i}`));
  await rejectsWith(t, store.list('services', { continue: p1.continue }), 'Gone', /^The provided continue parameter is too old/);
  await rejectsWith(t, store.list('services', { continue: 'not-a-token' }), 'Gone', /continue key is not valid/);
});

test('reopen keeps objects, RV keeps increasing, window survives', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const s1 = await Store.open(dir);
  const a = await s1.create('services', svc('a'));
  const b = await s1.create('services', svc('b'));
  await s1.update('services', { ...b, metadata: { ...b.metadata, labels: { v: '2' } } });
  await s1.delete('services', 'default', 'a');
  await s1.create('discovery.k8s.io/endpointslices', svc('slice'));
  await s1.close();
  await rejectsWith(t, s1.get('services', 'default', 'b'), 'StorageError', 'store is closed');
  await rejectsWith(t, s1.create('services', svc('late')), 'StorageError', 'store is closed');

  const s2 = await Store.open(dir);
  t.teardown(() => s2.close());
  t.is(s2.resourceVersion(), '5');
  await rejectsWith(t, s2.get('services', 'default', 'a'), 'NotFound');
  const b2 = await s2.get('services', 'default', 'b');
  t.deepEqual(b2.metadata.labels, { v: '2' });
  t.is(b2.metadata.resourceVersion, '3');
  t.is((await s2.get('discovery.k8s.io/endpointslices', 'default', 'slice')).metadata.resourceVersion, '5');
  const c = await s2.create('services', svc('c'));
  t.is(c.metadata.resourceVersion, '6');
  t.not(c.metadata.uid, a.metadata.uid);

  // Watching from RV 1 after the restart replays the persisted history after it.
  const types: string[] = [];
  const w = s2.watch('services', { resourceVersion: '1' }, (e) => types.push(`${e.type}:${e.object.metadata.name}@${e.resourceVersion}`));
  t.teardown(() => w.close());
  await new Promise((r) => setImmediate(r));
  t.deepEqual(types, ['ADDED:b@2', 'MODIFIED:b@3', 'DELETED:a@4', 'ADDED:c@6']);
});

/** Every event after RV 1 a watch replays, per resource, unfiltered and filtered on app=x (which needs prev). */
async function replayed(s: Store): Promise<string[]> {
  const out: string[] = [];
  for (const resource of ['services', 'nodes']) {
    for (const filter of [undefined, (o: KubeObject) => o.metadata.labels?.app === 'x']) {
      const w = s.watch(resource, { resourceVersion: '1', filter }, (e) => out.push(`${resource} ${filter ? 'x' : '*'} ${e.type} ${JSON.stringify(e.object)}`));
      await new Promise((r) => setImmediate(r));
      w.close();
    }
  }
  return out;
}

test('a reopened store replays the same events: log entries hold prev and the object is rebuilt from later state', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const s1 = await Store.open(dir);
  const labelled = (o: KubeObject, app: string): KubeObject => ({ ...o, metadata: { ...o.metadata, labels: { app } } });
  await s1.create('services', svc('first'));
  let a = await s1.create('services', labelled(svc('a'), 'x'));
  a = await s1.update('services', labelled(a, 'y')); // leaves the filter: DELETED there, from prev
  a = await s1.update('services', labelled(a, 'x'));
  await s1.delete('services', 'default', 'a');
  await s1.create('services', labelled(svc('a'), 'x')); // the same name again
  let n = await s1.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { app: 'x' } } });
  n = await s1.update('nodes', labelled(n, 'y'));
  let b = await s1.create('services', labelled(svc('b', 'other'), 'x'));
  b = await s1.update('services', { ...b, spec: { ports: [{ port: 81 }] } } as KubeObject);
  await s1.delete('services', 'other', 'b');
  const before = await replayed(s1);
  t.is(before.length, 20);
  await s1.close();

  const s2 = await Store.open(dir);
  t.deepEqual(await replayed(s2), before);
  await s2.close();

  // Stores written before this format keep the object in each entry: they load the same.
  const raw = new Level<string, string>(dir);
  const objects = new Map<number, KubeObject>();
  for (const line of before.filter((l) => l.includes(' * '))) {
    const o = JSON.parse(line.slice(line.indexOf('{'))) as KubeObject;
    objects.set(Number(o.metadata.resourceVersion), o);
  }
  for await (const [key, value] of raw.iterator({ gte: 'e\x00', lt: 'e\x01' })) {
    const rv = Number(key.slice(2));
    if (objects.has(rv)) await raw.put(key, JSON.stringify({ ...JSON.parse(value), object: objects.get(rv) }));
  }
  await raw.close();
  const s3 = await Store.open(dir);
  t.teardown(() => s3.close());
  t.deepEqual(await replayed(s3), before);
});

test('reopen with a smaller window keeps only the newest events', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const s1 = await Store.open(dir, { watchWindow: 100 });
  for (let i = 0; i < 20; i++) await s1.create('services', svc(`s${i}`));
  await s1.close();
  const s2 = await Store.open(dir, { watchWindow: 5 });
  t.teardown(() => s2.close());
  t.throws(() => s2.watch('services', { resourceVersion: '14' }, () => {}), { message: 'too old resource version: 14 (15)' });
  const got: string[] = [];
  const w = s2.watch('services', { resourceVersion: '15' }, (e) => got.push(e.resourceVersion));
  t.teardown(() => w.close());
  await new Promise((r) => setImmediate(r));
  t.deepEqual(got, ['16', '17', '18', '19', '20']);
});

test('a second open of the same directory fails with StorageError, not a crash', async (t) => {
  const { dir } = await openTemp(t);
  const err = await t.throwsAsync(Store.open(dir), { instanceOf: StoreError });
  t.is(err?.reason, 'StorageError');
  t.regex(err?.message ?? '', /cannot open store at/);
});

test('bad open arguments are StorageErrors', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a-file'), 'not a directory');
  const cases: [string, StoreOptions | undefined, RegExp][] = [
    [join(dir, 'db'), { watchWindow: 0 }, /watchWindow must be a positive integer/],
    [join(dir, 'db'), { watchWindow: 1.5 }, /watchWindow must be a positive integer/],
    [join(dir, 'db'), { fsync: 'sometimes' as 'always' }, /fsync must be "always" or "interval", got "sometimes"/],
    [join(dir, 'db'), { syncIntervalMs: 0 }, /syncIntervalMs must be a positive integer/],
    ['', undefined, /cannot open store at/],
    [join(dir, 'a-file'), undefined, /cannot open store at/],
  ];
  for (const [path, opts, message] of cases) {
    const err = await t.throwsAsync(Store.open(path, opts), { instanceOf: StoreError, message }, path);
    t.is(err?.reason, 'StorageError');
  }
});

test('the persisted event log is pruned to the window in the same batches', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const s = await Store.open(dir, { watchWindow: 5 });
  for (let i = 0; i < 12; i++) await s.create('services', svc(`s${i}`));
  await Promise.all(Array.from({ length: 8 }, (_, i) => s.create('services', svc(`c${i}`))));
  await s.close();
  const raw = new Level<string, string>(dir);
  t.teardown(() => raw.close());
  const eventKeys = await raw.keys({ gte: 'e\x00', lt: 'e\x01' }).all();
  t.deepEqual(eventKeys.map((k) => Number(k.slice(2))), [16, 17, 18, 19, 20]);
  t.is(await raw.get('m\x00rv'), '20');
  t.is((await raw.keys({ gte: 'o\x00', lt: 'o\x01' }).all()).length, 20);
});

test('encodeJSON of stored objects is their JSON, before and after a reopen', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const tricky = svc('tricky', 'default', { spec: { '10': 'integer-like key', b: 'é😀\u2028"\\\n', a: [1.5, -0, 1e21, null] } } as Partial<KubeObject>);
  const s1 = await Store.open(dir);
  const created = await s1.create('services', tricky);
  const updated = await s1.update('services', { ...created, metadata: { ...created.metadata, labels: { x: 'y' } } });
  const deleted = await s1.delete('services', 'default', 'tricky');
  const kept = await s1.create('services', tricky);
  for (const o of [created, updated, deleted, kept]) t.is(encodeJSON(o), JSON.stringify(o));
  await s1.close();
  const s2 = await Store.open(dir);
  t.teardown(() => s2.close());
  const loaded = await s2.get('services', 'default', 'tricky');
  t.deepEqual(loaded, kept);
  t.is(encodeJSON(loaded), JSON.stringify(kept));
  t.is(encodeJSON({ not: 'stored' }), '{"not":"stored"}');
});

test('LevelDB holds 32 MiB of writes in its memtable: 10 MB of writes leave no table file', async (t) => {
  // A full memtable whose predecessor is still being written out (and synced) as a table stops every write:
  // with LevelDB's default 4 MiB, a slow disk flush reached writes acknowledged without fsync.
  const { store, dir } = await openTemp(t);
  const big = 'x'.repeat(10_000);
  for (let i = 0; i < 1000; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => store.create('configmaps', { metadata: { name: `c${i + j}`, namespace: 'n' }, data: { big } } as KubeObject)));
  }
  t.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.ldb')), []);
});
