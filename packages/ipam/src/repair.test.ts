import test from 'ava';
import { planRepair } from './repair.js';
import type { Allocation, ServiceInUse } from './types.js';

const at = '2026-01-01T00:00:00Z';
const ip = (value: string, owner: string): Allocation => ({ kind: 'ClusterIP', value, owner, family: 'IPv4', allocatedAt: at });
const np = (port: number, owner: string): Allocation => ({ kind: 'NodePort', value: String(port), owner, allocatedAt: at });
const svc = (owner: string, clusterIPs: string[], nodePorts: number[] = [], loadBalancerIPs: string[] = []): ServiceInUse => ({
  owner,
  clusterIPs,
  nodePorts,
  loadBalancerIPs,
});

interface Case {
  name: string;
  allocations: Allocation[];
  inUse: ServiceInUse[];
  leakCounts?: [string, number][];
  want: {
    release?: string[];
    pendingLeaks?: string[];
    record?: string[];
    reassign?: string[];
    duplicates?: string[];
    invalid?: string[];
    leakCounts?: [string, number][];
  };
}

const cases: Case[] = [
  {
    name: 'everything consistent: nothing to do',
    allocations: [ip('127.96.0.1', 'default/kubernetes'), np(30080, 'a/web')],
    inUse: [svc('default/kubernetes', ['127.96.0.1']), svc('a/web', ['127.96.0.20'], [30080])],
    want: { record: ['ClusterIP/127.96.0.20 a/web'] },
  },
  {
    name: 'a leak seen once is only counted (its Service write may be in flight)',
    allocations: [ip('127.96.0.7', 'a/new')],
    inUse: [],
    want: { pendingLeaks: ['ClusterIP/127.96.0.7'], leakCounts: [['ClusterIP/127.96.0.7', 1]] },
  },
  {
    name: 'a leak seen in the second consecutive pass is released',
    allocations: [ip('127.96.0.7', 'a/gone'), np(30001, 'a/gone')],
    inUse: [],
    leakCounts: [
      ['ClusterIP/127.96.0.7', 1],
      ['NodePort/30001', 1],
    ],
    want: { release: ['ClusterIP/127.96.0.7', 'NodePort/30001'] },
  },
  {
    name: 'a leak that got its Service between passes is forgotten',
    allocations: [ip('127.96.0.7', 'a/new')],
    inUse: [svc('a/new', ['127.96.0.7'])],
    leakCounts: [['ClusterIP/127.96.0.7', 1]],
    want: {},
  },
  {
    name: 'used but unrecorded values are recorded for the Service holding them (all three kinds)',
    allocations: [],
    inUse: [svc('a/lb', ['127.96.0.30'], [30100, 30100], ['127.200.0.4'])],
    want: { record: ['ClusterIP/127.96.0.30 a/lb', 'NodePort/30100 a/lb', 'LoadBalancerIP/127.200.0.4 a/lb'] },
  },
  {
    name: 'a value held by two Services is reported; the recorded owner keeps it',
    allocations: [ip('127.96.0.9', 'a/one')],
    inUse: [svc('a/one', ['127.96.0.9']), svc('a/two', ['127.96.0.9'])],
    want: { duplicates: ['ClusterIP/127.96.0.9 a/one,a/two'] },
  },
  {
    name: 'an allocation recorded for a vanished owner goes to the Service that holds it',
    allocations: [ip('127.96.0.9', 'a/old')],
    inUse: [svc('a/new', ['127.96.0.9'])],
    want: { reassign: ['ClusterIP/127.96.0.9 a/old→a/new'] },
  },
  {
    name: 'headless, empty and invalid values; IPv6 is compared canonically',
    allocations: [{ kind: 'ClusterIP', value: 'fd00::a', owner: 'a/v6', family: 'IPv6', allocatedAt: at }],
    inUse: [svc('a/headless', ['None']), svc('a/v6', ['FD00:0:0::A']), svc('a/bad', ['10.0.0'], [70000])],
    want: { invalid: ['ClusterIP/10.0.0 a/bad', 'NodePort/70000 a/bad'] },
  },
];

for (const c of cases) {
  test(`repair: ${c.name}`, (t) => {
    const plan = planRepair(c.allocations, c.inUse, new Map(c.leakCounts ?? []));
    const key = (a: { kind: string; value: string }): string => `${a.kind}/${a.value}`;
    t.deepEqual(plan.release.map(key), c.want.release ?? []);
    t.deepEqual(plan.pendingLeaks.map(key), c.want.pendingLeaks ?? []);
    t.deepEqual(plan.record.map((h) => `${key(h)} ${h.owner}`), c.want.record ?? []);
    t.deepEqual(plan.reassign.map((r) => `${key(r.allocation)} ${r.allocation.owner}→${r.owner}`), c.want.reassign ?? []);
    t.deepEqual(plan.duplicates.map((d) => `${key(d)} ${d.owners.join(',')}`), c.want.duplicates ?? []);
    t.deepEqual(plan.invalid.map((h) => `${key(h)} ${h.owner}`), c.want.invalid ?? []);
    t.deepEqual([...plan.leakCounts], c.want.leakCounts ?? []);
  });
}

test('repair: leakThreshold 3 needs three consecutive passes', (t) => {
  const allocs = [ip('127.96.0.7', 'a/gone')];
  let counts = new Map<string, number>();
  for (let pass = 1; pass <= 3; pass++) {
    const plan = planRepair(allocs, [], counts, { leakThreshold: 3 });
    t.is(plan.release.length, pass === 3 ? 1 : 0, `pass ${pass}`);
    counts = plan.leakCounts;
  }
});
