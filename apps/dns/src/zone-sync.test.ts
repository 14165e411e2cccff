// ZoneSync against the client package's fake apiserver: objects the real apiserver would refuse can be served here.
import test from 'ava';
import type { KubeObject } from '@knet/api';
import { KubeClient } from '@knet/client';
import { FakeApiServer, until } from '@knet/client/testing';
import { ClusterZone, QTYPE } from '@knet/dns';
import { ZoneSync } from './zone-sync.js';

interface Logged {
  obj: object;
  msg?: string;
}

async function setup(t: import('ava').ExecutionContext) {
  const api = new FakeApiServer();
  await api.start();
  t.teardown(() => api.stop());
  const client = new KubeClient({ server: api.url });
  t.teardown(() => client.close());
  const zone = new ClusterZone({});
  const warnings: Logged[] = [];
  const programmed: number[] = [];
  const log = { debug() {}, info() {}, error() {}, warn: (obj: object, msg?: string) => void warnings.push({ obj, msg }) };
  const sync = new ZoneSync({ client, zone, log, onProgrammed: (s) => programmed.push(s) });
  t.teardown(() => sync.stop());
  return { api, zone, sync, warnings, programmed };
}

const a = (zone: ClusterZone, name: string): string[] => zone.resolve({ name, type: QTYPE.A }).answers.map((rr) => String(rr.data));

test('objects listed before the start and watched after it reach the zone; deletes leave it', async (t) => {
  const { api, zone, sync } = await setup(t);
  api.put('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } });
  api.put('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'prod' }, spec: { clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5'] } } as KubeObject);
  t.deepEqual(sync.pending(), ['services', 'endpointslices', 'pods', 'namespaces']);
  t.false(sync.hasSynced());
  sync.start();
  await sync.waitForSync();
  t.true(sync.hasSynced());
  t.deepEqual(sync.pending(), []);
  t.deepEqual(a(zone, 'web.prod.svc.cluster.local'), ['127.96.0.5']);
  t.is(zone.resolve({ name: 'empty.svc.cluster.local', type: QTYPE.A }).rcode, 'NOERROR', 'a Namespace makes its name exist');

  api.put('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'prod' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } } as KubeObject);
  api.put('endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-1', namespace: 'prod', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.244.0.9'], conditions: { ready: true } }],
  } as KubeObject);
  await until(() => a(zone, 'db.prod.svc.cluster.local').length === 1, 'the headless endpoint');
  t.deepEqual(a(zone, 'db.prod.svc.cluster.local'), ['127.244.0.9']);

  api.remove('services', 'prod', 'web');
  await until(() => zone.resolve({ name: 'web.prod.svc.cluster.local', type: QTYPE.A }).rcode === 'NXDOMAIN', 'the delete');
  t.pass();
});

test('a malformed object is logged and skipped; the feed goes on', async (t) => {
  const { api, zone, sync, warnings } = await setup(t);
  sync.start();
  await sync.waitForSync();
  // endpoints is not a list: what a buggy or newer apiserver might send.
  api.put('endpointslices', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'bad', namespace: 'prod' }, addressType: 'IPv4', endpoints: 5 } as unknown as KubeObject);
  api.put('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'after', namespace: 'prod' }, spec: { clusterIP: '127.96.0.6', clusterIPs: ['127.96.0.6'] } } as KubeObject);
  // Two informers, two streams: wait for both events.
  await until(() => a(zone, 'after.prod.svc.cluster.local').length === 1 && warnings.length > 0, 'the bad slice logged and the Service served');
  t.is(warnings.length, 1);
  t.is(warnings[0]!.msg, 'object skipped');
  t.like(warnings[0]!.obj, { kind: 'endpointslices', key: 'prod/bad', op: 'add' });
});

test('programming latency is observed for headless Services with a controller-written slice, after the sync', async (t) => {
  const { api, sync, programmed } = await setup(t);
  const slice = (name: string, svc: string, stamp?: string): KubeObject =>
    ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': svc }, ...(stamp ? { annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': stamp } } : {}) },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.244.0.1'] }],
    }) as KubeObject;
  api.put('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'hl', namespace: 'ns' }, spec: { clusterIP: 'None' } } as KubeObject);
  api.put('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'vip', namespace: 'ns' }, spec: { clusterIP: '127.96.0.7' } } as KubeObject);
  api.put('endpointslices', slice('listed', 'hl', new Date(Date.now() - 60_000).toISOString()));
  sync.start();
  await sync.waitForSync();
  api.put('endpointslices', slice('vip-1', 'vip', new Date().toISOString()));
  api.put('endpointslices', slice('hl-nostamp', 'hl'));
  api.put('endpointslices', slice('hl-1', 'hl', new Date(Date.now() - 2000).toISOString()));
  await until(() => programmed.length > 0, 'an observation');
  t.is(programmed.length, 1, 'only the headless slice with a trigger time, not the initial list');
  t.true(programmed[0]! >= 2 && programmed[0]! < 60);
});
