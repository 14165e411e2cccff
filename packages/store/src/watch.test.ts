import test from 'ava';
import type { KubeObject } from '@knet/api';
import { StoreError } from './errors.js';
import type { StoreEvent } from './types.js';
import { eventually, openTemp, svc } from './test-helpers.js';

const brief = (e: StoreEvent) => `${e.type}:${e.object.metadata.namespace}/${e.object.metadata.name}@${e.resourceVersion}`;

test('watch without RV starts from now and sees writes in commit order, after they are acknowledged', async (t) => {
  const { store } = await openTemp(t);
  await store.create('services', svc('before'));
  const got: string[] = [];
  const w = store.watch('services', {}, (e) => got.push(brief(e)));
  t.teardown(() => w.close());
  const a = await store.create('services', svc('a'));
  t.deepEqual(got, ['ADDED:default/a@2'], 'delivered before the write resolved');
  await store.update('services', { ...a, metadata: { ...a.metadata, labels: { v: '2' } } });
  await store.delete('services', 'default', 'a');
  await store.create('endpoints', svc('other-resource'));
  t.deepEqual(got, ['ADDED:default/a@2', 'MODIFIED:default/a@3', 'DELETED:default/a@4']);
});

test('watch "0" is the same as no RV', async (t) => {
  const { store } = await openTemp(t);
  await store.create('services', svc('before'));
  const got: string[] = [];
  const w = store.watch('services', { resourceVersion: '0' }, (e) => got.push(brief(e)));
  t.teardown(() => w.close());
  await store.create('services', svc('after'));
  t.deepEqual(got, ['ADDED:default/after@2']);
});

test('watch from an RV replays the window, then goes live, in order, without gaps or duplicates', async (t) => {
  const { store } = await openTemp(t);
  for (let i = 0; i < 5; i++) await store.create('services', svc(`s${i}`));
  const got: string[] = [];
  const w = store.watch('services', { resourceVersion: '2' }, (e) => got.push(e.resourceVersion));
  t.teardown(() => w.close());
  t.deepEqual(got, [], 'replay does not run inside watch()');
  // Writes racing with the replay are delivered after it.
  const racing = Promise.all([store.create('services', svc('r1')), store.create('services', svc('r2'))]);
  await racing;
  await eventually(() => got.length === 5, 'replay + live');
  t.deepEqual(got, ['3', '4', '5', '6', '7']);
});

test('watch from the current RV replays nothing and goes live', async (t) => {
  const { store } = await openTemp(t);
  await store.create('services', svc('a'));
  const got: string[] = [];
  const w = store.watch('services', { resourceVersion: store.resourceVersion() }, (e) => got.push(e.resourceVersion));
  t.teardown(() => w.close());
  await store.create('services', svc('b'));
  t.deepEqual(got, ['2']);
});

test('watch from an RV older than the window is Gone with Kubernetes\' message', async (t) => {
  const { store } = await openTemp(t, { watchWindow: 3 });
  for (let i = 0; i < 10; i++) await store.create('services', svc(`s${i}`));
  const err = t.throws(() => store.watch('services', { resourceVersion: '6' }, () => {}), { instanceOf: StoreError });
  t.is(err?.reason, 'Gone');
  t.is(err?.message, 'too old resource version: 6 (7)');
  const got: string[] = [];
  const w = store.watch('services', { resourceVersion: '7' }, (e) => got.push(e.resourceVersion));
  t.teardown(() => w.close());
  await eventually(() => got.length === 3, 'replay');
  t.deepEqual(got, ['8', '9', '10']);
  const bad = t.throws(() => store.watch('services', { resourceVersion: 'abc' }, () => {}), { instanceOf: StoreError });
  t.is(bad?.reason, 'Gone');
});

test('watch by namespace and filter: modified into the filter is ADDED, out of it is DELETED', async (t) => {
  const { store } = await openTemp(t);
  const frontend = (o: KubeObject) => o.metadata.labels?.tier === 'frontend';
  const got: StoreEvent[] = [];
  const w = store.watch('services', { namespace: 'prod', filter: frontend }, (e) => got.push(e));
  t.teardown(() => w.close());
  const withTier = (o: KubeObject, tier: string) => ({ ...o, metadata: { ...o.metadata, labels: { tier } } });

  const a = await store.create('services', withTier(svc('a', 'prod'), 'backend')); // out: nothing
  const a2 = await store.update('services', withTier(a, 'frontend')); // in: ADDED
  const a3 = await store.update('services', { ...a2, spec: { x: 1 } } as KubeObject); // stays in: MODIFIED
  const a4 = await store.update('services', withTier(a3, 'backend')); // out: DELETED
  await store.create('services', withTier(svc('b', 'dev'), 'frontend')); // other namespace
  await store.delete('services', 'prod', 'a'); // already out: nothing
  t.deepEqual(
    got.map((e) => `${e.type}@${e.resourceVersion}`),
    ['ADDED@2', 'MODIFIED@3', 'DELETED@4'],
  );
  // The DELETED carries the last state the watcher could see, at the new RV.
  t.deepEqual(got[2].object.metadata.labels, { tier: 'frontend' });
  t.is(got[2].object.metadata.resourceVersion, a4.metadata.resourceVersion);
});

test('a throwing callback or filter does not break the store or other watchers', async (t) => {
  const errors: unknown[] = [];
  const { store } = await openTemp(t, { onWatchError: (e) => errors.push(e) });
  const good: string[] = [];
  const w1 = store.watch('services', {}, () => {
    throw new Error('callback bug');
  });
  const w2 = store.watch('services', { filter: () => { throw new Error('filter bug'); } }, () => {});
  const w3 = store.watch('services', {}, (e) => good.push(e.resourceVersion));
  t.teardown(() => [w1, w2, w3].forEach((w) => w.close()));
  await store.create('services', svc('a'));
  await store.create('services', svc('b'));
  t.deepEqual(good, ['1', '2']);
  t.is(errors.length, 4);
  t.is((await store.list('services')).items.length, 2);
});

test('close stops delivery, also from inside a callback and during replay', async (t) => {
  const { store } = await openTemp(t);
  for (let i = 0; i < 3; i++) await store.create('services', svc(`s${i}`));
  const got: string[] = [];
  // The callback can reach its own watcher even for replayed events.
  const w = store.watch('services', { resourceVersion: '1' }, (e) => {
    got.push(e.resourceVersion);
    w.close();
  });
  await eventually(() => got.length > 0, 'first replayed event');
  await store.create('services', svc('later'));
  t.deepEqual(got, ['2']);

  const live: string[] = [];
  const w2 = store.watch('services', {}, (e) => live.push(e.resourceVersion));
  w2.close();
  w2.close(); // idempotent
  await store.create('services', svc('after-close'));
  t.deepEqual(live, []);
});

test('store.close closes watchers; watch on a closed store is an error', async (t) => {
  const { store } = await openTemp(t);
  const got: string[] = [];
  store.watch('services', {}, (e) => got.push(e.resourceVersion));
  const pending = store.create('services', svc('in-flight'));
  await store.close();
  t.is((await pending).metadata.resourceVersion, '1', 'queued writes finish before close');
  t.deepEqual(got, ['1']);
  t.throws(() => store.watch('services', {}, () => {}), { instanceOf: StoreError, message: 'store is closed' });
});

test('watchers see events for objects across many concurrent writers exactly once, in RV order', async (t) => {
  const { store } = await openTemp(t);
  const rvs: number[] = [];
  const w = store.watch('pods', {}, (e) => rvs.push(Number(e.resourceVersion)));
  t.teardown(() => w.close());
  await Promise.all(Array.from({ length: 300 }, (_, i) => store.create('pods', svc(`p${i}`))));
  t.is(rvs.length, 300);
  t.deepEqual(rvs, [...rvs].sort((a, b) => a - b));
  t.is(new Set(rvs).size, 300);
});
