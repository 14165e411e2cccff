import test from 'ava';
import type { Endpoints, Namespace, Node, Pod, Service } from './core.js';
import type { EndpointSlice } from './discovery.js';
import type { KubeObject } from './meta.js';
import { humanDuration, tableFor } from './index.js';

const created = '2026-01-01T00:00:00Z';
const now = new Date(Date.parse(created) + 123_000);
const meta = (name: string, namespace = 'default') => ({ name, namespace, creationTimestamp: created, uid: 'u-' + name });
const cells = (plural: string, obj: KubeObject) => tableFor(plural, [obj], { now }).rows[0]!.cells;

const durations: [number, string][] = [
  [0, '0s'], [1500, '1s'], [-1500, '0s'], [-2500, '<invalid>'], [119_000, '119s'], [120_000, '2m'], [182_000, '3m2s'],
  [600_000, '10m'], [179 * 60_000, '179m'], [3 * 3600_000, '3h'], [4.5 * 3600_000, '4h30m'], [8 * 3600_000, '8h'],
  [47 * 3600_000, '47h'], [48 * 3600_000, '2d'], [50 * 3600_000, '2d2h'], [8 * 86400_000, '8d'],
  [730 * 86400_000, '2y'], [733 * 86400_000, '2y3d'], [9 * 365 * 86400_000, '9y'],
];
for (const [ms, want] of durations) {
  test(`humanDuration(${ms}) = ${want}`, (t) => t.is(humanDuration(ms), want));
}

const svc = (spec: Service['spec'], status?: Service['status']): Service => ({ metadata: meta('db'), spec, status });
const serviceCases: [string, Service, unknown[]][] = [
  ['ClusterIP', svc({ type: 'ClusterIP', clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5'], selector: { app: 'db' }, ports: [{ port: 80, protocol: 'TCP' }] }),
    ['db', 'ClusterIP', '127.96.0.5', '<none>', '80/TCP', '2m3s', 'app=db']],
  ['NodePort with two ports', svc({ type: 'NodePort', clusterIPs: ['127.96.0.6'], ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }, { port: 53, protocol: 'UDP', nodePort: 30053 }] }),
    ['db', 'NodePort', '127.96.0.6', '<none>', '80:30080/TCP,53:30053/UDP', '2m3s', '<none>']],
  ['LoadBalancer pending', svc({ type: 'LoadBalancer', clusterIPs: ['127.96.0.7'], ports: [{ port: 443, protocol: 'TCP', nodePort: 31443 }] }),
    ['db', 'LoadBalancer', '127.96.0.7', '<pending>', '443:31443/TCP', '2m3s', '<none>']],
  ['LoadBalancer with ingress and externalIPs', svc({ type: 'LoadBalancer', clusterIPs: ['127.96.0.7'], externalIPs: ['127.201.0.1'], ports: [{ port: 443, protocol: 'TCP' }] },
    { loadBalancer: { ingress: [{ ip: '127.200.0.2' }, { hostname: 'lb.example.com' }] } }),
    ['db', 'LoadBalancer', '127.96.0.7', '127.200.0.2,lb.example.com,127.201.0.1', '443/TCP', '2m3s', '<none>']],
  ['ExternalName', svc({ type: 'ExternalName', externalName: 'example.com' }), ['db', 'ExternalName', '<none>', 'example.com', '<none>', '2m3s', '<none>']],
  ['headless', svc({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] }), ['db', 'ClusterIP', 'None', '<none>', '<none>', '2m3s', '<none>']],
  ['ClusterIP with externalIPs', svc({ type: 'ClusterIP', clusterIPs: ['127.96.0.5'], externalIPs: ['127.201.0.1', '127.201.0.2'], ports: [{ port: 80, protocol: 'TCP' }] }),
    ['db', 'ClusterIP', '127.96.0.5', '127.201.0.1,127.201.0.2', '80/TCP', '2m3s', '<none>']],
];
for (const [name, obj, want] of serviceCases) {
  test(`table services: ${name}`, (t) => t.deepEqual(cells('services', obj), want));
}

test('table services: column definitions as kube-apiserver', (t) => {
  const table = tableFor('services', [], { now });
  t.is(table.kind, 'Table');
  t.is(table.apiVersion, 'meta.k8s.io/v1');
  t.deepEqual(table.columnDefinitions.map((c) => [c.name, c.type, c.format, c.priority]), [
    ['Name', 'string', 'name', 0], ['Type', 'string', '', 0], ['Cluster-IP', 'string', '', 0], ['External-IP', 'string', '', 0],
    ['Port(s)', 'string', '', 0], ['Age', 'string', '', 0], ['Selector', 'string', '', 1],
  ]);
  t.deepEqual(table.rows, []);
});

const ep = (subsets: Endpoints['subsets']): Endpoints => ({ metadata: meta('db'), subsets });
const endpointCases: [string, Endpoints, string][] = [
  ['no subsets', ep(undefined), '<none>'],
  ['only not-ready', ep([{ notReadyAddresses: [{ ip: '127.244.0.1' }], ports: [{ port: 80 }] }]), '<none>'],
  ['two ready', ep([{ addresses: [{ ip: '127.244.0.1' }, { ip: '127.244.0.2' }], ports: [{ port: 80 }] }]), '127.244.0.1:80,127.244.0.2:80'],
  ['more than three', ep([{ addresses: [1, 2, 3, 4, 5].map((i) => ({ ip: `127.244.0.${i}` })), ports: [{ port: 80 }] }]), '127.244.0.1:80,127.244.0.2:80,127.244.0.3:80 + 2 more...'],
  ['two ports count per port', ep([{ addresses: [{ ip: '127.244.0.1' }, { ip: '127.244.0.2' }], ports: [{ port: 80 }, { port: 443 }] }]), '127.244.0.1:80,127.244.0.2:80,127.244.0.1:443 + 1 more...'],
  ['headless without ports', ep([{ addresses: [{ ip: '127.244.0.1' }] }]), '127.244.0.1'],
  ['IPv6', ep([{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }]), '[fd00::1]:80'],
];
for (const [name, obj, want] of endpointCases) {
  test(`table endpoints: ${name}`, (t) => t.deepEqual(cells('endpoints', obj), ['db', want, '2m3s']));
}

test('table endpointslices', (t) => {
  const s: EndpointSlice = {
    metadata: meta('db-abc'), addressType: 'IPv4',
    endpoints: [{ addresses: ['127.244.0.1'] }, { addresses: ['127.244.0.2'] }, { addresses: ['127.244.0.3'] }, { addresses: ['127.244.0.4'] }],
    ports: [{ name: 'http', port: 80 }, { name: 'dns' }],
  };
  t.deepEqual(cells('endpointslices', s), ['db-abc', 'IPv4', '80,dns', '127.244.0.1,127.244.0.2,127.244.0.3 + 1 more...', '2m3s']);
  t.deepEqual(cells('endpointslices', { ...s, endpoints: [], ports: [] } as EndpointSlice), ['db-abc', 'IPv4', '<unset>', '<unset>', '2m3s']);
  t.deepEqual(tableFor('endpointslices', []).columnDefinitions.map((c) => c.name), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
});

const running: Pod = {
  metadata: meta('web-1'),
  spec: { containers: [{ name: 'web' }], nodeName: 'node-1' },
  status: {
    phase: 'Running', podIP: '127.244.0.5', podIPs: [{ ip: '127.244.0.5' }], conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: {} } }],
  },
};
const podCases: [string, Pod, unknown[]][] = [
  ['running', running, ['web-1', '1/1', 'Running', '0', '2m3s', '127.244.0.5', 'node-1', '<none>', '<none>']],
  ['pending unscheduled', { metadata: meta('p'), spec: { containers: [{ name: 'a' }, { name: 'b' }] }, status: { phase: 'Pending' } },
    ['p', '0/2', 'Pending', '0', '2m3s', '<none>', '<none>', '<none>', '<none>']],
  ['crash looping with restarts', {
    metadata: meta('c'), spec: { containers: [{ name: 'c' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, finishedAt: '2026-01-01T00:01:00Z' } } }] },
  }, ['c', '0/1', 'CrashLoopBackOff', '4 (63s ago)', '2m3s', '<none>', '<none>', '<none>', '<none>']],
  ['terminated without reason', {
    metadata: meta('t'), spec: { containers: [{ name: 'c' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } }] },
  }, ['t', '0/1', 'Signal:9', '0', '2m3s', '<none>', '<none>', '<none>', '<none>']],
  ['terminating', { ...running, metadata: { ...meta('web-1'), deletionTimestamp: created } }, ['web-1', '1/1', 'Terminating', '0', '2m3s', '127.244.0.5', 'node-1', '<none>', '<none>']],
  ['readiness gates', { ...running, spec: { ...running.spec, readinessGates: [{ conditionType: 'example.com/lb' }] } },
    ['web-1', '1/1', 'Running', '0', '2m3s', '127.244.0.5', 'node-1', '<none>', '0/1']],
];
for (const [name, obj, want] of podCases) {
  test(`table pods: ${name}`, (t) => t.deepEqual(cells('pods', obj), want));
}

test('table pods: completed rows carry the Completed condition', (t) => {
  const done: Pod = { metadata: meta('job'), spec: { containers: [{ name: 'c' }] }, status: { phase: 'Succeeded' } };
  const row = tableFor('pods', [done], { now }).rows[0]!;
  t.is(row.cells[2], 'Succeeded');
  t.deepEqual(row.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  t.deepEqual(tableFor('pods', []).columnDefinitions.filter((c) => c.priority === 1).map((c) => c.name), ['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
});

test('table nodes and namespaces', (t) => {
  const node: Node = {
    metadata: { ...meta('node-1', ''), labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '127.0.0.2' }],
      nodeInfo: { kubeletVersion: 'v1.32.0-knet' },
    },
  };
  t.deepEqual(cells('nodes', node), ['node-1', 'Ready,SchedulingDisabled', 'control-plane,edge', '2m3s', 'v1.32.0-knet', '127.0.0.2', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  t.deepEqual(cells('nodes', { metadata: meta('n2', '') } as Node).slice(0, 3), ['n2', 'Unknown', '<none>']);
  const ns: Namespace = { metadata: meta('prod', ''), status: { phase: 'Active' } };
  t.deepEqual(cells('namespaces', ns), ['prod', 'Active', '2m3s']);
});

test('default table: Name and Created At', (t) => {
  const table = tableFor('widgets', [{ metadata: { name: 'w', creationTimestamp: '2026-01-01T00:00:00.000Z' } }], { now });
  t.deepEqual(table.columnDefinitions.map((c) => [c.name, c.type]), [['Name', 'string'], ['Created At', 'date']]);
  t.deepEqual(table.rows[0]!.cells, ['w', '2026-01-01T00:00:00Z']);
});

test('rows carry the object as asked', (t) => {
  const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: meta('prod', ''), status: { phase: 'Active' } };
  t.deepEqual(tableFor('namespaces', [ns], { now }).rows[0]!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: ns.metadata });
  t.is(tableFor('namespaces', [ns], { now, includeObject: 'Object' }).rows[0]!.object, ns);
  t.false('object' in tableFor('namespaces', [ns], { now, includeObject: 'None' }).rows[0]!);
});
