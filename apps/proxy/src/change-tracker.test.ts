import test from 'ava';
import type { EndpointSlice, Service } from '@knet/api';
import { ChangeTracker } from './change-tracker.js';
import { desiredTable, serviceKey } from './desired-table.js';

function svc(name: string, ip: string, type: 'ClusterIP' | 'NodePort' = 'ClusterIP'): Service {
  return { metadata: { namespace: 'ns', name }, spec: { type, clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80, ...(type === 'NodePort' ? { nodePort: 30080 } : {}) }] } };
}
function slice(service: string, ip: string): EndpointSlice {
  return { metadata: { namespace: 'ns', name: `${service}-x`, labels: { 'kubernetes.io/service-name': service } }, addressType: 'IPv4', endpoints: [{ addresses: [ip] }], ports: [{ port: 8080, protocol: 'TCP' }] };
}

test('ChangeTracker gives the same table as desiredTable while recomputing only marked Services', (t) => {
  const services = new Map<string, Service>();
  const slices = new Map<string, EndpointSlice[]>();
  for (let i = 0; i < 20; i++) {
    services.set(`ns/s${i}`, svc(`s${i}`, `127.96.0.${i + 1}`, i === 3 ? 'NodePort' : 'ClusterIP'));
    slices.set(`ns/s${i}`, [slice(`s${i}`, `127.244.0.${i + 1}`)]);
  }
  let reads = 0;
  const tracker = new ChangeTracker();
  const node = { name: 'n1', nodePortAddresses: ['127.0.0.1'] };
  const run = (n = node) =>
    tracker.table(
      n,
      (k) => {
        reads++;
        return services.get(k);
      },
      (k) => slices.get(k) ?? [],
      () => services.keys(),
    );
  const expected = (n = node) => desiredTable([...services.values()], slices, n);
  const sorted = (t: ReturnType<typeof run>) => ({ entries: [...t.entries].sort((a, b) => (a.key < b.key ? -1 : 1)), skipped: t.skipped });

  t.deepEqual(sorted(run()), expected());
  t.is(reads, 20, 'first sync computes every Service');

  reads = 0;
  slices.set('ns/s5', [slice('s5', '127.244.9.9')]);
  tracker.mark('ns/s5');
  t.deepEqual(sorted(run()), expected());
  t.is(reads, 1, 'one endpoint change recomputes one Service');

  reads = 0;
  services.delete('ns/s7');
  tracker.mark('ns/s7');
  services.set('ns/new', svc('new', '127.96.1.1'));
  tracker.mark(serviceKey('ns', 'new'));
  t.deepEqual(sorted(run()), expected());
  t.is(reads, 2);

  reads = 0;
  t.deepEqual(sorted(run()), expected(), 'nothing marked: same table');
  t.is(reads, 0);

  const moved = { name: 'n1', nodePortAddresses: ['127.0.0.2'] };
  t.deepEqual(sorted(run(moved)), expected(moved), 'a node address change recomputes all');
  t.is(reads, 20);
});
