import test from 'ava';
import type { EndpointSlice, Service } from '@knet/api';
import type { ServiceEntry } from '@knet/dataplane';
import { ChangeTracker, type TrackedTable } from './change-tracker.js';
import { desiredTable, serviceKey, type NodeView } from './desired-table.js';

function svc(name: string, ip: string, opts: { nodePort?: boolean; externalIP?: string } = {}): Service {
  return {
    metadata: { namespace: 'ns', name },
    spec: {
      type: opts.nodePort ? 'NodePort' : 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      ports: [{ port: 80, ...(opts.nodePort ? { nodePort: 30080 } : {}) }],
      ...(opts.externalIP ? { externalIPs: [opts.externalIP] } : {}),
    },
  };
}
function slice(service: string, ip: string): EndpointSlice {
  return { metadata: { namespace: 'ns', name: `${service}-x`, labels: { 'kubernetes.io/service-name': service } }, addressType: 'IPv4', endpoints: [{ addresses: [ip] }], ports: [{ port: 8080, protocol: 'TCP' }] };
}

/** The tracker's shards folded into one table, as the data plane ends up holding it. */
class Held {
  shards = new Map<number, ServiceEntry[]>();
  fold(t: TrackedTable): void {
    for (const [i, list] of t.shards) this.shards.set(i, list);
  }
  sorted(): ServiceEntry[] {
    return [...this.shards.values()].flat().sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}

test('ChangeTracker: same table as desiredTable, recomputing only marked Services and returning only their shards', (t) => {
  const services = new Map<string, Service>();
  const slices = new Map<string, EndpointSlice[]>();
  for (let i = 0; i < 40; i++) {
    services.set(`ns/s${i}`, svc(`s${i}`, `127.96.0.${i + 1}`, { nodePort: i === 3 }));
    slices.set(`ns/s${i}`, [slice(`s${i}`, `127.244.0.${i + 1}`)]);
  }
  let reads = 0;
  const tracker = new ChangeTracker(8);
  const held = new Held();
  const node: NodeView = { name: 'n1', nodePortAddresses: ['127.0.0.1'] };
  const run = (n = node) => {
    const r = tracker.table(
      n,
      (k) => {
        reads++;
        return services.get(k);
      },
      (k) => slices.get(k) ?? [],
      () => services.keys(),
    );
    held.fold(r);
    return r;
  };
  const check = (r: TrackedTable, n = node) => {
    const want = desiredTable([...services.values()], slices, n);
    t.deepEqual(held.sorted(), want.entries);
    t.deepEqual(r.skipped, want.skipped);
    t.is(r.size, want.entries.length);
  };

  let r = run();
  check(r);
  t.is(reads, 40, 'first sync computes every Service');
  t.is(r.shards.size, 8, 'and hands over every shard');

  reads = 0;
  slices.set('ns/s5', [slice('s5', '127.244.9.9')]);
  tracker.mark('ns/s5');
  r = run();
  check(r);
  t.is(reads, 1, 'one endpoint change recomputes one Service');
  t.is(r.shards.size, 1, 'and hands over one shard');

  reads = 0;
  services.delete('ns/s7');
  tracker.mark('ns/s7');
  services.set('ns/new', svc('new', '127.96.1.1'));
  tracker.mark(serviceKey('ns', 'new'));
  r = run();
  check(r);
  t.is(reads, 2);

  reads = 0;
  r = run();
  check(r);
  t.is(reads, 0, 'nothing marked: nothing recomputed');
  t.is(r.shards.size, 0);

  const moved: NodeView = { name: 'n1', nodePortAddresses: ['127.0.0.2'] };
  r = run(moved);
  check(r, moved);
  t.is(reads, 40, 'a node address change recomputes all');
});

test('ChangeTracker: an address claimed by two Services; the loser is served once the winner lets go', (t) => {
  const services = new Map<string, Service>([
    ['ns/b', svc('b', '127.96.0.2', { externalIP: '127.201.0.1' })],
    ['ns/a', svc('a', '127.96.0.1', { externalIP: '127.201.0.1' })],
  ]);
  const slices = new Map<string, EndpointSlice[]>();
  const tracker = new ChangeTracker(4);
  const held = new Held();
  const node: NodeView = { name: 'n1', nodePortAddresses: [] };
  const run = () => {
    const r = tracker.table(node, (k) => services.get(k), (k) => slices.get(k) ?? [], () => services.keys());
    held.fold(r);
    return r;
  };
  let r = run();
  t.deepEqual(held.sorted(), desiredTable([...services.values()], slices, node).entries);
  t.true(r.skipped.some((s) => s.service === 'ns/b' && /already served for ns\/a/.test(s.reason)));
  t.false(held.sorted().some((e) => e.key.startsWith('ns/b') && e.address === '127.201.0.1'));

  services.set('ns/a', svc('a', '127.96.0.1'));
  tracker.mark('ns/a');
  r = run();
  t.deepEqual(held.sorted(), desiredTable([...services.values()], slices, node).entries);
  t.true(held.sorted().some((e) => e.key.startsWith('ns/b') && e.address === '127.201.0.1'), 'b took the address over');
  t.deepEqual(r.skipped, []);
});

test('ChangeTracker: a malformed Service is skipped with a reason, the others are served', (t) => {
  const bad = { metadata: { namespace: 'ns', name: 'bad' }, spec: { type: 'ClusterIP', clusterIPs: 42, ports: [{ port: 80 }] } } as unknown as Service;
  const services = new Map<string, Service>([['ns/bad', bad], ['ns/ok', svc('ok', '127.96.0.1')]]);
  const tracker = new ChangeTracker(2);
  const r = tracker.table({ name: 'n1', nodePortAddresses: [] }, (k) => services.get(k), () => [], () => services.keys());
  t.deepEqual([...r.shards.values()].flat().map((e) => e.key), ['ns/ok:80/TCP@127.96.0.1:80']);
  t.true(r.skipped.some((s) => s.service === 'ns/bad' && /not served/.test(s.reason)));
});
