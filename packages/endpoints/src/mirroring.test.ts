import test from 'ava';
import type { EndpointSlice, Endpoints } from '@knet/api';
import { mirrorEndpointSlices, shouldMirror } from './mirroring.js';
import { planIsEmpty } from './slice-util.js';
import { applyPlan } from './testing/apply.js';
import { service } from './testing/fixtures.js';

const selectorless = () => service({ selector: undefined, ports: [{ name: 'db', port: 5432, targetPort: 5432, protocol: 'TCP' }] }, { name: 'ext' });

function userEndpoints(patch: Partial<Endpoints> = {}): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'ext', namespace: 'default', uid: 'ep-uid', labels: { team: 'db' }, annotations: { note: 'hand-made', 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:00Z' } },
    subsets: [
      {
        addresses: [{ ip: '127.50.0.2' }, { ip: '127.50.0.1', nodeName: 'n1' }],
        notReadyAddresses: [{ ip: '127.50.0.3' }],
        ports: [{ name: 'db', port: 5432, protocol: 'TCP' }],
      },
    ],
    ...patch,
  };
}

function converge(ep: Endpoints | undefined, start: EndpointSlice[] = []): EndpointSlice[] {
  let slices = start;
  for (let i = 0; i < 4; i++) {
    const plan = mirrorEndpointSlices(selectorless(), ep, slices);
    if (planIsEmpty(plan)) return slices;
    slices = applyPlan(slices, plan);
  }
  throw new Error('did not converge');
}

test('mirroring: user Endpoints become one slice owned by the Endpoints', (t) => {
  const plan = mirrorEndpointSlices(selectorless(), userEndpoints(), []);
  t.is(plan.create.length, 1);
  const s = plan.create[0];
  t.is(s.metadata.generateName, 'ext-');
  t.deepEqual(s.metadata.labels, {
    team: 'db',
    'kubernetes.io/service-name': 'ext',
    'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
  });
  t.deepEqual(s.metadata.annotations, { note: 'hand-made' });
  t.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Endpoints', name: 'ext', uid: 'ep-uid', controller: true, blockOwnerDeletion: true }]);
  t.is(s.addressType, 'IPv4');
  t.deepEqual(s.ports, [{ name: 'db', port: 5432, protocol: 'TCP' }]);
  t.deepEqual(
    s.endpoints.map((e) => [e.addresses[0], e.conditions!.ready, e.nodeName]),
    [
      ['127.50.0.1', true, 'n1'],
      ['127.50.0.2', true, undefined],
      ['127.50.0.3', false, undefined],
    ],
  );
});

test('mirroring: converged slices stay; a change updates the same slice', (t) => {
  const slices = converge(userEndpoints());
  t.is(slices.length, 1);
  const changed = userEndpoints({ subsets: [{ addresses: [{ ip: '127.50.0.9' }], ports: [{ name: 'db', port: 5432, protocol: 'TCP' }] }] });
  const plan = mirrorEndpointSlices(selectorless(), changed, slices);
  t.is(plan.create.length + plan.delete.length, 0);
  t.is(plan.update.length, 1);
  t.is(plan.update[0].metadata.name, slices[0].metadata.name);
  t.deepEqual(plan.update[0].endpoints.map((e) => e.addresses[0]), ['127.50.0.9']);
});

test('mirroring: IPv4 and IPv6 addresses split by address type; invalid IPs skipped', (t) => {
  const ep = userEndpoints({ subsets: [{ addresses: [{ ip: '127.50.0.1' }, { ip: 'fd00:50::1' }, { ip: 'not-an-ip' }], ports: [{ port: 80 }] }] });
  const slices = converge(ep);
  const byType = Object.fromEntries(slices.map((s) => [s.addressType, s.endpoints.map((e) => e.addresses[0])]));
  t.deepEqual(byType, { IPv4: ['127.50.0.1'], IPv6: ['fd00:50::1'] });
});

test('mirroring: different port sets give separate slices', (t) => {
  const ep = userEndpoints({
    subsets: [
      { addresses: [{ ip: '127.50.0.1' }], ports: [{ name: 'a', port: 1 }] },
      { addresses: [{ ip: '127.50.0.2' }], ports: [{ name: 'b', port: 2 }] },
    ],
  });
  t.is(converge(ep).length, 2);
});

interface DeleteCase {
  name: string;
  svc?: ReturnType<typeof service>;
  ep: Endpoints | undefined;
}
const deleteCases: DeleteCase[] = [
  { name: 'Endpoints deleted', ep: undefined },
  { name: 'skip-mirror label', ep: userEndpoints({ metadata: { name: 'ext', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } }) },
  { name: 'leader-election Endpoints', ep: userEndpoints({ metadata: { name: 'ext', namespace: 'default', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } }) },
  { name: 'service gained a selector', svc: service({ selector: { app: 'x' } }, { name: 'ext' }), ep: userEndpoints() },
  { name: 'no addresses left', ep: userEndpoints({ subsets: [] }) },
];
for (const c of deleteCases) {
  test(`mirroring: mirrored slices deleted when ${c.name}`, (t) => {
    const slices = converge(userEndpoints());
    const plan = mirrorEndpointSlices(c.svc ?? selectorless(), c.ep, slices);
    t.deepEqual(plan.delete.map((s) => s.metadata.name), slices.map((s) => s.metadata.name));
    t.is(plan.create.length + plan.update.length, 0);
  });
}

test('mirroring: ExternalName services are left alone; other controllers’ slices ignored', (t) => {
  const slices = converge(userEndpoints());
  t.true(planIsEmpty(mirrorEndpointSlices(service({ type: 'ExternalName', selector: undefined }, { name: 'ext' }), undefined, slices)));
  const foreign = structuredClone(slices[0]);
  foreign.metadata.labels!['endpointslice.kubernetes.io/managed-by'] = 'endpointslice-controller.k8s.io';
  t.true(planIsEmpty(mirrorEndpointSlices(selectorless(), undefined, [foreign])));
});

test('mirroring: at most maxEndpointsPerSubset addresses per subset', (t) => {
  const addresses = Array.from({ length: 30 }, (_, i) => ({ ip: `127.50.0.${i + 1}` }));
  const plan = mirrorEndpointSlices(selectorless(), userEndpoints({ subsets: [{ addresses, ports: [{ port: 80 }] }] }), [], { maxEndpointsPerSubset: 10 });
  t.is(plan.create[0].endpoints.length, 10);
});

test('shouldMirror', (t) => {
  t.false(shouldMirror(undefined));
  t.true(shouldMirror(userEndpoints()));
  t.false(shouldMirror(userEndpoints({ metadata: { name: 'x', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } })));
});
