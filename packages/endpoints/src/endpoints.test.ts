import test from 'ava';
import type { Endpoints, EndpointSubset, Pod, Service } from '@knet/api';
import { desiredEndpoints, reconcileEndpoints, truncateEndpoints } from './endpoints.js';
import { semanticEqual } from './equal.js';
import { pod, pods, service } from './testing/fixtures.js';

const ips = (s: EndpointSubset, which: 'addresses' | 'notReadyAddresses' = 'addresses') => (s[which] ?? []).map((a) => a.ip);

interface Case {
  name: string;
  svc: Service;
  pods: Pod[];
  expect: EndpointSubset[] | null;
}

const namedPorts = [{ name: 'http', containerPort: 9000, protocol: 'TCP' as const }];

const cases: Case[] = [
  {
    name: 'ready pods go to addresses, with targetRef and nodeName',
    svc: service(),
    pods: [pod({ name: 'a', ip: '127.244.0.2', nodeName: 'n1' }), pod({ name: 'b', ip: '127.244.0.1' })],
    expect: [
      {
        addresses: [
          { ip: '127.244.0.1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
          { ip: '127.244.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  },
  {
    name: 'unready pods go to notReadyAddresses',
    svc: service(),
    pods: [pod({ name: 'a', ip: '127.244.0.1' }), pod({ name: 'b', ip: '127.244.0.2', ready: false })],
    expect: [
      {
        addresses: [{ ip: '127.244.0.1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        notReadyAddresses: [{ ip: '127.244.0.2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  },
  {
    name: 'pods without IP, other namespace, non-matching labels, terminal or terminating are left out',
    svc: service(),
    pods: [
      pod({ name: 'noip' }),
      pod({ name: 'other-ns', ip: '127.244.0.3', namespace: 'other' }),
      pod({ name: 'other-app', ip: '127.244.0.4', labels: { app: 'db' } }),
      pod({ name: 'done', ip: '127.244.0.5', phase: 'Succeeded' }),
      pod({ name: 'going', ip: '127.244.0.6', terminating: true }),
    ],
    expect: [],
  },
  {
    name: 'publishNotReadyAddresses puts unready and terminating pods in addresses',
    svc: service({ publishNotReadyAddresses: true }),
    pods: [pod({ name: 'a', ip: '127.244.0.1', ready: false }), pod({ name: 'b', ip: '127.244.0.2', terminating: true })],
    expect: [
      {
        addresses: [
          { ip: '127.244.0.1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
          { ip: '127.244.0.2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  },
  {
    name: 'named targetPort resolves per pod; pods lacking it are left out of that port',
    svc: service({
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'metrics', port: 9100, targetPort: 9100, protocol: 'TCP' },
      ],
    }),
    pods: [
      pod({ name: 'a', ip: '127.244.0.1', ports: namedPorts }),
      pod({ name: 'b', ip: '127.244.0.2', ports: [{ name: 'http', containerPort: 9001 }] }),
      pod({ name: 'c', ip: '127.244.0.3' }),
    ],
    expect: [
      {
        addresses: [{ ip: '127.244.0.1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        ports: [{ name: 'http', port: 9000, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '127.244.0.2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
        ports: [{ name: 'http', port: 9001, protocol: 'TCP' }],
      },
      {
        addresses: [
          { ip: '127.244.0.1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
          { ip: '127.244.0.2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
          { ip: '127.244.0.3', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } },
        ],
        ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }],
      },
    ],
  },
  {
    name: 'named port must match the protocol too',
    svc: service({ ports: [{ name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' }] }),
    pods: [pod({ name: 'a', ip: '127.244.0.1', ports: [{ name: 'dns', containerPort: 5353, protocol: 'TCP' }] })],
    expect: [],
  },
  {
    name: 'multiple ports with the same pods pack into one subset',
    svc: service({
      ports: [
        { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
      ],
    }),
    pods: [pod({ name: 'a', ip: '127.244.0.1' })],
    expect: [
      {
        addresses: [{ ip: '127.244.0.1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'https', port: 8443, protocol: 'TCP' },
        ],
      },
    ],
  },
  {
    name: 'hostname only when subdomain names the service',
    svc: service({ clusterIP: 'None', clusterIPs: ['None'] }),
    pods: [
      pod({ name: 'a', ip: '127.244.0.1', hostname: 'a', subdomain: 'web' }),
      pod({ name: 'b', ip: '127.244.0.2', hostname: 'b', subdomain: 'other' }),
    ],
    expect: [
      {
        addresses: [
          { ip: '127.244.0.1', hostname: 'a', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
          { ip: '127.244.0.2', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  },
  {
    name: 'headless service without ports lists the pods',
    svc: service({ clusterIP: 'None', clusterIPs: ['None'], ports: [] }),
    pods: [pod({ name: 'a', ip: '127.244.0.1' })],
    expect: [{ addresses: [{ ip: '127.244.0.1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }] }],
  },
  {
    name: 'IPv6 service picks the pod IPv6 address',
    svc: service({ clusterIP: 'fd00::10', clusterIPs: ['fd00::10'], ipFamilies: ['IPv6'] }),
    pods: [pod({ name: 'a', ip: ['127.244.0.1', 'fd00:244::1'] }), pod({ name: 'v4only', ip: '127.244.0.2' })],
    expect: [
      {
        addresses: [{ ip: 'fd00:244::1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  },
  { name: 'no selector: user-managed', svc: service({ selector: undefined }), pods: pods(2), expect: null },
  { name: 'ExternalName: none', svc: service({ type: 'ExternalName', externalName: 'example.com' }), pods: pods(2), expect: null },
];

for (const c of cases) {
  test(`desiredEndpoints: ${c.name}`, (t) => {
    const ep = desiredEndpoints(c.svc, c.pods);
    if (c.expect === null) {
      t.is(ep, null);
      return;
    }
    t.truthy(ep);
    t.deepEqual(ep!.subsets, c.expect);
    t.is(ep!.metadata.name, c.svc.metadata.name);
    t.is(ep!.metadata.namespace, c.svc.metadata.namespace);
  });
}

test('desiredEndpoints: a pod not ready on one port is not ready on all (repack)', (t) => {
  const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  const ep = desiredEndpoints(svc, [pod({ name: 'a', ip: '127.244.0.1', ready: false }), pod({ name: 'b', ip: '127.244.0.2' })])!;
  t.is(ep.subsets!.length, 1);
  t.deepEqual(ips(ep.subsets![0]), ['127.244.0.2']);
  t.deepEqual(ips(ep.subsets![0], 'notReadyAddresses'), ['127.244.0.1']);
});

test('desiredEndpoints: labels copied from the service, headless label for headless services', (t) => {
  const svc = service({}, { labels: { team: 'a' } });
  t.deepEqual(desiredEndpoints(svc, [])!.metadata.labels, { team: 'a' });
  const headless = service({ clusterIP: 'None', clusterIPs: ['None'] }, { labels: { team: 'a' } });
  t.deepEqual(desiredEndpoints(headless, [])!.metadata.labels, { team: 'a', 'service.kubernetes.io/headless': '' });
});

test('desiredEndpoints: trigger time annotation in RFC 3339 nano', (t) => {
  const ep = desiredEndpoints(service(), [], { triggerTime: new Date('2026-01-02T03:04:05.120Z') })!;
  t.is(ep.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time'], '2026-01-02T03:04:05.12Z');
  t.falsy(desiredEndpoints(service(), [])!.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time']);
});

test('desiredEndpoints: equal inputs in any order give equal output', (t) => {
  const ps = pods(30).map((p, i) => (i % 3 === 0 ? { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' as const }] } } : p));
  const a = desiredEndpoints(service(), ps);
  const b = desiredEndpoints(service(), [...ps].reverse());
  t.deepEqual(a, b);
  t.is(JSON.stringify(a), JSON.stringify(b));
});

test('desiredEndpoints: more than 1000 addresses are truncated and marked', (t) => {
  const ep = desiredEndpoints(service(), pods(1005))!;
  const n = ep.subsets!.reduce((s, x) => s + (x.addresses?.length ?? 0) + (x.notReadyAddresses?.length ?? 0), 0);
  t.is(n, 1000);
  t.is(ep.metadata.annotations!['endpoints.kubernetes.io/over-capacity'], 'truncated');
});

test('truncateEndpoints: keeps ready addresses first', (t) => {
  const mk = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ ip: `${prefix}.${i}` }));
  const subsets: EndpointSubset[] = [{ addresses: mk(8, '127.1.0'), notReadyAddresses: mk(8, '127.2.0') }];
  t.true(truncateEndpoints(subsets, 10));
  t.is(subsets[0].addresses!.length, 8);
  t.is(subsets[0].notReadyAddresses!.length, 2);
  t.false(truncateEndpoints([{ addresses: mk(3, '127.1.0') }], 10));
});

test('reconcileEndpoints: create, no-op, update keeping foreign annotations', (t) => {
  const svc = service();
  const desired = desiredEndpoints(svc, pods(2), { triggerTime: new Date('2026-01-01T00:00:00Z') })!;
  const first = reconcileEndpoints(undefined, desired);
  t.is(first.action, 'create');
  if (first.action === 'none') return;
  const stored: Endpoints = { ...first.endpoints, metadata: { ...first.endpoints.metadata, resourceVersion: '7', annotations: { ...first.endpoints.metadata.annotations, mine: 'x' } } };

  // Same subsets, only a new trigger time: nothing to write.
  const again = desiredEndpoints(svc, pods(2), { triggerTime: new Date('2026-01-01T00:01:00Z') })!;
  t.is(reconcileEndpoints(stored, again).action, 'none');

  // A pod turning unready: update, keeps the foreign annotation and resourceVersion.
  const ps = pods(2);
  ps[1].status!.conditions = [{ type: 'Ready', status: 'False' }];
  const changed = reconcileEndpoints(stored, desiredEndpoints(svc, ps)!);
  t.is(changed.action, 'update');
  if (changed.action !== 'update') return;
  t.is(changed.endpoints.metadata.resourceVersion, '7');
  t.is(changed.endpoints.metadata.annotations!.mine, 'x');
  t.false('endpoints.kubernetes.io/last-change-trigger-time' in changed.endpoints.metadata.annotations!);
  t.deepEqual(changed.endpoints.subsets![0].notReadyAddresses!.map((a) => a.ip), ['127.244.0.2']);
});

test('reconcileEndpoints: label change and targetRef resourceVersion', (t) => {
  const svc = service({}, { labels: { a: '1' } });
  const desired = desiredEndpoints(svc, pods(1))!;
  const stored = structuredClone(desired);
  stored.metadata.resourceVersion = '3';
  stored.subsets![0].addresses![0].targetRef!.resourceVersion = '99';
  t.is(reconcileEndpoints(stored, desired).action, 'none');
  stored.metadata.labels = { a: '2' };
  // The stored object is an informer cache entry: the write is built beside it.
  Object.freeze(stored.metadata);
  Object.freeze(stored);
  const w = reconcileEndpoints(stored, desired);
  t.is(w.action, 'update');
  if (w.action === 'update') t.deepEqual(w.endpoints.metadata.labels, { a: '1' });
  t.deepEqual(stored.metadata.labels, { a: '2' });
});

test('semanticEqual: ignored keys at any depth; keys named like Object.prototype members compare as data', (t) => {
  const ignore = new Set(['resourceVersion']);
  t.true(semanticEqual({ a: [{ ref: { name: 'p', resourceVersion: '1' } }] }, { a: [{ ref: { name: 'p', resourceVersion: '2' } }] }, ignore));
  t.false(semanticEqual({ a: [{ ref: { name: 'p', resourceVersion: '1' } }] }, { a: [{ ref: { name: 'q', resourceVersion: '1' } }] }, ignore));
  t.false(semanticEqual({ a: { name: 'p' } }, { a: { name: 'p', resourceVersion: '1' } }));
  t.true(semanticEqual({ a: 1, b: [] }, { a: 1, c: {} }));
  t.false(semanticEqual({}, { constructor: 'x' }));
  t.false(semanticEqual({ toString: 'x' }, {}));
  t.true(semanticEqual({ constructor: 'x' }, { constructor: 'x' }));
  t.true(semanticEqual({ toString: {} }, {}));
});
