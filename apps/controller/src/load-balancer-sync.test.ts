// LoadBalancerSync connects to ipam on first need only; a stand-in allocator and API client record the calls.
import test from 'ava';
import type { Service } from '@knet/api';
import type { KubeClient, Logger } from '@knet/client';
import { LoadBalancerSync, type LoadBalancerAllocator } from './load-balancer-sync.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

function service(name: string, type: 'ClusterIP' | 'LoadBalancer'): Service {
  return { metadata: { namespace: 'default', name }, spec: { type, ports: [{ port: 80 }] }, status: {} } as Service;
}

function harness(opts: { failConnects?: number } = {}) {
  const calls: string[] = [];
  let failures = opts.failConnects ?? 0;
  let next = 1;
  const allocator: LoadBalancerAllocator = {
    async list() {
      calls.push('list');
      return [{ value: '127.200.0.99', owner: 'default/left-over' }];
    },
    async allocateLoadBalancerIP({ owner }) {
      calls.push(`allocate ${owner}`);
      return `127.200.0.${next++}`;
    },
    async releaseLoadBalancerIP(ip) {
      calls.push(`release ${ip}`);
    },
  };
  const client = { update: async (_r: unknown, _ns: unknown, obj: unknown) => obj } as unknown as KubeClient;
  const sync = new LoadBalancerSync({
    client,
    log: quiet,
    ipam: async () => {
      calls.push('connect');
      if (failures-- > 0) throw new Error('ipam is away');
      return allocator;
    },
  });
  return { sync, calls };
}

test('Services that are not LoadBalancers never connect to ipam', async (t) => {
  const { sync, calls } = harness();
  await sync.sync('default/web', service('web', 'ClusterIP'));
  await sync.releaseAll('default/web');
  t.deepEqual(calls, []);
});

test('the first LoadBalancer connects once and learns what ipam holds before it allocates', async (t) => {
  const { sync, calls } = harness();
  await sync.sync('default/a', service('a', 'LoadBalancer'));
  await sync.sync('default/b', service('b', 'LoadBalancer'));
  t.deepEqual(calls, ['connect', 'list', 'allocate default/a', 'allocate default/b']);
  // What was learnt is released when its Service turns out not to be a LoadBalancer any more.
  await sync.sync('default/left-over', service('left-over', 'ClusterIP'));
  t.is(calls.at(-1), 'release 127.200.0.99');
});

test('a failed connect is tried again on the next sync', async (t) => {
  const { sync, calls } = harness({ failConnects: 1 });
  await t.throwsAsync(sync.sync('default/a', service('a', 'LoadBalancer')), { message: 'ipam is away' });
  await sync.sync('default/a', service('a', 'LoadBalancer'));
  t.deepEqual(calls, ['connect', 'connect', 'list', 'allocate default/a']);
});
