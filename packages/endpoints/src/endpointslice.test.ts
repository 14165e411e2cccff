import test from 'ava';
import type { EndpointSlice, Pod, Service } from '@knet/api';
import { desiredEndpointSlices, addressTypesForService } from './endpointslice.js';
import { planIsEmpty } from './slice-util.js';
import { applyPlan } from './testing/apply.js';
import { pod, pods, service } from './testing/fixtures.js';

/** Runs the reconciler until it has nothing to do; returns the stored slices and the number of rounds. */
function converge(svc: Service, ps: Pod[], start: EndpointSlice[] = [], max = 100): { slices: EndpointSlice[]; rounds: number } {
  let slices = start;
  for (let rounds = 0; rounds < 5; rounds++) {
    const plan = desiredEndpointSlices(svc, ps, slices, { maxEndpointsPerSlice: max });
    if (planIsEmpty(plan)) return { slices, rounds };
    slices = applyPlan(slices, plan);
  }
  throw new Error('did not converge');
}

const allEndpoints = (slices: EndpointSlice[]) => slices.flatMap((s) => s.endpoints);

test('slices: a new service gets one slice with labels, owner, ports and conditions', (t) => {
  const svc = service({}, { labels: { team: 'a' } });
  const plan = desiredEndpointSlices(svc, [pod({ name: 'a', ip: '127.244.0.1', nodeName: 'n1' })], [], { triggerTime: new Date('2026-01-01T00:00:00.5Z') });
  t.is(plan.create.length, 1);
  t.is(plan.update.length + plan.delete.length, 0);
  const s = plan.create[0];
  t.is(s.metadata.generateName, 'web-');
  t.is(s.metadata.namespace, 'default');
  t.deepEqual(s.metadata.labels, {
    team: 'a',
    'kubernetes.io/service-name': 'web',
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
  });
  t.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  t.is(s.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time'], '2026-01-01T00:00:00.5Z');
  t.is(s.addressType, 'IPv4');
  t.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  t.deepEqual(s.endpoints, [
    {
      addresses: ['127.244.0.1'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
      nodeName: 'n1',
    },
  ]);
});

interface CondCase {
  name: string;
  p: Parameters<typeof pod>[0];
  publishNotReady?: boolean;
  expect: { ready: boolean; serving: boolean; terminating: boolean } | undefined;
}
const condCases: CondCase[] = [
  { name: 'ready', p: { name: 'a', ip: '127.244.0.1' }, expect: { ready: true, serving: true, terminating: false } },
  { name: 'unready', p: { name: 'a', ip: '127.244.0.1', ready: false }, expect: { ready: false, serving: false, terminating: false } },
  { name: 'terminating and ready', p: { name: 'a', ip: '127.244.0.1', terminating: true }, expect: { ready: false, serving: true, terminating: true } },
  { name: 'terminating and unready', p: { name: 'a', ip: '127.244.0.1', terminating: true, ready: false }, expect: { ready: false, serving: false, terminating: true } },
  { name: 'publishNotReady, unready', p: { name: 'a', ip: '127.244.0.1', ready: false }, publishNotReady: true, expect: { ready: true, serving: false, terminating: false } },
  { name: 'failed pod', p: { name: 'a', ip: '127.244.0.1', phase: 'Failed' }, expect: undefined },
  { name: 'no IP', p: { name: 'a' }, expect: undefined },
];
for (const c of condCases) {
  test(`slices: endpoint conditions, ${c.name}`, (t) => {
    const plan = desiredEndpointSlices(service({ publishNotReadyAddresses: c.publishNotReady }), [pod(c.p)], []);
    t.is(plan.create.length, 1);
    const eps = plan.create[0].endpoints;
    if (!c.expect) t.deepEqual(eps, []);
    else t.deepEqual(eps[0].conditions, c.expect);
  });
}

test('slices: no pods → one empty placeholder slice, kept on resync', (t) => {
  const svc = service();
  const plan = desiredEndpointSlices(svc, [], []);
  t.is(plan.create.length, 1);
  t.deepEqual(plan.create[0].endpoints, []);
  t.deepEqual(plan.create[0].ports, []);
  const { slices, rounds } = converge(svc, []);
  t.is(slices.length, 1);
  t.is(rounds, 1);
  t.true(planIsEmpty(desiredEndpointSlices(svc, [], slices)));
  // The first pod reuses the placeholder's name (update, not delete + create).
  const next = desiredEndpointSlices(svc, pods(1), slices);
  t.is(next.create.length, 0);
  t.is(next.delete.length, 0);
  t.is(next.update.length, 1);
  t.is(next.update[0].metadata.name, slices[0].metadata.name);
  t.deepEqual(next.update[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
});

test('slices: 250 pods → slices of at most 100, every pod once', (t) => {
  const svc = service();
  const { slices } = converge(svc, pods(250));
  t.is(slices.length, 3);
  t.true(slices.every((s) => s.endpoints.length <= 100));
  const ips = allEndpoints(slices).map((e) => e.addresses[0]);
  t.is(new Set(ips).size, 250);
});

test('slices: custom max per slice', (t) => {
  const { slices } = converge(service(), pods(25), [], 10);
  t.deepEqual(slices.map((s) => s.endpoints.length).sort(), [10, 10, 5]);
});

test('slices: minimal churn — one pod change rewrites only its slice', (t) => {
  const svc = service();
  const ps = pods(250);
  const { slices } = converge(svc, ps);
  ps[7] = pod({ name: 'web-7', ip: ps[7].status!.podIP, ready: false });
  const before = JSON.stringify(slices);
  const plan = desiredEndpointSlices(svc, ps, slices);
  t.is(JSON.stringify(slices), before, 'stored slices not mutated');
  t.is(plan.create.length, 0);
  t.is(plan.delete.length, 0);
  t.is(plan.update.length, 1);
  const changed = plan.update[0].endpoints.find((e) => e.targetRef?.name === 'web-7')!;
  t.false(changed.conditions!.ready);
  t.is(plan.update[0].metadata.resourceVersion, slices.find((s) => s.metadata.name === plan.update[0].metadata.name)!.metadata.resourceVersion);
});

test('slices: removed pods leave their slice; an emptied slice is deleted', (t) => {
  const svc = service();
  const { slices } = converge(svc, pods(150));
  const small = slices.find((s) => s.endpoints.length === 50)!;
  const gone = new Set(small.endpoints.map((e) => e.targetRef!.name));
  const plan = desiredEndpointSlices(svc, pods(150).filter((p) => !gone.has(p.metadata.name!)), slices);
  t.deepEqual(plan.delete.map((s) => s.metadata.name), [small.metadata.name]);
  t.is(plan.create.length + plan.update.length, 0);
});

test('slices: new pods fill an existing slice with room', (t) => {
  const svc = service();
  const { slices } = converge(svc, pods(30));
  const plan = desiredEndpointSlices(svc, pods(40), slices);
  t.is(plan.create.length, 0);
  t.is(plan.update.length, 1);
  t.is(plan.update[0].endpoints.length, 40);
});

test('slices: a named port gives pods with different container ports separate slices', (t) => {
  const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
  const ps = [
    pod({ name: 'a', ip: '127.244.0.1', ports: [{ name: 'http', containerPort: 8080 }] }),
    pod({ name: 'b', ip: '127.244.0.2', ports: [{ name: 'http', containerPort: 9090 }] }),
    pod({ name: 'c', ip: '127.244.0.3' }),
  ];
  const { slices } = converge(svc, ps);
  const byPort = Object.fromEntries(slices.map((s) => [JSON.stringify(s.ports), s.endpoints.map((e) => e.targetRef!.name)]));
  t.deepEqual(byPort, {
    '[{"name":"http","port":8080,"protocol":"TCP"}]': ['a'],
    '[{"name":"http","port":9090,"protocol":"TCP"}]': ['b'],
    '[]': ['c'],
  });
});

test('slices: multiple ports in one slice, sorted', (t) => {
  const svc = service({
    ports: [
      { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
      { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
    ],
  });
  const plan = desiredEndpointSlices(svc, pods(1), []);
  t.deepEqual(plan.create[0].ports, [
    { name: 'dns', port: 5353, protocol: 'UDP' },
    { name: 'https', port: 8443, protocol: 'TCP' },
  ]);
});

test('slices: dual-stack service gets one slice per address type', (t) => {
  const svc = service({ ipFamilies: ['IPv4', 'IPv6'], clusterIPs: ['127.96.0.20', 'fd00::20'], ipFamilyPolicy: 'RequireDualStack' });
  const { slices } = converge(svc, [pod({ name: 'a', ip: ['127.244.0.1', 'fd00:244::1'] })]);
  const byType = Object.fromEntries(slices.map((s) => [s.addressType, s.endpoints.map((e) => e.addresses)]));
  t.deepEqual(byType, { IPv4: [['127.244.0.1']], IPv6: [['fd00:244::1']] });
});

test('slices: IPv6 single-stack; v4 slices of the service are deleted', (t) => {
  const v4 = service();
  const { slices } = converge(v4, pods(2));
  const v6 = service({ ipFamilies: ['IPv6'], clusterIP: 'fd00::20', clusterIPs: ['fd00::20'] });
  const plan = desiredEndpointSlices(v6, [pod({ name: 'web-0', ip: ['127.244.0.1', 'fd00:244::1'] })], slices);
  t.is(plan.delete.length, 1);
  t.is(plan.delete[0].addressType, 'IPv4');
  t.is(plan.create.length, 1);
  t.is(plan.create[0].addressType, 'IPv6');
  t.deepEqual(plan.create[0].endpoints.map((e) => e.addresses), [['fd00:244::1']]);
});

test('slices: address types for a service', (t) => {
  t.deepEqual(addressTypesForService(service()), ['IPv4']);
  t.deepEqual(addressTypesForService(service({ ipFamilies: undefined, clusterIP: 'fd00::1' })), ['IPv6']);
  t.deepEqual(addressTypesForService(service({ ipFamilies: undefined, clusterIP: 'None' })), ['IPv4', 'IPv6']);
});

test('slices: headless label; service label change rewrites slices', (t) => {
  const headless = service({ clusterIP: 'None', clusterIPs: ['None'] }, { labels: { a: '1' } });
  const { slices } = converge(headless, pods(1));
  t.is(slices[0].metadata.labels!['service.kubernetes.io/headless'], '');
  const relabelled = service({ clusterIP: 'None', clusterIPs: ['None'] }, { labels: { a: '2' } });
  const plan = desiredEndpointSlices(relabelled, pods(1), slices);
  t.is(plan.update.length, 1);
  t.is(plan.update[0].metadata.labels!.a, '2');
});

test('slices: hostname, zone and terminating pods', (t) => {
  const svc = service({ clusterIP: 'None', clusterIPs: ['None'] });
  const plan = desiredEndpointSlices(svc, [pod({ name: 'a', ip: '127.244.0.1', hostname: 'a', subdomain: 'web', nodeName: 'n1', terminating: true })], [], {
    zoneOf: (n) => (n === 'n1' ? 'zone-a' : undefined),
  });
  const ep = plan.create[0].endpoints[0];
  t.is(ep.hostname, 'a');
  t.is(ep.zone, 'zone-a');
  t.true(ep.conditions!.terminating);
});

test('slices: services without selector or ExternalName are left alone', (t) => {
  const { slices } = converge(service(), pods(2));
  t.true(planIsEmpty(desiredEndpointSlices(service({ selector: undefined }), pods(2), slices)));
  t.true(planIsEmpty(desiredEndpointSlices(service({ type: 'ExternalName', externalName: 'x.example' }), pods(2), slices)));
});

test('slices: slices of another controller or service are ignored; stale owner is replaced', (t) => {
  const { slices } = converge(service(), pods(2));
  const foreign = structuredClone(slices[0]);
  foreign.metadata.name = 'foreign';
  foreign.metadata.labels!['endpointslice.kubernetes.io/managed-by'] = 'someone-else';
  const other = structuredClone(slices[0]);
  other.metadata.name = 'other';
  other.metadata.labels!['kubernetes.io/service-name'] = 'other';
  t.true(planIsEmpty(desiredEndpointSlices(service(), pods(2), [...slices, foreign, other])));
  // Same name, new uid: the old Service's slice is replaced, reusing its name.
  const plan = desiredEndpointSlices(service({}, { uid: 'new-uid' }), pods(2), slices);
  t.is(plan.update.length + plan.create.length, 1);
  const written = [...plan.update, ...plan.create][0];
  t.is(written.metadata.ownerReferences![0].uid, 'new-uid');
});

test('slices: deterministic — equal inputs give equal plans regardless of pod order', (t) => {
  const ps = pods(230);
  const a = desiredEndpointSlices(service(), ps, []);
  const b = desiredEndpointSlices(service(), [...ps].reverse(), []);
  t.is(JSON.stringify(a), JSON.stringify(b));
});

test('slices: converged state stays converged; pod churn converges in one round', (t) => {
  const svc = service();
  let { slices } = converge(svc, pods(120));
  const next = pods(180).slice(30);
  const r = converge(svc, next, slices);
  t.is(r.rounds, 1);
  slices = r.slices;
  t.deepEqual(allEndpoints(slices).map((e) => e.targetRef!.name).sort(), next.map((p) => p.metadata.name!).sort());
  t.true(slices.every((s) => s.endpoints.length <= 100 && s.endpoints.length > 0));
});

test('slices: stored slices with endpoints null (as Go serializes an empty list) are handled and not modified', (t) => {
  const svc = service({}, { labels: { a: '1' } });
  const { slices } = converge(svc, []);
  const stored = slices.map((s) => ({ ...s, endpoints: null as unknown as [] }));
  const frozen = JSON.stringify(stored);
  // Label change on an empty slice, then new pods filling it.
  const relabelled = service({}, { labels: { a: '2' } });
  const plan = desiredEndpointSlices(relabelled, pods(3), stored);
  t.is(plan.update.length, 1);
  t.is(plan.update[0].endpoints.length, 3);
  t.is(JSON.stringify(stored), frozen, 'input not mutated');
});

/** Freezes an object graph, so any write to it throws (ES modules are strict). */
function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

test('slices: plans copy what they change; stored slices (informer cache entries) are never written to', (t) => {
  const svc = service({}, { labels: { a: '1' } });
  const { slices } = converge(svc, pods(150));
  const stored = deepFreeze(slices);
  // A pod turning unready, a removed pod, new pods filling a slice with room, a label change.
  const changed = pods(150);
  changed[3].status!.conditions = [{ type: 'Ready', status: 'False' }];
  const cases: [Service, Pod[]][] = [
    [svc, changed],
    [svc, pods(149)],
    [svc, pods(160)],
    [service({}, { labels: { a: '2' } }), pods(150)],
  ];
  for (const [s, ps] of cases) {
    const plan = desiredEndpointSlices(s, ps, stored, { triggerTime: new Date() });
    t.false(planIsEmpty(plan));
    // The plan applies and converges from there: its copies are complete slices.
    t.is(converge(s, ps, applyPlan(stored, plan)).rounds, 0);
  }
});
