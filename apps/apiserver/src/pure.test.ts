// Table-driven tests of the pure modules: paths, negotiation, patches, field pruning, flags, CIDRs.
import test from 'ava';
import { firstAddress } from './cidr.js';
import { pruneUnknownFields } from './field-validation.js';
import { parseCIDRList, parseDuration, parseHostPort } from './flags.js';
import { mediaType, tableRequested } from './negotiation.js';
import { componentSchemas } from './openapi-schemas.js';
import { applyPatch, mergePatch, PatchError } from './patch.js';
import { parseResourcePath } from './request-path.js';
import { encodeBody, ListBody } from './responses.js';

const namespaced = (g: string, p: string): boolean | undefined =>
  ({ '/services': true, '/pods': true, '/endpoints': true, '/namespaces': false, '/nodes': false, 'discovery.k8s.io/endpointslices': true } as Record<string, boolean>)[`${g}/${p}`];

test('parseResourcePath', (t) => {
  const cases: [string, unknown][] = [
    ['/api/v1/services', { group: '', version: 'v1', plural: 'services' }],
    ['/api/v1/namespaces', { group: '', version: 'v1', plural: 'namespaces' }],
    ['/api/v1/namespaces/default', { group: '', version: 'v1', plural: 'namespaces', name: 'default' }],
    ['/api/v1/namespaces/default/status', { group: '', version: 'v1', plural: 'namespaces', name: 'default', subresource: 'status' }],
    ['/api/v1/namespaces/default/services', { group: '', version: 'v1', plural: 'services', namespace: 'default' }],
    ['/api/v1/namespaces/ns1/services/web', { group: '', version: 'v1', plural: 'services', namespace: 'ns1', name: 'web' }],
    ['/api/v1/namespaces/ns1/services/web/status', { group: '', version: 'v1', plural: 'services', namespace: 'ns1', name: 'web', subresource: 'status' }],
    ['/api/v1/nodes/n1/status', { group: '', version: 'v1', plural: 'nodes', name: 'n1', subresource: 'status' }],
    ['/apis/discovery.k8s.io/v1/namespaces/a/endpointslices/s', { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespace: 'a', name: 's' }],
    ['/apis/discovery.k8s.io/v1/endpointslices', { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' }],
    ['/api/v1/namespaces/a/services/b/status/x', undefined],
    ['/api/v1/nodes/a/b/c', undefined],
    ['/api', undefined],
    ['/apis/discovery.k8s.io/v1', undefined],
    ['/api/v1/namespaces/%E0%A4%A/services', undefined],
  ];
  for (const [p, want] of cases) t.deepEqual(parseResourcePath(p, namespaced), want, p);
});

test('tableRequested and mediaType', (t) => {
  t.deepEqual(tableRequested('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), { version: 'v1' });
  t.deepEqual(tableRequested('application/json;as=Table;v=v1beta1;g=meta.k8s.io'), { version: 'v1beta1' });
  t.is(tableRequested('application/json'), undefined);
  t.is(tableRequested(undefined), undefined);
  t.is(tableRequested('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'), undefined);
  t.is(mediaType('application/JSON; charset=utf-8'), 'application/json');
  t.is(mediaType(undefined), '');
});

const svcSchema = componentSchemas['io.k8s.api.core.v1.Service'];
const podSchema = componentSchemas['io.k8s.api.core.v1.Pod'];

test('strategic merge patch: lists with merge keys, directives', (t) => {
  const svc = {
    metadata: { name: 'a', labels: { x: '1', y: '2' }, finalizers: ['f1'] },
    spec: { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }], clusterIPs: ['127.96.0.9'] },
  };
  const cases: [string, unknown, unknown][] = [
    ['merge port by key', { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
      { ...svc, spec: { ...svc.spec, ports: [{ name: 'http', port: 80, targetPort: 9090 }, { name: 'https', port: 443 }] } }],
    ['add port', { spec: { ports: [{ port: 53, name: 'dns' }] } },
      { ...svc, spec: { ...svc.spec, ports: [...svc.spec.ports, { port: 53, name: 'dns' }] } }],
    ['delete port', { spec: { ports: [{ port: 443, $patch: 'delete' }] } },
      { ...svc, spec: { ...svc.spec, ports: [svc.spec.ports[0]] } }],
    ['replace list', { spec: { ports: [{ $patch: 'replace' }, { port: 1 }] } }, { ...svc, spec: { ...svc.spec, ports: [{ port: 1 }] } }],
    ['null removes', { metadata: { labels: { x: null } } }, { ...svc, metadata: { ...svc.metadata, labels: { y: '2' } } }],
    ['atomic list replaced', { spec: { clusterIPs: ['127.96.0.10'] } }, { ...svc, spec: { ...svc.spec, clusterIPs: ['127.96.0.10'] } }],
    ['set list merged', { metadata: { finalizers: ['f2'] } }, { ...svc, metadata: { ...svc.metadata, finalizers: ['f1', 'f2'] } }],
    ['delete from primitive list', { metadata: { '$deleteFromPrimitiveList/finalizers': ['f1'] } }, { ...svc, metadata: { ...svc.metadata, finalizers: [] } }],
    ['set element order', { spec: { '$setElementOrder/ports': [{ port: 443 }, { port: 80 }] } },
      { ...svc, spec: { ...svc.spec, ports: [svc.spec.ports[1], svc.spec.ports[0]] } }],
    ['map replace directive', { spec: { selector: { $patch: 'replace', tier: 'db' } } }, { ...svc, spec: { ...svc.spec, selector: { tier: 'db' } } }],
    ['retainKeys', { spec: { $retainKeys: ['ports', 'selector'], selector: { app: 'b' } } },
      { ...svc, spec: { ports: svc.spec.ports, selector: { app: 'b' } } }],
  ];
  for (const [name, patch, want] of cases) t.deepEqual(applyPatch('strategic', svc, patch, svcSchema), want, name);
});

test('strategic merge patch: containers by name, container ports by containerPort', (t) => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }] }, { name: 'b', image: 'y' }] } };
  const got = applyPatch('strategic', pod, { spec: { containers: [{ name: 'a', ports: [{ containerPort: 81, name: 'alt' }] }] } }, podSchema);
  t.deepEqual(got, { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }, { containerPort: 81, name: 'alt' }] }, { name: 'b', image: 'y' }] } });
  t.throws(() => applyPatch('strategic', pod, { spec: { containers: [{ image: 'z' }] } }, podSchema), { instanceOf: PatchError });
});

test('merge patch (RFC 7386) and json patch', (t) => {
  t.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3] }), { a: 1, b: { d: 3, e: 4 }, l: [3] });
  t.deepEqual(mergePatch({ a: 1 }, 'x'), 'x');
  const obj = { metadata: { name: 'a', labels: { x: '1' } }, spec: { ports: [{ port: 80 }] } };
  t.deepEqual(applyPatch('json', obj, [{ op: 'replace', path: '/spec/ports/0/port', value: 81 }, { op: 'add', path: '/metadata/labels/y', value: '2' }], undefined),
    { metadata: { name: 'a', labels: { x: '1', y: '2' } }, spec: { ports: [{ port: 81 }] } });
  t.deepEqual(obj.spec.ports[0], { port: 80 }, 'original untouched');
  t.throws(() => applyPatch('json', obj, [{ op: 'test', path: '/metadata/name', value: 'b' }], undefined), { instanceOf: PatchError });
  t.throws(() => applyPatch('json', obj, [{ op: 'remove', path: '/nope/x' }], undefined), { instanceOf: PatchError });
  t.throws(() => applyPatch('json', obj, { op: 'add' }, undefined), { instanceOf: PatchError });
  t.throws(() => applyPatch('merge', obj, [1], undefined), { instanceOf: PatchError });
});

test('pruneUnknownFields reports paths and removes them', (t) => {
  const svc = {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', labels: { any: 'thing' }, bogus: 1 },
    spec: { foo: 1, ports: [{ port: 80, targetPort: 'http', nope: true }], selector: { a: 'b' } },
    status: {},
  };
  t.deepEqual(pruneUnknownFields(svc, svcSchema), ['metadata.bogus', 'spec.foo', 'spec.ports[0].nope']);
  t.deepEqual(svc.spec, { ports: [{ port: 80, targetPort: 'http' }], selector: { a: 'b' } });
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', resources: { limits: {} } }], volumes: [] } };
  t.deepEqual(pruneUnknownFields(pod, podSchema), [], 'pods keep fields knet does not model');
  t.deepEqual(pruneUnknownFields({ x: 1 }, svcSchema), ['x']);
});

test('flags', (t) => {
  t.deepEqual(parseHostPort('127.0.0.1:6443'), { host: '127.0.0.1', port: 6443 });
  t.deepEqual(parseHostPort('[::1]:0'), { host: '::1', port: 0 });
  t.deepEqual(parseHostPort(':8080'), { host: '0.0.0.0', port: 8080 });
  t.throws(() => parseHostPort('localhost'));
  t.throws(() => parseHostPort('1.2.3.4:70000'));
  t.is(parseDuration('60s'), 60_000);
  t.is(parseDuration('250ms'), 250);
  t.is(parseDuration('2m'), 120_000);
  t.throws(() => parseDuration('soon'));
  t.deepEqual(parseCIDRList('127.96.0.0/12, fd00::/108'), ['127.96.0.0/12', 'fd00::/108']);
  t.throws(() => parseCIDRList('nope'));
  t.throws(() => parseCIDRList('1.0.0.0/8,2.0.0.0/8,3.0.0.0/8'));
});

test('firstAddress', (t) => {
  const cases: [string, string][] = [
    ['127.96.0.0/12', '127.96.0.1'], ['127.96.5.7/12', '127.96.0.1'], ['127.5.0.0/24', '127.5.0.1'],
    ['fd00::/108', 'fd00::1'], ['fd00:10:96::/112', 'fd00:10:96::1'], ['2001:db8:0:0:1::/64', '2001:db8::1'],
  ];
  for (const [c, want] of cases) t.is(firstAddress(c), want, c);
  t.throws(() => firstAddress('nope'));
  t.throws(() => firstAddress('1.2.3.4/40'));
});

test('Limiter bounds concurrency and passes results and errors through', async (t) => {
  const { Limiter } = await import('./limiter.js');
  const l = new Limiter(3);
  let active = 0;
  let peak = 0;
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => l.run(async () => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setImmediate(r));
    active--;
    return i;
  })));
  t.is(peak, 3);
  t.deepEqual(results, Array.from({ length: 20 }, (_, i) => i));
  await t.throwsAsync(() => l.run(async () => { throw new Error('boom'); }), { message: 'boom' });
  t.is(await l.run(async () => 'still works'), 'still works');
});

test('a ListBody encodes as JSON.stringify of the list', (t) => {
  const items = [{ metadata: { name: 'a' } }, { metadata: { name: 'b', labels: { '1': 'é"' } } }];
  const head = { kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '7', continue: 'x' } };
  t.is(encodeBody(new ListBody(head, items)), JSON.stringify({ ...head, items }));
  t.is(encodeBody(new ListBody(head, [])), JSON.stringify({ ...head, items: [] }));
  t.is(encodeBody(new ListBody({}, items)), JSON.stringify({ items }));
  t.is(encodeBody({ kind: 'Status' }), '{"kind":"Status"}');
});
