import test from 'ava';
import { AffinityTable } from './affinity.js';
import { BackendPool, eligibleBackends, targetKey } from './backend-pool.js';
import type { Backend } from './types.js';

const b = (address: string, over: Partial<Backend> = {}): Backend => ({
  address,
  port: 80,
  ready: true,
  serving: true,
  terminating: false,
  ...over,
});
const addrs = (bs: Backend[]): string[] => bs.map((x) => x.address);

const cases: Array<{ name: string; in: Backend[]; localOnly?: boolean; want: string[] }> = [
  { name: 'empty', in: [], want: [] },
  { name: 'all ready', in: [b('1.1.1.1'), b('1.1.1.2')], want: ['1.1.1.1', '1.1.1.2'] },
  {
    name: 'unready dropped while any is ready',
    in: [b('1.1.1.1', { ready: false }), b('1.1.1.2'), b('1.1.1.3', { ready: false, terminating: true })],
    want: ['1.1.1.2'],
  },
  {
    name: 'no ready: serving and terminating',
    in: [
      b('1.1.1.1', { ready: false, serving: true, terminating: true }),
      b('1.1.1.2', { ready: false, serving: false, terminating: true }),
      b('1.1.1.3', { ready: false, serving: true, terminating: false }),
    ],
    want: ['1.1.1.1'],
  },
  { name: 'nothing usable', in: [b('1.1.1.1', { ready: false, serving: false })], want: [] },
  { name: 'duplicates collapse', in: [b('1.1.1.1'), b('1.1.1.1'), b('1.1.1.1', { port: 81 })], want: ['1.1.1.1', '1.1.1.1'] },
  {
    name: 'localOnly keeps node-local endpoints',
    in: [b('1.1.1.1', { nodeLocal: true }), b('1.1.1.2'), b('1.1.1.3', { nodeLocal: false })],
    localOnly: true,
    want: ['1.1.1.1'],
  },
  {
    name: 'localOnly falls back to local terminating, never to remote ready',
    in: [b('1.1.1.1', { nodeLocal: true, ready: false, terminating: true }), b('1.1.1.2')],
    localOnly: true,
    want: ['1.1.1.1'],
  },
  { name: 'localOnly with no local endpoint', in: [b('1.1.1.2')], localOnly: true, want: [] },
];
for (const c of cases) {
  test(`eligibleBackends: ${c.name}`, (t) => {
    t.deepEqual(addrs(eligibleBackends(c.in, c.localOnly)), c.want);
  });
}

test('targetKey brackets IPv6', (t) => {
  t.is(targetKey('127.0.0.1', 80), '127.0.0.1:80');
  t.is(targetKey('fd00::1', 53), '[fd00::1]:53');
});

test('BackendPool: round robin, empty pool, cursor carried over a swap', (t) => {
  const p = new BackendPool([b('1.1.1.1'), b('1.1.1.2'), b('1.1.1.3')]);
  t.deepEqual(
    [1, 2, 3, 4].map(() => p.next()!.address),
    ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.1'],
  );
  const q = new BackendPool([b('1.1.1.1'), b('1.1.1.2'), b('1.1.1.3'), b('1.1.1.4')], false, p);
  t.is(q.next()!.address, '1.1.1.2');
  t.is(new BackendPool([]).next(), undefined);
  t.is(new BackendPool([b('fd00::1')]).next()!.family, 6);
});

test('BackendPool.after: next untried target, wrapping; none when all tried', (t) => {
  const p = new BackendPool([b('1.1.1.1'), b('1.1.1.2'), b('1.1.1.3')]);
  const [x, y, z] = p.targets;
  t.is(p.after(y!, [y!])!.address, '1.1.1.3');
  t.is(p.after(z!, [y!, z!])!.address, '1.1.1.1');
  t.is(p.after(x!, [x!, y!, z!]), undefined);
  // A failed target that is gone from the pool: start from the top.
  const gone = { key: '9.9.9.9:80', address: '9.9.9.9', port: 80, family: 4 as const };
  t.is(p.after(gone, [gone])!.address, '1.1.1.1');
});

test('AffinityTable: remembers, slides on set, expires, sweeps', (t) => {
  let now = 0;
  const a = new AffinityTable(1000, () => now);
  t.teardown(() => a.close());
  t.is(a.get('127.0.0.1'), undefined);
  a.set('127.0.0.1', 'x');
  now = 999;
  t.is(a.get('127.0.0.1'), 'x');
  a.set('127.0.0.1', 'x');
  now = 1998;
  t.is(a.get('127.0.0.1'), 'x');
  now = 1999;
  t.is(a.get('127.0.0.1'), undefined);
  a.set('127.0.0.2', 'y');
  a.setTimeout(10);
  a.set('127.0.0.3', 'z');
  now += 11;
  a.sweep();
  t.is(a.size, 1); // 127.0.0.2 was set with the old, longer timeout
});
