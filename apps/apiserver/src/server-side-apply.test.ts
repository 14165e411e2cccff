import test from 'ava';
import type { KubeObject } from '@knet/api';
import { componentSchemas } from './openapi-schemas.js';
import { applyCreate, applyUpdate, fieldSetOf, removeDropped } from './server-side-apply.js';

const schema = componentSchemas['io.k8s.api.core.v1.Service'];

test('fieldSetOf renders FieldsV1 with list map keys and defaults', (t) => {
  const fs = fieldSetOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', labels: { a: '1' } },
    spec: { selector: { app: 'x' }, ports: [{ port: 80, name: 'http' }], clusterIPs: ['127.96.0.1'] } }, schema);
  t.deepEqual(fs, {
    'f:metadata': { 'f:labels': { 'f:a': {} } },
    'f:spec': { 'f:selector': {}, 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { 'f:port': {}, 'f:name': {} } }, 'f:clusterIPs': {} },
  });
});

test('removeDropped removes only what stopped being applied', (t) => {
  const obj = { metadata: { labels: { a: '1', b: '2', c: '3' } }, spec: { ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], type: 'ClusterIP' } };
  const before = fieldSetOf({ metadata: { labels: { a: '1', b: '2' } }, spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] } }, schema);
  const after = fieldSetOf({ metadata: { labels: { a: '1' } }, spec: { ports: [{ port: 80 }] } }, schema);
  removeDropped(obj, before, after, schema);
  t.deepEqual(obj, { metadata: { labels: { a: '1', c: '3' } }, spec: { ports: [{ port: 80, protocol: 'TCP' }], type: 'ClusterIP' } });
});

test('applyUpdate keeps other managers and server fields', (t) => {
  const first = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', labels: { a: '1' } }, spec: { ports: [{ port: 80 }] } } as KubeObject;
  const created = applyCreate(first, 'me', schema);
  const stored = { ...created, metadata: { ...created.metadata, uid: 'u', labels: { a: '1', other: 'x' } }, spec: { ports: [{ port: 80, protocol: 'TCP' }], clusterIP: '127.96.0.9' } } as KubeObject;
  const next = applyUpdate(stored, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 81 }] } } as KubeObject, 'me', schema) as KubeObject & { spec: { ports: unknown[]; clusterIP: string } };
  t.deepEqual(next.metadata.labels, { other: 'x' });
  t.deepEqual(next.spec.ports, [{ port: 81 }]);
  t.is(next.spec.clusterIP, '127.96.0.9');
  t.is(next.metadata.uid, 'u');
  t.is(next.metadata.managedFields?.length, 1);
});
