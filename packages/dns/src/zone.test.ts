import test from 'ava';
import { ClusterZone } from './zone.js';
import { QTYPE, type Answer, type RR } from './records.js';
import { clusterIPService, externalNameService, headlessService, slice } from './fixtures.test-util.js';

function zoneWithData(): ClusterZone {
  const z = new ClusterZone({ nameservers: ['127.96.0.10'] });
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.5'], [
    { name: 'http', port: 80, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ]));
  z.upsertService(clusterIPService('prod', 'db', ['127.96.0.7', 'fd00::7'], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
  z.upsertService(headlessService('prod', 'cass', [{ name: 'cql', port: 9042 }]));
  z.upsertEndpointSlice(slice('prod', 'cass-a', 'cass', [
    { ip: '127.244.0.11', hostname: 'cass-0' },
    { ip: '127.244.0.12' },
    { ip: '127.244.0.13', hostname: 'cass-2', ready: false },
  ], [{ name: 'cql', port: 9042 }]));
  z.upsertEndpointSlice(slice('prod', 'cass-b', 'cass', [{ ip: 'fd00::b', hostname: 'cass-0' }], [{ name: 'cql', port: 9042 }], 'IPv6'));
  z.upsertService(headlessService('prod', 'all', [{ name: 'p', port: 1 }], true));
  z.upsertEndpointSlice(slice('prod', 'all-a', 'all', [{ ip: '127.244.0.21', ready: false }, { ip: '127.244.0.22' }], [{ name: 'p', port: 1 }]));
  z.upsertService(externalNameService('prod', 'ext', 'db.example.com.'));
  z.upsertService(externalNameService('prod', 'alias', 'db.prod.svc.cluster.local'));
  return z;
}

const data = (a: Answer): unknown[] => a.answers.map((r) => r.data);
const ask = (z: ClusterZone, name: string, type: number): Answer => z.resolve({ name, type });

interface Case {
  name: string;
  q: string;
  type: number;
  rcode: Answer['rcode'];
  answers?: unknown[];
  soa?: boolean;
}

const cases: Case[] = [
  { name: 'dns-version TXT', q: 'dns-version.cluster.local', type: QTYPE.TXT, rcode: 'NOERROR', answers: [['1.1.0']] },
  { name: 'ClusterIP A', q: 'web.default.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['127.96.0.5'] },
  { name: 'ClusterIP AAAA on v4-only service is NODATA', q: 'web.default.svc.cluster.local', type: QTYPE.AAAA, rcode: 'NOERROR', answers: [], soa: true },
  { name: 'dual stack A', q: 'db.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['127.96.0.7'] },
  { name: 'dual stack AAAA', q: 'db.prod.svc.cluster.local.', type: QTYPE.AAAA, rcode: 'NOERROR', answers: ['fd00::7'] },
  { name: 'ClusterIP SRV per named port', q: '_http._tcp.web.default.svc.cluster.local', type: QTYPE.SRV, rcode: 'NOERROR', answers: [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }] },
  { name: 'SRV udp port', q: '_dns._udp.web.default.svc.cluster.local', type: QTYPE.SRV, rcode: 'NOERROR', answers: [{ priority: 0, weight: 100, port: 53, target: 'web.default.svc.cluster.local' }] },
  { name: 'SRV wrong protocol is NXDOMAIN', q: '_http._udp.web.default.svc.cluster.local', type: QTYPE.SRV, rcode: 'NXDOMAIN', soa: true },
  { name: 'SRV unknown port is NXDOMAIN', q: '_nope._tcp.web.default.svc.cluster.local', type: QTYPE.SRV, rcode: 'NXDOMAIN', soa: true },
  { name: '_proto is an empty non-terminal', q: '_tcp.web.default.svc.cluster.local', type: QTYPE.SRV, rcode: 'NOERROR', answers: [], soa: true },
  { name: 'headless A: ready endpoints of every slice', q: 'cass.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['127.244.0.11', '127.244.0.12'] },
  { name: 'headless AAAA', q: 'cass.prod.svc.cluster.local', type: QTYPE.AAAA, rcode: 'NOERROR', answers: ['fd00::b'] },
  { name: 'headless hostname A', q: 'cass-0.cass.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['127.244.0.11'] },
  { name: 'headless hostname AAAA', q: 'cass-0.cass.prod.svc.cluster.local', type: QTYPE.AAAA, rcode: 'NOERROR', answers: ['fd00::b'] },
  { name: 'headless dashed-IP endpoint name', q: '127-244-0-12.cass.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['127.244.0.12'] },
  { name: 'not-ready endpoint has no name', q: 'cass-2.cass.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NXDOMAIN', soa: true },
  { name: 'publishNotReadyAddresses publishes all', q: 'all.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['127.244.0.21', '127.244.0.22'] },
  {
    name: 'headless SRV targets per endpoint (hostname, dashed IP)',
    q: '_cql._tcp.cass.prod.svc.cluster.local',
    type: QTYPE.SRV,
    rcode: 'NOERROR',
    answers: [
      { priority: 0, weight: 33, port: 9042, target: 'cass-0.cass.prod.svc.cluster.local' },
      { priority: 0, weight: 33, port: 9042, target: '127-244-0-12.cass.prod.svc.cluster.local' },
    ],
  },
  { name: 'ExternalName CNAME', q: 'ext.prod.svc.cluster.local', type: QTYPE.CNAME, rcode: 'NOERROR', answers: ['db.example.com'] },
  { name: 'ExternalName answers A with the CNAME only', q: 'ext.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['db.example.com'] },
  { name: 'ExternalName inside the zone is followed', q: 'alias.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['db.prod.svc.cluster.local', '127.96.0.7'] },
  { name: 'pod A (insecure)', q: '127-244-1-9.prod.pod.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['127.244.1.9'] },
  { name: 'pod AAAA dashed IPv6', q: 'fd00--1-9.prod.pod.cluster.local', type: QTYPE.AAAA, rcode: 'NOERROR', answers: ['fd00::1:9'] },
  { name: 'pod name that is not an IP', q: 'nginx.prod.pod.cluster.local', type: QTYPE.A, rcode: 'NXDOMAIN', soa: true },
  { name: 'pod in a namespace that does not exist', q: '127-244-1-9.nope.pod.cluster.local', type: QTYPE.A, rcode: 'NXDOMAIN', soa: true },
  { name: 'namespace name is an empty non-terminal', q: 'prod.svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: [], soa: true },
  { name: 'svc label is an empty non-terminal', q: 'svc.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: [], soa: true },
  { name: 'pod label is an empty non-terminal', q: 'pod.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: [], soa: true },
  { name: 'unknown namespace is NXDOMAIN', q: 'nope.svc.cluster.local', type: QTYPE.A, rcode: 'NXDOMAIN', soa: true },
  { name: 'unknown service is NXDOMAIN', q: 'nope.prod.svc.cluster.local', type: QTYPE.A, rcode: 'NXDOMAIN', soa: true },
  { name: 'unknown top label is NXDOMAIN', q: 'foo.cluster.local', type: QTYPE.A, rcode: 'NXDOMAIN', soa: true },
  { name: 'too many labels is NXDOMAIN', q: 'a.b.c.web.default.svc.cluster.local', type: QTYPE.A, rcode: 'NXDOMAIN', soa: true },
  { name: 'existing name, other type is NODATA', q: 'web.default.svc.cluster.local', type: QTYPE.MX, rcode: 'NOERROR', answers: [], soa: true },
  { name: 'apex NS', q: 'cluster.local', type: QTYPE.NS, rcode: 'NOERROR', answers: ['ns.dns.cluster.local'] },
  { name: 'apex A is NODATA', q: 'cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: [], soa: true },
  { name: 'ns.dns A is the DNS service IP', q: 'ns.dns.cluster.local', type: QTYPE.A, rcode: 'NOERROR', answers: ['127.96.0.10'] },
  { name: 'PTR of a ClusterIP', q: '5.0.96.127.in-addr.arpa', type: QTYPE.PTR, rcode: 'NOERROR', answers: ['web.default.svc.cluster.local'] },
  { name: 'PTR of an IPv6 ClusterIP', q: '7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', type: QTYPE.PTR, rcode: 'NOERROR', answers: ['db.prod.svc.cluster.local'] },
  { name: 'PTR of a headless endpoint with hostname', q: '11.0.244.127.in-addr.arpa', type: QTYPE.PTR, rcode: 'NOERROR', answers: ['cass-0.cass.prod.svc.cluster.local'] },
  { name: 'PTR of an IPv6 headless endpoint with hostname', q: 'b.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', type: QTYPE.PTR, rcode: 'NOERROR', answers: ['cass-0.cass.prod.svc.cluster.local'] },
  { name: 'AXFR is refused', q: 'cluster.local', type: QTYPE.AXFR, rcode: 'REFUSED' },
];

for (const c of cases) {
  test(`record: ${c.name}`, (t) => {
    const z = zoneWithData();
    const a = ask(z, c.q, c.type);
    t.is(a.rcode, c.rcode);
    t.true(a.inZone);
    if (c.answers) t.deepEqual(data(a), c.answers);
    if (c.rcode !== 'REFUSED') t.true(a.authoritative);
    t.is(a.authority.some((r) => r.type === 'SOA'), c.soa === true);
    for (const r of a.answers) t.is(r.ttl, 5);
  });
}

test('negative answers carry the zone SOA with the negative TTL', (t) => {
  const z = new ClusterZone({ ttl: 7 });
  const a = ask(z, 'nothing.svc.cluster.local', QTYPE.A);
  t.is(a.rcode, 'NXDOMAIN');
  const soa = a.authority[0] as Extract<RR, { type: 'SOA' }>;
  t.is(soa.name, 'cluster.local');
  t.is(soa.ttl, 7);
  t.like(soa.data, { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', minimum: 7, refresh: 7200, retry: 1800, expire: 86400 });
});

test('the SOA serial moves forward as the zone changes, not on no-op updates', (t) => {
  const z = new ClusterZone();
  const s0 = z.serial;
  const svc = clusterIPService('default', 'a', ['127.96.0.1']);
  z.upsertService(svc);
  const s1 = z.serial;
  t.true(s1 > s0);
  z.upsertService(structuredClone(svc));
  t.is(z.serial, s1);
  z.deleteService('default', 'a');
  t.true(z.serial > s1);
  const soa = ask(z, 'cluster.local', QTYPE.SOA).answers[0] as Extract<RR, { type: 'SOA' }>;
  t.is(soa.data.serial, z.serial);
});

test('names are case-insensitive and answers keep the asked spelling', (t) => {
  const z = zoneWithData();
  const a = ask(z, 'WeB.Default.SVC.Cluster.Local.', QTYPE.A);
  t.is(a.rcode, 'NOERROR');
  t.is(a.answers[0]?.name, 'WeB.Default.SVC.Cluster.Local');
  const nx = ask(z, 'Nope.Default.SVC.Cluster.LOCAL', QTYPE.A);
  t.is(nx.authority[0]?.name, 'Cluster.LOCAL');
  const srv = ask(z, '_HTTP._Tcp.web.default.svc.cluster.local', QTYPE.SRV);
  t.is(srv.answers[0]?.name, '_HTTP._Tcp.web.default.svc.cluster.local');
  const ep = ask(z, 'CASS-0.cass.prod.svc.cluster.local', QTYPE.A);
  t.deepEqual(data(ep), ['127.244.0.11']);
});

test('SRV answers put the targets addresses in additional', (t) => {
  const z = zoneWithData();
  const a = ask(z, '_pg._tcp.db.prod.svc.cluster.local', QTYPE.SRV);
  // Dual stack: one SRV, both addresses of the target as glue; weight split as CoreDNS does.
  t.deepEqual(data(a), [{ priority: 0, weight: 50, port: 5432, target: 'db.prod.svc.cluster.local' }]);
  t.deepEqual(a.additional.map((r) => [r.name, r.type, r.data]), [
    ['db.prod.svc.cluster.local', 'A', '127.96.0.7'],
    ['db.prod.svc.cluster.local', 'AAAA', 'fd00::7'],
  ]);
  const h = ask(z, '_cql._tcp.cass.prod.svc.cluster.local', QTYPE.SRV);
  t.deepEqual(h.additional.map((r) => [r.name, r.data]), [
    ['cass-0.cass.prod.svc.cluster.local', '127.244.0.11'],
    ['127-244-0-12.cass.prod.svc.cluster.local', '127.244.0.12'],
    ['cass-0.cass.prod.svc.cluster.local', 'fd00::b'],
  ]);
});

test('apex NS has the DNS service address as glue; SOA at the apex only', (t) => {
  const z = zoneWithData();
  const ns = ask(z, 'cluster.local', QTYPE.NS);
  t.deepEqual(ns.additional.map((r) => [r.name, r.type, r.data]), [['ns.dns.cluster.local', 'A', '127.96.0.10']]);
  t.is(ask(z, 'cluster.local', QTYPE.SOA).answers[0]?.type, 'SOA');
  const notApex = ask(z, 'svc.cluster.local', QTYPE.SOA);
  t.is(notApex.answers.length, 0);
  t.is(notApex.authority[0]?.type, 'SOA');
});

test('names outside the zone and unknown reverse names are not ours', (t) => {
  const z = zoneWithData();
  for (const name of ['example.com', 'local', 'xcluster.local', '9.9.9.9.in-addr.arpa', '0.96.127.in-addr.arpa']) {
    const a = ask(z, name, QTYPE.A);
    t.false(a.inZone, name);
    t.false(a.authoritative, name);
  }
});

test('deletes remove records; endpoints of deleted slices vanish', (t) => {
  const z = zoneWithData();
  z.deleteEndpointSlice('prod', 'cass-a');
  t.deepEqual(data(ask(z, 'cass.prod.svc.cluster.local', QTYPE.A)), []);
  t.deepEqual(data(ask(z, 'cass.prod.svc.cluster.local', QTYPE.AAAA)), ['fd00::b']);
  z.deleteEndpointSlice('prod', 'cass-b');
  t.is(ask(z, 'cass.prod.svc.cluster.local', QTYPE.A).rcode, 'NXDOMAIN');
  z.deleteService('default', 'web');
  t.is(ask(z, 'web.default.svc.cluster.local', QTYPE.A).rcode, 'NXDOMAIN');
  t.is(ask(z, '5.0.96.127.in-addr.arpa', QTYPE.PTR).inZone, false);
  // The namespace had only that Service: it is gone too.
  t.is(ask(z, 'default.svc.cluster.local', QTYPE.A).rcode, 'NXDOMAIN');
});

test('a slice update replaces its endpoints', (t) => {
  const z = zoneWithData();
  z.upsertEndpointSlice(slice('prod', 'cass-a', 'cass', [{ ip: '127.244.0.99', hostname: 'cass-9' }], [{ name: 'cql', port: 9042 }]));
  t.deepEqual(data(ask(z, 'cass.prod.svc.cluster.local', QTYPE.A)), ['127.244.0.99']);
  t.deepEqual(data(ask(z, '99.0.244.127.in-addr.arpa', QTYPE.PTR)), ['cass-9.cass.prod.svc.cluster.local']);
  t.false(ask(z, '11.0.244.127.in-addr.arpa', QTYPE.PTR).inZone);
});

test('pod records can be disabled', (t) => {
  const z = new ClusterZone({ podRecords: 'disabled' });
  z.upsertService(clusterIPService('prod', 'x', ['127.96.0.9']));
  t.is(ask(z, '127-244-1-9.prod.pod.cluster.local', QTYPE.A).rcode, 'NXDOMAIN');
});

test('namespaces known from Namespace objects and Pods', (t) => {
  const z = new ClusterZone();
  t.is(ask(z, 'team.svc.cluster.local', QTYPE.A).rcode, 'NXDOMAIN');
  z.upsertNamespace({ metadata: { name: 'team' } });
  t.is(ask(z, 'team.svc.cluster.local', QTYPE.A).rcode, 'NOERROR');
  z.upsertPod({ metadata: { name: 'p', namespace: 'pods' }, spec: { containers: [] } });
  t.deepEqual(data(ask(z, '127-244-0-3.pods.pod.cluster.local', QTYPE.A)), ['127.244.0.3']);
  z.deletePod('pods', 'p');
  t.is(ask(z, '127-244-0-3.pods.pod.cluster.local', QTYPE.A).rcode, 'NXDOMAIN');
});

test('a custom cluster domain', (t) => {
  const z = new ClusterZone({ clusterDomain: 'Corp.Internal.' });
  z.upsertService(clusterIPService('a', 'b', ['127.96.0.3']));
  t.deepEqual(data(ask(z, 'b.a.svc.corp.internal', QTYPE.A)), ['127.96.0.3']);
  t.false(ask(z, 'b.a.svc.cluster.local', QTYPE.A).inZone);
});

test('bad objects get a clear error', (t) => {
  const z = new ClusterZone();
  t.throws(() => z.upsertService({ metadata: {}, spec: {} }), { message: /Service without metadata.name/ });
});

test('other classes inside the zone are refused', (t) => {
  const z = zoneWithData();
  const a = z.resolve({ name: 'web.default.svc.cluster.local', type: QTYPE.A, class: 3 });
  t.is(a.rcode, 'REFUSED');
});

test('stats count objects and namespaces; nameservers can change', (t) => {
  const z = zoneWithData();
  t.deepEqual(z.stats(), { services: 6, endpointSlices: 3, pods: 0, namespaces: 2 });
  z.setNameservers(['127.96.0.53', 'fd00::53']);
  t.deepEqual(data(ask(z, 'ns.dns.cluster.local', QTYPE.AAAA)), ['fd00::53']);
  t.deepEqual(ask(z, 'cluster.local', QTYPE.NS).additional.map((r) => r.data), ['127.96.0.53', 'fd00::53']);
});
