import test from 'ava';
import type { Endpoint, EndpointSlice, EndpointSlicePort, Service, ServiceSpec } from '@knet/api';
import type { Backend } from '@knet/dataplane';
import { desiredTable, entryKey, ProxyProtocolAnnotation, type NodeView } from './desired-table.js';

const node: NodeView = { name: 'n1', nodePortAddresses: ['127.0.0.1'] };

function svc(name: string, spec: Partial<ServiceSpec>, extra: Partial<Service> = {}): Service {
  return {
    metadata: { namespace: 'default', name, ...(extra.metadata ?? {}) },
    spec: { type: 'ClusterIP', clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
    ...(extra.status ? { status: extra.status } : {}),
  };
}

function ep(ip: string, nodeName = 'n1', conditions: Endpoint['conditions'] = { ready: true, serving: true, terminating: false }): Endpoint {
  return { addresses: [ip], nodeName, conditions };
}

function slice(name: string, endpoints: Endpoint[], ports: EndpointSlicePort[] = [{ name: 'http', port: 8080, protocol: 'TCP' }], addressType: EndpointSlice['addressType'] = 'IPv4'): EndpointSlice {
  return { metadata: { namespace: 'default', name, labels: { 'kubernetes.io/service-name': 'web' } }, addressType, endpoints, ports };
}

const ready = (address: string, nodeLocal = true, port = 8080): Backend => ({ address, port, ready: true, serving: true, terminating: false, nodeLocal });

const slicesFor = (...s: EndpointSlice[]) => new Map([['default/web', s]]);

interface Case {
  name: string;
  services: Service[];
  slices?: EndpointSlice[];
  node?: NodeView;
  /** key → backends addresses, and optional field checks */
  want: Record<string, string[]>;
  check?: (t: import('ava').ExecutionContext, entries: ReturnType<typeof desiredTable>) => void;
}

const cases: Case[] = [
  {
    name: 'ClusterIP: every port, ready backends by port name',
    services: [svc('web', { ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] })],
    slices: [slice('web-a', [ep('127.244.0.2'), ep('127.244.0.1')], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }])],
    want: {
      'default/web:dns/UDP@127.96.0.5:53': ['127.244.0.1:5353', '127.244.0.2:5353'],
      'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080', '127.244.0.2:8080'],
    },
  },
  {
    name: 'unnamed single port matches the unnamed slice port',
    services: [svc('web', { ports: [{ port: 80 }] })],
    slices: [slice('web-a', [ep('127.244.0.1')], [{ port: 9000 }])],
    want: { 'default/web:80/TCP@127.96.0.5:80': ['127.244.0.1:9000'] },
  },
  {
    name: 'a slice without the port name gives nothing for that port',
    services: [svc('web', {})],
    slices: [slice('web-a', [ep('127.244.0.1')], [{ name: 'metrics', port: 9100, protocol: 'TCP' }])],
    want: { 'default/web:http/TCP@127.96.0.5:80': [] },
  },
  {
    name: 'dual-stack clusterIPs: each family gets its own endpoints',
    services: [svc('web', { clusterIPs: ['127.96.0.5', 'fd00::5'] })],
    slices: [slice('web-a', [ep('127.244.0.1')]), slice('web-b', [ep('fd00:244::1')], undefined, 'IPv6')],
    want: {
      'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'],
      'default/web:http/TCP@[fd00::5]:80': ['fd00:244::1:8080'],
    },
  },
  {
    name: 'headless and ExternalName are skipped',
    services: [svc('web', { clusterIP: 'None', clusterIPs: ['None'] }), svc('ext', { type: 'ExternalName', externalName: 'example.org', clusterIP: '', clusterIPs: [] })],
    slices: [slice('web-a', [ep('127.244.0.1')])],
    want: {},
  },
  {
    name: 'NodePort on every node address, plus the ClusterIP',
    services: [svc('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
    slices: [slice('web-a', [ep('127.244.0.1')])],
    node: { name: 'n1', nodePortAddresses: ['127.0.0.1', '127.0.0.2'] },
    want: {
      'default/web:http/TCP@127.0.0.1:30080': ['127.244.0.1:8080'],
      'default/web:http/TCP@127.0.0.2:30080': ['127.244.0.1:8080'],
      'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'],
    },
    check: (t, r) => t.is(r.entries.find((e) => e.port === 30080)?.labels?.kind, 'NodePort'),
  },
  {
    name: 'NodePort IPv6 node address only gets IPv6 endpoints',
    services: [svc('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
    slices: [slice('web-a', [ep('127.244.0.1')])],
    node: { name: 'n1', nodePortAddresses: ['::1'] },
    want: { 'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'], 'default/web:http/TCP@[::1]:30080': [] },
  },
  {
    name: 'LoadBalancer: ingress IPs (not ipMode Proxy, not hostnames) and NodePorts',
    services: [
      svc(
        'web',
        { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30080 }] },
        { status: { loadBalancer: { ingress: [{ ip: '127.200.0.1' }, { hostname: 'lb.example' }, { ip: '127.200.0.9', ipMode: 'Proxy' }] } } },
      ),
    ],
    slices: [slice('web-a', [ep('127.244.0.1')])],
    want: {
      'default/web:http/TCP@127.0.0.1:30080': ['127.244.0.1:8080'],
      'default/web:http/TCP@127.200.0.1:80': ['127.244.0.1:8080'],
      'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'],
    },
  },
  {
    name: 'ingress on a non-LoadBalancer Service is ignored',
    services: [svc('web', {}, { status: { loadBalancer: { ingress: [{ ip: '127.200.0.1' }] } } })],
    slices: [slice('web-a', [ep('127.244.0.1')])],
    want: { 'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'] },
  },
  {
    name: 'externalIPs on the service port',
    services: [svc('web', { externalIPs: ['127.201.0.1'] })],
    slices: [slice('web-a', [ep('127.244.0.1')])],
    want: { 'default/web:http/TCP@127.201.0.1:80': ['127.244.0.1:8080'], 'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'] },
  },
  {
    name: 'externalTrafficPolicy Local: external entries only local endpoints, ClusterIP all',
    services: [
      svc(
        'web',
        { type: 'LoadBalancer', externalTrafficPolicy: 'Local', externalIPs: ['127.201.0.1'], ports: [{ name: 'http', port: 80, nodePort: 30080 }] },
        { status: { loadBalancer: { ingress: [{ ip: '127.200.0.1' }] } } },
      ),
    ],
    slices: [slice('web-a', [ep('127.244.0.1', 'n1'), ep('127.244.1.1', 'n2'), { addresses: ['127.244.2.1'] }])],
    want: {
      'default/web:http/TCP@127.0.0.1:30080': ['127.244.0.1:8080'],
      'default/web:http/TCP@127.200.0.1:80': ['127.244.0.1:8080'],
      'default/web:http/TCP@127.201.0.1:80': ['127.244.0.1:8080'],
      'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080', '127.244.1.1:8080', '127.244.2.1:8080'],
    },
  },
  {
    name: 'internalTrafficPolicy Local: ClusterIP only local endpoints, NodePort all',
    services: [svc('web', { type: 'NodePort', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
    slices: [slice('web-a', [ep('127.244.0.1', 'n1'), ep('127.244.1.1', 'n2')])],
    want: {
      'default/web:http/TCP@127.0.0.1:30080': ['127.244.0.1:8080', '127.244.1.1:8080'],
      'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'],
    },
  },
  {
    name: 'both policies Local with no local endpoint: entries with no backends (connections reset)',
    services: [svc('web', { type: 'NodePort', internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
    slices: [slice('web-a', [ep('127.244.1.1', 'n2')])],
    want: { 'default/web:http/TCP@127.0.0.1:30080': [], 'default/web:http/TCP@127.96.0.5:80': [] },
  },
  {
    name: 'SCTP ports skipped with a reason; TCP port still served',
    services: [svc('web', { ports: [{ name: 'http', port: 80 }, { name: 's', port: 90, protocol: 'SCTP' }] })],
    slices: [slice('web-a', [ep('127.244.0.1')])],
    want: { 'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'] },
    check: (t, r) => t.true(r.skipped.some((s) => s.service === 'default/web' && /SCTP/.test(s.reason))),
  },
  {
    name: 'FQDN slices and slices of the other family are ignored',
    services: [svc('web', {})],
    slices: [slice('web-a', [ep('127.244.0.1')]), slice('web-f', [{ addresses: ['db.example'] }], undefined, 'FQDN'), slice('web-6', [ep('fd00::1')], undefined, 'IPv6')],
    want: { 'default/web:http/TCP@127.96.0.5:80': ['127.244.0.1:8080'] },
  },
  {
    name: 'no slices: an entry with no backends (reset, never a hang)',
    services: [svc('web', {})],
    want: { 'default/web:http/TCP@127.96.0.5:80': [] },
  },
  {
    name: 'same VIP:port claimed by two Services: first key wins, the other reported',
    services: [svc('b', { externalIPs: ['127.201.0.1'], clusterIP: '127.96.0.6', clusterIPs: ['127.96.0.6'] }), svc('a', { externalIPs: ['127.201.0.1'] })],
    want: {
      'default/a:http/TCP@127.201.0.1:80': [],
      'default/a:http/TCP@127.96.0.5:80': [],
      'default/b:http/TCP@127.96.0.6:80': [],
    },
    check: (t, r) => t.true(r.skipped.some((s) => s.service === 'default/b' && /already served for default\/a/.test(s.reason))),
  },
  {
    name: 'an externalIP that is not an IP is skipped with a reason',
    services: [svc('web', { externalIPs: ['not-an-ip'] })],
    want: { 'default/web:http/TCP@127.96.0.5:80': [] },
    check: (t, r) => t.true(r.skipped.some((s) => /not-an-ip/.test(s.reason))),
  },
];

for (const c of cases) {
  test(`desiredTable: ${c.name}`, (t) => {
    const slices = c.slices ? slicesFor(...c.slices) : new Map<string, EndpointSlice[]>();
    const r = desiredTable(c.services, slices, c.node ?? node);
    const got = Object.fromEntries(r.entries.map((e) => [e.key, e.backends.map((b) => (b.address.includes(':') ? `${b.address}:${b.port}` : `${b.address}:${b.port}`))]));
    t.deepEqual(got, c.want);
    t.deepEqual(Object.keys(got), Object.keys(c.want).sort(), 'entries sorted by key');
    c.check?.(t, r);
  });
}

test('desiredTable: endpoint conditions map to Backend, nil ready is ready, nil serving follows ready', (t) => {
  const r = desiredTable(
    [svc('web', {})],
    slicesFor(
      slice('web-a', [
        { addresses: ['127.244.0.1'], nodeName: 'n1' },
        { addresses: ['127.244.0.2'], conditions: { ready: false } },
        { addresses: ['127.244.0.3'], conditions: { ready: false, serving: true, terminating: true } },
        { addresses: ['127.244.0.4', '127.244.0.40'], conditions: { ready: false, serving: false, terminating: true } },
      ]),
    ),
    node,
  );
  t.deepEqual(r.entries[0]!.backends, [
    ready('127.244.0.1', true),
    { address: '127.244.0.2', port: 8080, ready: false, serving: false, terminating: false, nodeLocal: false },
    { address: '127.244.0.3', port: 8080, ready: false, serving: true, terminating: true, nodeLocal: false },
    { address: '127.244.0.4', port: 8080, ready: false, serving: false, terminating: true, nodeLocal: false },
  ]);
});

test('desiredTable: an address in two slices appears once, the ready copy wins', (t) => {
  const r = desiredTable(
    [svc('web', {})],
    slicesFor(slice('web-b', [ep('127.244.0.1', 'n1', { ready: true })]), slice('web-a', [ep('127.244.0.1', 'n1', { ready: false }), ep('127.244.0.2')])),
    node,
  );
  t.deepEqual(r.entries[0]!.backends, [ready('127.244.0.1'), ready('127.244.0.2')]);
});

test('desiredTable: sessionAffinity ClientIP with its timeout, default 10800', (t) => {
  const r = desiredTable(
    [
      svc('a', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
      svc('b', { sessionAffinity: 'ClientIP', clusterIP: '127.96.0.6', clusterIPs: ['127.96.0.6'] }),
      svc('c', { sessionAffinity: 'None', clusterIP: '127.96.0.7', clusterIPs: ['127.96.0.7'] }),
    ],
    new Map(),
    node,
  );
  t.deepEqual(
    r.entries.map((e) => e.affinity),
    [{ type: 'ClientIP', timeoutSeconds: 60 }, { type: 'ClientIP', timeoutSeconds: 10800 }, undefined],
  );
});

test('desiredTable: PROXY protocol annotation; v1 is dropped for UDP ports, bad values reported', (t) => {
  const ports = [{ name: 'tcp', port: 80 }, { name: 'udp', port: 53, protocol: 'UDP' as const }];
  const r = desiredTable(
    [
      svc('a', { ports }, { metadata: { name: 'a', annotations: { [ProxyProtocolAnnotation]: 'v1' } } }),
      svc('b', { ports, clusterIP: '127.96.0.6', clusterIPs: ['127.96.0.6'] }, { metadata: { name: 'b', annotations: { [ProxyProtocolAnnotation]: 'v2' } } }),
      svc('c', { ports, clusterIP: '127.96.0.7', clusterIPs: ['127.96.0.7'] }, { metadata: { name: 'c', annotations: { [ProxyProtocolAnnotation]: 'yes' } } }),
    ],
    new Map(),
    node,
  );
  t.deepEqual(
    r.entries.map((e) => [e.key, e.proxyProtocol]),
    [
      ['default/a:tcp/TCP@127.96.0.5:80', 'v1'],
      ['default/a:udp/UDP@127.96.0.5:53', undefined],
      ['default/b:tcp/TCP@127.96.0.6:80', 'v2'],
      ['default/b:udp/UDP@127.96.0.6:53', 'v2'],
      ['default/c:tcp/TCP@127.96.0.7:80', undefined],
      ['default/c:udp/UDP@127.96.0.7:53', undefined],
    ],
  );
  t.true(r.skipped.some((s) => s.service === 'default/a' && /v1 has no UDP form/.test(s.reason)));
  t.true(r.skipped.some((s) => s.service === 'default/c' && /"yes"/.test(s.reason)));
});

test('desiredTable: deterministic whatever the input order', (t) => {
  const services = [svc('x', { clusterIP: '127.96.0.9', clusterIPs: ['127.96.0.9'] }), svc('web', {})];
  const a = slice('web-a', [ep('127.244.0.3'), ep('127.244.0.1')]);
  const b = slice('web-b', [ep('127.244.0.2')]);
  const one = desiredTable(services, slicesFor(a, b), node);
  const two = desiredTable([...services].reverse(), slicesFor(b, a), node);
  t.deepEqual(one, two);
  t.deepEqual(one.entries[0]!.labels, { namespace: 'default', service: 'web', port: 'http', kind: 'ClusterIP' });
});

test('entryKey brackets IPv6 and uses the port name when there is one', (t) => {
  t.is(entryKey('ns/a', { port: 80 }, 'TCP', 'fd00::1', 80), 'ns/a:80/TCP@[fd00::1]:80');
  t.is(entryKey('ns/a', { name: 'dns', port: 53 }, 'UDP', '127.0.0.1', 30053), 'ns/a:dns/UDP@127.0.0.1:30053');
});
