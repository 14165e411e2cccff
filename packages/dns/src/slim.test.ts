// The informer transforms: a zone fed slim objects answers exactly as one fed whole objects, the slim objects
// hold only what the zone reads, and malformed input passes through without a throw.
import test from 'ava';
import type { EndpointSlice, Pod, Service } from '@knet/api';
import { ClusterZone } from './zone.js';
import { QTYPE } from './records.js';
import { slimEndpointSlice, slimMetaOnly, slimService } from './slim.js';
import { clusterIPService, externalNameService, headlessService, slice } from './fixtures.test-util.js';

/** Whole objects as the apiserver sends them: with everything the zone does not read. */
function whole<T extends { metadata: object }>(o: T): T {
  return { ...o, metadata: { ...o.metadata, uid: 'u-1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z', generation: 1 } };
}

const services: Service[] = [
  clusterIPService('default', 'web', ['127.96.0.5'], [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }]),
  clusterIPService('prod', 'db', ['127.96.0.7', 'fd00::7'], [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
  headlessService('prod', 'cass', [{ name: 'cql', port: 9042 }]),
  headlessService('prod', 'all', [{ name: 'p', port: 1 }], true),
  externalNameService('prod', 'ext', 'db.example.com.'),
].map((s) => whole({ ...s, status: { loadBalancer: {} } }));

const slices: EndpointSlice[] = [
  slice('prod', 'cass-a', 'cass', [{ ip: '127.244.0.11', hostname: 'cass-0' }, { ip: '127.244.0.12' }, { ip: '127.244.0.13', hostname: 'cass-2', ready: false }], [{ name: 'cql', port: 9042 }]),
  slice('prod', 'cass-b', 'cass', [{ ip: 'fd00::b', hostname: 'cass-0' }], [{ name: 'cql', port: 9042 }], 'IPv6'),
  slice('prod', 'all-a', 'all', [{ ip: '127.244.0.21', ready: false }, { ip: '127.244.0.22' }], [{ name: 'p', port: 1 }]),
].map((s) => whole({ ...s, endpoints: s.endpoints.map((e) => ({ ...e, nodeName: 'node-1', zone: 'z', targetRef: { kind: 'Pod', name: 'p' } })) }));

const pods: Pod[] = [whole({ metadata: { name: 'p', namespace: 'jobs' }, spec: { containers: [{ name: 'c' }] } })];

function feed(z: ClusterZone, svc: (s: Service) => Service, sl: (s: EndpointSlice) => EndpointSlice, pod: (p: Pod) => Pod): ClusterZone {
  for (const s of services) z.upsertService(svc(s));
  for (const s of slices) z.upsertEndpointSlice(sl(s));
  for (const p of pods) z.upsertPod(pod(p));
  return z;
}

test('a zone fed slim objects answers every question as one fed whole objects', (t) => {
  const same = <T>(o: T): T => o;
  const full = feed(new ClusterZone(), same, same, same);
  const slim = feed(new ClusterZone(), slimService, slimEndpointSlice, slimMetaOnly);
  const names = [
    'web.default.svc.cluster.local', '_http._tcp.web.default.svc.cluster.local', '_dns._udp.web.default.svc.cluster.local',
    'db.prod.svc.cluster.local', 'cass.prod.svc.cluster.local', '_cql._tcp.cass.prod.svc.cluster.local', 'cass-0.cass.prod.svc.cluster.local',
    '127-244-0-12.cass.prod.svc.cluster.local', 'cass-2.cass.prod.svc.cluster.local', 'all.prod.svc.cluster.local', 'ext.prod.svc.cluster.local',
    '127-0-0-9.jobs.pod.cluster.local', 'jobs.svc.cluster.local', '11.0.244.127.in-addr.arpa', '5.0.96.127.in-addr.arpa',
  ];
  let asked = 0;
  for (const name of names) {
    for (const type of [QTYPE.A, QTYPE.AAAA, QTYPE.SRV, QTYPE.PTR, QTYPE.CNAME]) {
      t.deepEqual(slim.resolve({ name, type }), full.resolve({ name, type }), `${name} ${type}`);
      asked++;
    }
  }
  t.is(asked, names.length * 5);
  t.deepEqual(slim.stats(), full.stats());
});

test('slim objects keep only what the zone and the informer read', (t) => {
  const s = slimEndpointSlice(slices[0]!);
  t.deepEqual(s.metadata, { name: 'cass-a', namespace: 'prod', resourceVersion: '7', labels: { 'kubernetes.io/service-name': 'cass' }, annotations: undefined });
  t.deepEqual(s.endpoints[0], { addresses: ['127.244.0.11'], conditions: { ready: true }, hostname: 'cass-0' });
  t.is(s.endpoints[0]!.conditions, s.endpoints[1]!.conditions, 'one shared conditions object per state');
  const svc = slimService(services[0]!);
  t.deepEqual(svc.spec.ports, [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'dns', protocol: 'UDP', port: 53 }]);
  t.is((svc as { status?: unknown }).status, undefined);
  t.deepEqual(slimMetaOnly(pods[0]!), { metadata: { name: 'p', namespace: 'jobs', resourceVersion: '7', labels: undefined, annotations: undefined } } as unknown as Pod);
  const stamped = slimEndpointSlice({ ...slices[0]!, metadata: { ...slices[0]!.metadata, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': 't', other: 'x' } } });
  t.deepEqual(stamped.metadata.annotations, { 'endpoints.kubernetes.io/last-change-trigger-time': 't' });
});

test('malformed objects pass through the transforms without a throw', (t) => {
  const junk: unknown[] = [null, undefined, 7, 'x', [], {}, { metadata: null }, { metadata: { labels: 5, annotations: 'a' } }, { spec: null }, { spec: { ports: 'p' } }, { spec: { ports: [null, 3] } },
    { endpoints: 'e', ports: {} }, { endpoints: [null, 1, { conditions: 5 }, { conditions: { ready: 'yes' } }, { addresses: null }] }];
  for (const j of junk) {
    t.notThrows(() => slimService(j as Service), JSON.stringify(j));
    t.notThrows(() => slimEndpointSlice(j as EndpointSlice), JSON.stringify(j));
    t.notThrows(() => slimMetaOnly(j as Pod), JSON.stringify(j));
  }
});
