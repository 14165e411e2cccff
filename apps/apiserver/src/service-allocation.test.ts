// Pure rules of Service allocation on update, table-driven; allocation itself is tested with a real ipam.
import test from 'ava';
import type { Service } from '@knet/api';
import { dropTypeDependentFields, heldBy, needsNodePorts, patchAllocatedValues } from './service-allocation.js';

const svc = (spec: Service['spec']): Service => ({ metadata: { name: 's', namespace: 'n' }, spec });

/** The stored Service as the store hands it out: deeply frozen (the update rules only read it). */
function frozen<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    Object.freeze(v);
    for (const c of Object.values(v)) frozen(c);
  }
  return v;
}

test('heldBy', (t) => {
  const cases: [Service, { ips: string[]; ports: number[] }][] = [
    [svc({ type: 'ClusterIP', clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5'] }), { ips: ['127.96.0.5'], ports: [] }],
    [svc({ type: 'NodePort', clusterIPs: ['127.96.0.5', 'fd00::5'], ports: [{ port: 80, nodePort: 30001 }, { port: 80, protocol: 'UDP', nodePort: 30001 }] }),
      { ips: ['127.96.0.5', 'fd00::5'], ports: [30001] }],
    [svc({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] }), { ips: [], ports: [] }],
    [svc({ type: 'ExternalName', externalName: 'x.example' }), { ips: [], ports: [] }],
    [svc({ type: 'LoadBalancer', clusterIP: '127.96.0.7', healthCheckNodePort: 31000, ports: [{ port: 1, nodePort: 30002 }] }),
      { ips: ['127.96.0.7'], ports: [30002, 31000] }],
  ];
  for (const [s, want] of cases) t.deepEqual(heldBy(s), want, JSON.stringify(s.spec));
});

test('needsNodePorts', (t) => {
  t.true(needsNodePorts(svc({ type: 'NodePort' })));
  t.true(needsNodePorts(svc({ type: 'LoadBalancer' })));
  t.false(needsNodePorts(svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false })));
  t.false(needsNodePorts(svc({ type: 'ClusterIP' })));
});

test('patchAllocatedValues keeps what an update leaves out', (t) => {
  const old = frozen(svc({ type: 'NodePort', clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
    ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }, { port: 53, protocol: 'UDP', nodePort: 30053 }] }));
  const next = svc({ type: 'NodePort', ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'TCP' }] });
  patchAllocatedValues(next, old);
  t.is(next.spec.clusterIP, '127.96.0.5');
  t.deepEqual(next.spec.clusterIPs, ['127.96.0.5']);
  t.false(Object.isFrozen(next.spec.clusterIPs), 'a copy, not the stored list');
  t.deepEqual(next.spec.ipFamilies, ['IPv4']);
  t.deepEqual(next.spec.ports, [{ port: 80, protocol: 'TCP', nodePort: 30080 }, { port: 53, protocol: 'TCP' }], 'only the same port+protocol inherits');
  const toExt = svc({ type: 'ExternalName', externalName: 'a.example' });
  patchAllocatedValues(toExt, old);
  t.is(toExt.spec.clusterIP, undefined);
});

test('dropTypeDependentFields clears unchanged fields the new type cannot have', (t) => {
  const old = frozen(svc({ type: 'NodePort', clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
    externalTrafficPolicy: 'Cluster', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] }));
  const toCIP = structuredClone(old);
  toCIP.spec.type = 'ClusterIP';
  dropTypeDependentFields(toCIP, old);
  t.deepEqual(toCIP.spec.ports, [{ port: 80, protocol: 'TCP' }]);
  t.is(toCIP.spec.externalTrafficPolicy, undefined);
  t.is(toCIP.spec.clusterIP, '127.96.0.5', 'the VIP stays');
  const toExt = structuredClone(old);
  toExt.spec.type = 'ExternalName';
  toExt.spec.externalName = 'a.example';
  dropTypeDependentFields(toExt, old);
  t.is(toExt.spec.clusterIP, undefined);
  t.is(toExt.spec.clusterIPs, undefined);
  t.is(toExt.spec.ipFamilies, undefined);
  const changedPort = structuredClone(old);
  changedPort.spec.type = 'ClusterIP';
  changedPort.spec.ports![0]!.nodePort = 30999;
  dropTypeDependentFields(changedPort, old);
  t.is(changedPort.spec.ports![0]!.nodePort, 30999, 'a nodePort the user changed is kept (and validation rejects it)');
});
