// Table-driven tests of the pure parts.

import test from 'ava';
import type { KubeObject } from '@knet/api';
import { decodeContinue, encodeContinue } from './continue-token.js';
import { qualifiedResource, StoreError } from './errors.js';
import { EventWindow, type LogEntry } from './event-window.js';
import { checkKeyParts, eventKey, memKey, objectKey, parseEventKey, parseObjectKey, parseResourceVersion } from './keys.js';
import { compareKeys, lowerBound, ResourceObjects, snapshotAt } from './object-index.js';
import { generateName, timestampNow } from './objects.js';
import { toWatchEvent } from './watch-hub.js';

test('qualifiedResource', (t) => {
  for (const [input, want] of [
    ['services', 'services'],
    ['discovery.k8s.io/endpointslices', 'endpointslices.discovery.k8s.io'],
    ['a/b/c', 'c.a/b'],
  ]) t.is(qualifiedResource(input), want, input);
});

test('timestampNow is RFC 3339 with whole seconds in UTC', (t) => {
  t.is(timestampNow(new Date('2026-11-26T06:38:03.987Z')), '2026-11-26T06:38:03Z');
  t.is(timestampNow(new Date(0)), '1970-01-01T00:00:00Z');
});

test('generateName', (t) => {
  const cases: [string, () => number, string][] = [
    ['web-', () => 0, 'web-bbbbb'],
    ['web-', () => 0.9999, 'web-99999'],
    ['x'.repeat(60), () => 0, 'x'.repeat(58) + 'bbbbb'],
    ['', () => 0, 'bbbbb'],
  ];
  for (const [prefix, rnd, want] of cases) t.is(generateName(prefix, rnd), want);
  t.regex(generateName('p-'), /^p-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});

test('resourceVersion parsing', (t) => {
  const ok: [string | undefined, number | undefined][] = [
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['42', 42],
    ['9007199254740991', 9007199254740991],
  ];
  for (const [input, want] of ok) t.is(parseResourceVersion(input), want, String(input));
  for (const bad of ['-1', 'abc', '1.5', ' 1', '1e3', '12345678901234567', '9999999999999999']) {
    const err = t.throws(() => parseResourceVersion(bad), { instanceOf: StoreError }, bad);
    t.is(err?.reason, 'Gone');
  }
});

test('keys round-trip and sort as Kubernetes lists', (t) => {
  t.deepEqual(parseObjectKey(objectKey('discovery.k8s.io/endpointslices', 'ns', 'n')), {
    resource: 'discovery.k8s.io/endpointslices',
    namespace: 'ns',
    name: 'n',
  });
  t.deepEqual(parseObjectKey(objectKey('namespaces', '', 'default')), { resource: 'namespaces', namespace: '', name: 'default' });
  t.is(parseObjectKey('x\x00y'), undefined);
  for (const rv of [1, 9, 10, 123456789]) t.is(parseEventKey(eventKey(rv)), rv);
  t.true(eventKey(9) < eventKey(10), 'event keys sort numerically');
  t.is(parseEventKey('e\x00abc'), undefined);
  const keys = [memKey('b', 'a'), memKey('a', 'z'), memKey('a-b', 'a'), memKey('', 'kube')].sort(compareKeys);
  t.deepEqual(keys, ['/kube', 'a-b/a', 'a/z', 'b/a']);
});

test('checkKeyParts', (t) => {
  const bad: [string, string, string][] = [
    ['', 'ns', 'n'],
    ['svc\x00', 'ns', 'n'],
    ['services', 'a/b', 'n'],
    ['services', 'ns', ''],
    ['services', 'ns', 'a/b'],
    ['services', 'ns', 'a\x00b'],
  ];
  for (const [r, ns, n] of bad) t.throws(() => checkKeyParts(r, ns, n), { instanceOf: StoreError }, JSON.stringify([r, ns, n]));
  t.notThrows(() => checkKeyParts('services', '', 'n'));
});

test('lowerBound', (t) => {
  const keys = ['a/1', 'a/2', 'b/1', 'c/1'];
  const cases: [string, boolean, number][] = [
    ['a/', true, 0],
    ['a0', true, 2],
    ['a/1', true, 0],
    ['a/1', false, 1],
    ['b/1', false, 3],
    ['c/1', false, 4],
    ['z', true, 4],
    ['', true, 0],
  ];
  for (const [bound, inclusive, want] of cases) t.is(lowerBound(keys, bound, inclusive), want, `${bound} ${inclusive}`);
});

test('continue token round-trips; anything else is Gone', (t) => {
  for (const p of [{ rv: 1, after: 'a/b' }, { rv: 123456, after: '/cluster-scoped' }, { rv: 0, after: '' }]) {
    t.deepEqual(decodeContinue(encodeContinue(p)), p);
  }
  const foreign = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  for (const bad of ['', '!!!', foreign({ v: 'x', rv: 1, start: 'a' }), foreign({ v: 'meta.k8s.io/v1', rv: '1', start: 'a' }), foreign({ v: 'meta.k8s.io/v1', rv: 1 }), foreign(null)]) {
    const err = t.throws(() => decodeContinue(bad), { instanceOf: StoreError }, bad);
    t.is(err?.reason, 'Gone');
  }
});

const obj = (name: string, rv: number, labels: Record<string, string> = {}, namespace = 'default'): KubeObject => ({
  metadata: { name, namespace, resourceVersion: String(rv), labels },
});
const entry = (rv: number, type: LogEntry['type'], object: KubeObject, prev?: KubeObject, resource = 'services'): LogEntry => ({
  rv,
  type,
  resource,
  object,
  prev,
});

test('EventWindow keeps the newest entries and knows how far back it reaches', (t) => {
  const w = new EventWindow(3);
  t.is(w.lowestResumableRV(0), 0);
  t.deepEqual(w.since(0), []);
  for (let rv = 1; rv <= 5; rv++) w.push(entry(rv, 'ADDED', obj(`o${rv}`, rv)));
  t.is(w.length, 3);
  t.is(w.oldest()?.rv, 3);
  t.is(w.newest()?.rv, 5);
  t.is(w.lowestResumableRV(5), 2);
  const cases: [number, number[]][] = [
    [2, [3, 4, 5]],
    [3, [4, 5]],
    [5, []],
    [9, []],
  ];
  for (const [after, want] of cases) t.deepEqual(w.since(after).map((e) => e.rv), want, `since ${after}`);
  t.throws(() => w.push(entry(7, 'ADDED', obj('gap', 7))), { instanceOf: RangeError });
  t.throws(() => new EventWindow(0), { instanceOf: RangeError });
});

test('toWatchEvent applies namespace and filter, turning moves across the filter into ADDED/DELETED', (t) => {
  const front = (o: KubeObject) => o.metadata.labels?.tier === 'front';
  const inF = obj('a', 1, { tier: 'front' });
  const outF = obj('a', 1, { tier: 'back' });
  const cases: [string, LogEntry, Parameters<typeof toWatchEvent>[1], string | undefined][] = [
    ['added, no scope', entry(2, 'ADDED', outF), {}, 'ADDED'],
    ['added, out of filter', entry(2, 'ADDED', outF), { filter: front }, undefined],
    ['added, other namespace', entry(2, 'ADDED', inF), { namespace: 'prod' }, undefined],
    ['added, same namespace', entry(2, 'ADDED', inF), { namespace: 'default' }, 'ADDED'],
    ['modified in → in', entry(2, 'MODIFIED', inF, inF), { filter: front }, 'MODIFIED'],
    ['modified out → in', entry(2, 'MODIFIED', inF, outF), { filter: front }, 'ADDED'],
    ['modified in → out', entry(2, 'MODIFIED', outF, inF), { filter: front }, 'DELETED'],
    ['modified out → out', entry(2, 'MODIFIED', outF, outF), { filter: front }, undefined],
    ['deleted in', entry(2, 'DELETED', inF, inF), { filter: front }, 'DELETED'],
    ['deleted out', entry(2, 'DELETED', outF, outF), { filter: front }, undefined],
  ];
  for (const [name, e, spec, want] of cases) {
    const got = toWatchEvent(e, spec);
    t.is(got?.type as string | undefined, want, name);
    if (got !== undefined) t.is(got.resourceVersion, '2', name);
  }
  const moved = toWatchEvent(entry(7, 'MODIFIED', outF, inF), { filter: front });
  t.deepEqual(moved?.object.metadata.labels, { tier: 'front' }, 'DELETED shows the last state the watcher saw');
  t.is(moved?.object.metadata.resourceVersion, '7', '... at the RV of the change');
});

test('snapshotAt undoes later writes of the resource, newest first', (t) => {
  const current = new ResourceObjects();
  // History: 1 ADDED a, 2 ADDED b, 3 MODIFIED a, 4 DELETED b, 5 ADDED c, 6 (other resource)
  const a1 = obj('a', 1);
  const b2 = obj('b', 2);
  const a3 = obj('a', 3, { v: '2' });
  const c5 = obj('c', 5);
  current.set('default/a', a3);
  current.set('default/c', c5);
  const later = [
    entry(3, 'MODIFIED', a3, a1),
    entry(4, 'DELETED', obj('b', 4), b2),
    entry(5, 'ADDED', c5),
    entry(6, 'ADDED', obj('x', 6), undefined, 'endpoints'),
  ];
  const at = (rv: number) => {
    const snap = snapshotAt(current, 'services', later.filter((e) => e.rv > rv));
    return snap.sortedKeys().map((k) => `${k}@${snap.get(k)?.metadata.resourceVersion}`);
  };
  t.deepEqual(at(2), ['default/a@1', 'default/b@2']);
  t.deepEqual(at(3), ['default/a@3', 'default/b@2']);
  t.deepEqual(at(4), ['default/a@3']);
  t.deepEqual(at(6), ['default/a@3', 'default/c@5']);
  t.is(current.byKey.size, 2, 'the current state is untouched');
});
