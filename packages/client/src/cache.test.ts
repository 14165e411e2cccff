import test from 'ava';
import type { KubeObject } from '@knet/api';
import { IndexedCache, objectKey } from './cache.js';

const obj = (name: string, namespace?: string, labels?: Record<string, string>, rv = '1'): KubeObject => ({
  metadata: { name, namespace, labels, resourceVersion: rv },
});

test('objectKey is namespace/name, or name for cluster-scoped objects', (t) => {
  const cases: [KubeObject, string][] = [
    [obj('a', 'ns'), 'ns/a'],
    [obj('n1'), 'n1'],
    [obj('x', ''), 'x'],
  ];
  for (const [o, want] of cases) t.is(objectKey(o), want);
});

test('upsert, get, list by namespace, remove', (t) => {
  const c = new IndexedCache<KubeObject>();
  t.is(c.upsert(obj('a', 'ns1')), undefined);
  c.upsert(obj('b', 'ns1'));
  c.upsert(obj('a', 'ns2'));
  c.upsert(obj('node1'));
  const prev = c.upsert(obj('a', 'ns1', undefined, '2'));
  t.is(prev?.metadata.resourceVersion, '1');
  t.is(c.size, 4);
  t.is(c.get('ns1', 'a')?.metadata.resourceVersion, '2');
  t.is(c.get('', 'node1')?.metadata.name, 'node1');
  t.deepEqual(c.list('ns1').map((o) => o.metadata.name).sort(), ['a', 'b']);
  t.deepEqual(c.list('nope'), []);
  t.is(c.list().length, 4);
  t.is(c.remove(obj('a', 'ns1'))?.metadata.resourceVersion, '2');
  t.is(c.remove(obj('a', 'ns1')), undefined);
  t.is(c.get('ns1', 'a'), undefined);
  t.is(c.size, 3);
});

test('indexes follow changes; a throwing index function indexes nothing', (t) => {
  const c = new IndexedCache<KubeObject>({
    app: (o) => (o.metadata.labels?.app ? [o.metadata.labels.app] : []),
    multi: (o) => Object.keys(o.metadata.labels ?? {}),
    broken: () => {
      throw new Error('boom');
    },
  });
  c.upsert(obj('a', 'ns', { app: 'web', tier: 'fe' }));
  c.upsert(obj('b', 'ns', { app: 'web' }));
  const names = (idx: string, v: string): string[] => c.byIndex(idx, v).map((o) => o.metadata.name ?? '').sort();
  t.deepEqual(names('app', 'web'), ['a', 'b']);
  t.deepEqual(names('multi', 'tier'), ['a']);
  c.upsert(obj('a', 'ns', { app: 'db' }));
  t.deepEqual(names('app', 'web'), ['b']);
  t.deepEqual(names('app', 'db'), ['a']);
  t.deepEqual(names('multi', 'tier'), []);
  // A new version under the same values stays where it was, and the index hands out the new version.
  c.upsert(obj('b', 'ns', { app: 'web' }, '2'));
  t.deepEqual(names('app', 'web'), ['b']);
  t.is(c.byIndex('app', 'web')[0].metadata.resourceVersion, '2');
  c.remove(obj('b', 'ns'));
  t.deepEqual(names('app', 'web'), []);
  t.deepEqual(names('broken', 'x'), []);
  t.throws(() => c.byIndex('missing', 'x'), { message: /no index named "missing"/ });
});
