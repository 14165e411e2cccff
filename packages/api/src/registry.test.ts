import test from 'ava';
import { INVALID_IP_MESSAGE } from './validation/ip.js';
import type { Namespace, Pod, Service } from './core.js';
import type { EndpointSlice } from './discovery.js';
import type { KubeObject } from './meta.js';
import { apiVersionOf, errorString, resolveResource, strategies, strategyFor, strategyForKind, type Strategy } from './index.js';

const svcs = strategyFor('', 'services') as Strategy<Service>;
const pods = strategyFor('', 'pods') as Strategy<Pod>;
const namespaces = strategyFor('', 'namespaces') as Strategy<Namespace>;
const slices = strategyFor('discovery.k8s.io', 'endpointslices') as Strategy<EndpointSlice>;

const infoCases: [string, string, string, string[], boolean, string[]][] = [
  ['', 'namespaces', 'Namespace', ['ns'], false, []],
  ['', 'services', 'Service', ['svc'], true, ['all']],
  ['', 'endpoints', 'Endpoints', ['ep'], true, []],
  ['', 'pods', 'Pod', ['po'], true, ['all']],
  ['', 'nodes', 'Node', ['no'], false, []],
  ['discovery.k8s.io', 'endpointslices', 'EndpointSlice', [], true, []],
];
for (const [group, plural, kind, shortNames, namespaced, categories] of infoCases) {
  test(`registry info: ${plural}`, (t) => {
    const s = strategyFor(group, plural);
    t.truthy(s);
    t.is(s!.info.kind, kind);
    t.is(s!.info.listKind, `${kind}List`);
    t.deepEqual(s!.info.shortNames, shortNames);
    t.is(s!.info.namespaced, namespaced);
    t.deepEqual(s!.info.categories, categories);
    t.is(strategyForKind(apiVersionOf(s!.info), kind), s);
  });
}

test('registry lookups', (t) => {
  t.is(strategies.length, 6);
  t.is(strategyFor('', 'endpointslices'), undefined);
  t.is(strategyFor('discovery.k8s.io', 'services'), undefined);
  t.is(resolveResource('svc'), svcs);
  t.is(resolveResource('Pod'), pods);
  t.is(resolveResource('endpointslice'), slices);
  t.is(apiVersionOf(slices.info), 'discovery.k8s.io/v1');
  t.deepEqual(svcs.info.subresources, ['status']);
});

function created(spec: Service['spec']): Service {
  const s: Service = { metadata: { name: 'db', namespace: 'default' }, spec, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } };
  svcs.prepareForCreate(s);
  // What the apiserver adds after allocation and storage.
  s.metadata.resourceVersion = '10';
  s.metadata.uid = 'u1';
  if (s.spec.type !== 'ExternalName' && !s.spec.clusterIP) {
    s.spec.clusterIP = '127.96.0.5';
    s.spec.clusterIPs = ['127.96.0.5'];
    s.spec.ipFamilies = ['IPv4'];
    s.spec.ipFamilyPolicy = 'SingleStack';
  }
  for (const p of s.spec.ports ?? []) if (s.spec.type === 'NodePort' && !p.nodePort) p.nodePort = 30080;
  return s;
}

function update(old: Service, change: (s: Service) => void): { svc: Service; errs: string[] } {
  const s = structuredClone(old);
  change(s);
  svcs.prepareForUpdate(s, old);
  return { svc: s, errs: svcs.validateUpdate(s, old).map(errorString) };
}

test('services create: defaults applied, user status dropped, valid', (t) => {
  const s = created({ ports: [{ port: 80 }], selector: { app: 'db' } });
  t.deepEqual(s.status, { loadBalancer: {} });
  t.is(s.spec.type, 'ClusterIP');
  t.deepEqual(svcs.validate(s).map(errorString), []);
});

const updateCases: [string, Service['spec'], (s: Service) => void, string[], ((t: import('ava').ExecutionContext, s: Service) => void)?][] = [
  ['no change', { ports: [{ port: 80 }] }, () => undefined, []],
  ['changing clusterIP is rejected', { ports: [{ port: 80 }] }, (s) => { s.spec.clusterIP = '127.96.0.6'; delete s.spec.clusterIPs; },
    ['spec.clusterIPs[0]: Invalid value: ["127.96.0.6"]: may not change once set']],
  ['PUT without clusterIP keeps the allocated one', { ports: [{ port: 80 }] }, (s) => { delete s.spec.clusterIP; delete s.spec.clusterIPs; }, [],
    (t, s) => t.deepEqual([s.spec.clusterIP, s.spec.clusterIPs], ['127.96.0.5', ['127.96.0.5']])],
  ['to ExternalName drops the VIP', { ports: [{ port: 80 }] }, (s) => { s.spec.type = 'ExternalName'; s.spec.externalName = 'db.example.com'; }, [],
    (t, s) => t.deepEqual([s.spec.clusterIP, s.spec.clusterIPs, s.spec.ipFamilies, s.spec.ipFamilyPolicy], [undefined, undefined, undefined, undefined])],
  ['NodePort PUT without nodePort keeps it', { type: 'NodePort', ports: [{ port: 80 }] }, (s) => { delete s.spec.ports![0]!.nodePort; }, [],
    (t, s) => t.is(s.spec.ports![0]!.nodePort, 30080)],
  ['NodePort to ClusterIP drops nodePorts and externalTrafficPolicy', { type: 'NodePort', ports: [{ port: 80 }] }, (s) => { s.spec.type = 'ClusterIP'; }, [],
    (t, s) => t.deepEqual([s.spec.ports![0]!.nodePort, s.spec.externalTrafficPolicy], [undefined, undefined])],
  ['ClusterIP to NodePort gets externalTrafficPolicy', { ports: [{ port: 80 }] }, (s) => { s.spec.type = 'NodePort'; }, [],
    (t, s) => t.is(s.spec.externalTrafficPolicy, 'Cluster')],
  ['status in a main update is ignored', { ports: [{ port: 80 }] }, (s) => { s.status = { loadBalancer: { ingress: [{ ip: '9.9.9.9' }] } }; }, [],
    (t, s) => t.deepEqual(s.status, { loadBalancer: {} })],
  ['renaming is rejected', { ports: [{ port: 80 }] }, (s) => { s.metadata.name = 'db2'; }, ['metadata.name: Invalid value: "db2": field is immutable']],
  ['update without resourceVersion is rejected', { ports: [{ port: 80 }] }, (s) => { delete s.metadata.resourceVersion; },
    ['metadata.resourceVersion: Invalid value: "": must be specified for an update']],
  ['changing ipFamilies is rejected', { ports: [{ port: 80 }] }, (s) => { s.spec.ipFamilies = ['IPv6']; }, [
    'spec.ipFamilies[0]: Invalid value: ["IPv6"]: may not change once set',
    'spec.clusterIPs[0]: Invalid value: "127.96.0.5": expected an IPv6 value as indicated by `ipFamilies[0]`',
  ]],
  ['to headless is rejected', { ports: [{ port: 80 }] }, (s) => { s.spec.clusterIP = 'None'; s.spec.clusterIPs = ['None']; },
    ['spec.clusterIPs[0]: Invalid value: ["None"]: may not change once set']],
];
for (const [name, spec, change, want, check] of updateCases) {
  test(`services update: ${name}`, (t) => {
    const { svc, errs } = update(created(spec), change);
    t.deepEqual(errs, want);
    check?.(t, svc);
  });
}

test('services status update keeps spec and takes status', (t) => {
  const old = created({ type: 'LoadBalancer', ports: [{ port: 80 }] });
  const s = structuredClone(old);
  s.spec.ports![0]!.port = 9999;
  s.status = { loadBalancer: { ingress: [{ ip: '127.200.0.1' }] } };
  svcs.prepareForStatusUpdate(s, old);
  t.is(s.spec.ports![0]!.port, 80);
  t.deepEqual(s.status, { loadBalancer: { ingress: [{ ip: '127.200.0.1', ipMode: 'VIP' }] } });
  t.deepEqual(svcs.validateStatusUpdate(s, old).map(errorString), []);
  const bad = structuredClone(old);
  bad.status = { loadBalancer: { ingress: [{ ip: 'nope', ipMode: 'VIP' }] } };
  t.deepEqual(svcs.validateStatusUpdate(bad, old).map(errorString), [
    `status.loadBalancer.ingress[0].ip: Invalid value: "nope": ${INVALID_IP_MESSAGE}`,
  ]);
});

test('pods: create keeps a given status (knet: bring your own process), else Pending; status update keeps spec', (t) => {
  const bare: Pod = { metadata: { name: 'web-0', namespace: 'default' }, spec: { containers: [{ name: 'web' }] } };
  pods.prepareForCreate(bare);
  t.deepEqual(bare.status, { phase: 'Pending', qosClass: 'BestEffort' });
  const p: Pod = { metadata: { name: 'web-1', namespace: 'default' }, spec: { containers: [{ name: 'web' }] }, status: { phase: 'Running', podIP: '127.244.0.5' } };
  pods.prepareForCreate(p);
  t.is(p.status?.phase, 'Running');
  t.is(p.status?.podIP, '127.244.0.5');
  t.deepEqual(p.status?.podIPs, [{ ip: '127.244.0.5' }]);
  t.deepEqual(pods.validate(p).map(errorString), []);
  p.metadata.resourceVersion = '3';
  const s = structuredClone(p);
  s.status = { phase: 'Running', podIP: '127.244.0.5', conditions: [{ type: 'Ready', status: 'True' }] };
  s.spec.nodeName = 'elsewhere';
  s.metadata.labels = { app: 'web' };
  pods.prepareForStatusUpdate(s, p);
  t.is(s.spec.nodeName as string | undefined, undefined);
  t.deepEqual(s.status?.podIPs, [{ ip: '127.244.0.5' }]);
  t.deepEqual(s.metadata.labels, { app: 'web' });
  t.deepEqual(pods.validateStatusUpdate(s, p).map(errorString), []);
  const u = structuredClone(s);
  u.status = { phase: 'Failed' };
  pods.prepareForUpdate(u, s);
  t.is(u.status?.phase, 'Running');
});

test('namespaces: create Active with finalizer; update keeps finalizers and status', (t) => {
  const ns: Namespace = { metadata: { name: 'prod' } };
  namespaces.prepareForCreate(ns);
  t.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  t.deepEqual(ns.status, { phase: 'Active' });
  ns.metadata.resourceVersion = '1';
  const u = structuredClone(ns);
  u.spec = { finalizers: [] };
  u.status = { phase: 'Terminating' };
  namespaces.prepareForUpdate(u, ns);
  t.deepEqual(u.spec, { finalizers: ['kubernetes'] });
  t.deepEqual(u.status, { phase: 'Active' });
  t.deepEqual(namespaces.validateUpdate(u, ns).map(errorString), []);
  const st = structuredClone(ns);
  st.status = { phase: 'Terminating' };
  t.deepEqual(namespaces.validateStatusUpdate(st, ns).map(errorString), [
    "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty",
  ]);
});

test('endpointslices: generation 1 on create, +1 only when content or labels change', (t) => {
  const s: EndpointSlice = { metadata: { name: 'db-abc', namespace: 'default' }, addressType: 'IPv4', endpoints: [{ addresses: ['127.244.0.1'] }] };
  slices.prepareForCreate(s);
  t.is(s.metadata.generation, 1);
  const same = structuredClone(s);
  same.metadata.annotations = { note: 'x' };
  slices.prepareForUpdate(same, s);
  t.is(same.metadata.generation, 1);
  const moved = structuredClone(s);
  moved.endpoints[0]!.addresses = ['127.244.0.2'];
  slices.prepareForUpdate(moved, s);
  t.is(moved.metadata.generation, 2);
  const relabeled = structuredClone(s);
  relabeled.metadata.labels = { 'kubernetes.io/service-name': 'db' };
  slices.prepareForUpdate(relabeled, s);
  t.is(relabeled.metadata.generation, 2);
});

test('every strategy survives a round of create, update and status update on a minimal object', (t) => {
  for (const s of strategies) {
    const obj: KubeObject = { metadata: { name: 'x', namespace: s.info.namespaced ? 'default' : undefined } };
    if (!s.info.namespaced) delete obj.metadata.namespace;
    t.notThrows(() => {
      s.prepareForCreate(obj);
      s.validate(obj);
      obj.metadata.resourceVersion = '1';
      const next = structuredClone(obj);
      s.prepareForUpdate(next, obj);
      s.validateUpdate(next, obj);
      s.prepareForStatusUpdate(next, obj);
      s.validateStatusUpdate(next, obj);
    }, s.info.plural);
  }
});

test('services strategy: a missing healthCheckNodePort is left to the allocator', (t) => {
  const s = created({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
  t.deepEqual(svcs.validate(s).map(errorString), []);
});

test('an update without uid or creationTimestamp keeps the stored ones; deletion fields are the server’s', (t) => {
  const eps = strategyFor('', 'endpoints')!;
  const old: KubeObject = { metadata: { name: 'e', namespace: 'default', uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z', resourceVersion: '5' } };
  const next: KubeObject = { metadata: { name: 'e', namespace: 'default', resourceVersion: '5', deletionTimestamp: '2030-01-01T00:00:00Z' } };
  eps.prepareForUpdate(next, old);
  t.is(next.metadata.uid, 'u-1');
  t.is(next.metadata.creationTimestamp, '2026-01-01T00:00:00Z');
  t.false('deletionTimestamp' in next.metadata);
  t.deepEqual(eps.validateUpdate(next, old), []);
});

/** Every object and array reachable from `v` that is frozen, by path. */
function frozenParts(v: unknown, path = ''): string[] {
  if (v === null || typeof v !== 'object') return [];
  const own = Object.isFrozen(v) ? [path || '<root>'] : [];
  return [...own, ...Object.entries(v).flatMap(([k, c]) => frozenParts(c, `${path}.${k}`))];
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    Object.freeze(v);
    for (const c of Object.values(v)) deepFreeze(c);
  }
  return v;
}

// The apiserver hands the strategies the stored object itself, which the store keeps deeply frozen:
// a strategy that wrote to it would throw, and one that took a part of it into the new object
// without copying would make the writes after it (allocation, defaulting) throw.
const storedObjects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', ...created({ type: 'LoadBalancer', ports: [{ name: 'web', port: 80, nodePort: 30080 }], selector: { app: 'web' } }) },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u2', resourceVersion: '3', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: '127.244.0.2', podIPs: [{ ip: '127.244.0.2' }], conditions: [{ type: 'Ready', status: 'True' }] } } as Pod,
  { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default', uid: 'u3', resourceVersion: '4' },
    subsets: [{ addresses: [{ ip: '127.244.0.2', targetRef: { kind: 'Pod', name: 'p', namespace: 'default' } }], ports: [{ port: 8080 }] }] } as KubeObject,
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-x', namespace: 'default', uid: 'u4', resourceVersion: '5', generation: 1, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4', endpoints: [{ addresses: ['127.244.0.2'], conditions: { ready: true } }], ports: [{ port: 8080, protocol: 'TCP' }] } as EndpointSlice,
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'u5', resourceVersion: '6' }, spec: { podCIDR: '127.244.0.0/24' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.2' }], conditions: [{ type: 'Ready', status: 'True' }] } } as KubeObject,
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', uid: 'u6', resourceVersion: '7', labels: { 'kubernetes.io/metadata.name': 'team' } },
    spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } } as Namespace,
];
for (const stored of storedObjects) {
  test(`${stored.kind}: update and status update read the frozen stored object and share no part of it`, (t) => {
    const s = strategyForKind(stored.apiVersion!, stored.kind!)!;
    const old = deepFreeze(structuredClone(stored));
    const asSent = (): KubeObject => {
      const o = structuredClone(stored) as KubeObject & { status?: unknown };
      delete o.status; // a client that leaves out what the server keeps
      return o;
    };
    const next = asSent();
    t.notThrows(() => s.prepareForUpdate(next, old));
    t.notThrows(() => s.validateUpdate(next, old));
    t.deepEqual(frozenParts(next), []);
    const status = asSent();
    t.notThrows(() => s.prepareForStatusUpdate(status, old));
    t.notThrows(() => s.validateStatusUpdate(status, old));
    t.deepEqual(frozenParts(status), []);
    t.deepEqual(old, stored);
  });
}
