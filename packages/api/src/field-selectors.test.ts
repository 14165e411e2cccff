import test from 'ava';
import type { Namespace, Node, Pod, Service } from './core.js';
import { checkFieldSelector, fieldsOf, parseFieldSelector, SelectorParseError, supportedFields, type FieldSelector } from './index.js';

const pod: Pod = {
  metadata: { name: 'web-1', namespace: 'prod' },
  spec: { containers: [{ name: 'c' }], nodeName: 'node-1', restartPolicy: 'Always' },
  status: { phase: 'Running', podIP: '127.244.0.5', podIPs: [{ ip: '127.244.0.5' }] },
};

const cases: [string, boolean][] = [
  ['', true],
  ['metadata.name=web-1', true],
  ['metadata.name==web-1', true],
  ['metadata.name!=web-1', false],
  ['metadata.namespace=prod,spec.nodeName=node-1', true],
  ['spec.nodeName=node-2', false],
  ['status.phase=Running,status.podIP=127.244.0.5', true],
  ['spec.restartPolicy!=Never', true],
  ['spec.hostNetwork=false', true],
  ['status.nominatedNodeName=', true],
];
for (const [text, want] of cases) {
  test(`field selector on pods: ${JSON.stringify(text)}`, (t) => {
    const sel = parseFieldSelector(text) as FieldSelector;
    t.false(sel instanceof SelectorParseError);
    t.is(checkFieldSelector('pods', sel), undefined);
    t.is(sel.matches(fieldsOf('pods', pod)), want);
  });
}

test('field selector: escapes and syntax errors', (t) => {
  const sel = parseFieldSelector('metadata.name=a\\,b\\=c') as FieldSelector;
  t.deepEqual(sel.requirements, [{ field: 'metadata.name', operator: '=', value: 'a,b=c' }]);
  t.is(sel.toString(), 'metadata.name=a\\,b\\=c');
  const bad = parseFieldSelector('metadata.name') as SelectorParseError;
  t.is(bad.message, "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  t.is(bad.status.code, 400);
  t.is((parseFieldSelector('metadata.name=a\\x') as SelectorParseError).message, 'invalid field selector: invalid escape sequence: \\x');
});

test('field selector: unsupported field is a BadRequest as Kubernetes', (t) => {
  const sel = parseFieldSelector('spec.foo=bar') as FieldSelector;
  const err = checkFieldSelector('pods', sel);
  t.is(err?.message, 'field label not supported: spec.foo');
  t.is(err?.status.reason, 'BadRequest');
  t.is(checkFieldSelector('nodes', parseFieldSelector('metadata.namespace=x') as FieldSelector)?.message, 'field label not supported: metadata.namespace');
});

test('fieldsOf per kind', (t) => {
  const svc: Service = { metadata: { name: 'db', namespace: 'prod' }, spec: { type: 'ClusterIP', clusterIP: '127.96.0.5' } };
  t.deepEqual(fieldsOf('services', svc), { 'metadata.name': 'db', 'metadata.namespace': 'prod', 'spec.clusterIP': '127.96.0.5', 'spec.type': 'ClusterIP' });
  const ns: Namespace = { metadata: { name: 'prod' }, status: { phase: 'Active' } };
  t.deepEqual(fieldsOf('Namespace', ns), { 'metadata.name': 'prod', 'status.phase': 'Active' });
  const node: Node = { metadata: { name: 'n1' }, spec: { unschedulable: true } };
  t.deepEqual(fieldsOf('nodes', node), { 'metadata.name': 'n1', 'spec.unschedulable': 'true' });
  t.deepEqual(supportedFields('endpointslices'), ['metadata.name', 'metadata.namespace']);
});
