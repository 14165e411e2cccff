import test from 'ava';
import { IpamError, type IpamErrorCode } from './errors.js';
import { IpamState } from './state.js';

const cfg = {
  serviceCIDRs: ['127.96.0.0/24', 'fd00::/120'],
  nodePortRange: '30000-30099',
  loadBalancerCIDRs: ['127.200.0.0/28'],
};

function codeOf(fn: () => unknown): IpamErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (err instanceof IpamError) return err.code;
    throw err;
  }
}

test('bad configurations are refused with a message that names the flag', (t) => {
  const cases: [Partial<typeof cfg>, string][] = [
    [{ serviceCIDRs: [] }, '--service-cluster-ip-range'],
    [{ serviceCIDRs: ['127.96.0.0/24', '127.97.0.0/24'] }, 'two IPv4'],
    [{ serviceCIDRs: ['127.96.0.0/24', 'fd00::/120', '127.97.0.0/24'] }, 'at most two'],
    [{ serviceCIDRs: ['127.96.0.0'] }, 'invalid CIDR'],
    [{ nodePortRange: '1-2-3' }, 'invalid port range'],
    [{ loadBalancerCIDRs: ['nope'] }, 'invalid CIDR'],
  ];
  for (const [over, want] of cases) {
    const err = t.throws(() => new IpamState({ ...cfg, ...over }), { instanceOf: IpamError });
    t.is(err!.code, 'InvalidArgument');
    t.true(err!.message.includes(want), err!.message);
  }
});

test('ranges are reported canonically, primary first', (t) => {
  const s = new IpamState({ ...cfg, serviceCIDRs: ['FD00::/120', '127.96.0.9/24'] });
  t.deepEqual(s.ranges, { serviceCIDRs: ['fd00::/120', '127.96.0.0/24'], nodePortRange: '30000-30099', loadBalancerCIDRs: ['127.200.0.0/28'] });
});

// [description, operation, expected error code]
const errors: [string, (s: IpamState) => unknown, IpamErrorCode | 'none'][] = [
  ['v4 any', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv4' }), 'none'],
  ['v6 any', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv6' }), 'none'],
  ['v4 specific', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip: '127.96.0.1' }), 'none'],
  ['v6 specific non-canonical', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv6', ip: 'FD00:0::a' }), 'none'],
  ['v4 out of range', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip: '127.97.0.1' }), 'NotInRange'],
  ['v4 network address', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip: '127.96.0.0' }), 'NotInRange'],
  ['not an IP', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip: '127.96.0' }), 'InvalidArgument'],
  ['family mismatch', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip: 'fd00::1' }), 'InvalidArgument'],
  ['bad family', (s) => s.allocateClusterIP({ owner: 'a/b', family: 'IPv5' as 'IPv4' }), 'InvalidArgument'],
  ['bad owner', (s) => s.allocateClusterIP({ owner: 'no-slash', family: 'IPv4' }), 'InvalidArgument'],
  ['empty owner', (s) => s.allocateNodePort({ owner: '' }), 'InvalidArgument'],
  ['port any', (s) => s.allocateNodePort({ owner: 'a/b' }), 'none'],
  ['port specific', (s) => s.allocateNodePort({ owner: 'a/b', port: 30050 }), 'none'],
  ['port out of range', (s) => s.allocateNodePort({ owner: 'a/b', port: 30100 }), 'NotInRange'],
  ['port invalid', (s) => s.allocateNodePort({ owner: 'a/b', port: 70000 }), 'InvalidArgument'],
  ['lb any', (s) => s.allocateLoadBalancerIP({ owner: 'a/b' }), 'none'],
  ['lb specific', (s) => s.allocateLoadBalancerIP({ owner: 'a/b', ip: '127.200.0.14' }), 'none'],
  ['lb broadcast', (s) => s.allocateLoadBalancerIP({ owner: 'a/b', ip: '127.200.0.15' }), 'NotInRange'],
  ['lb outside pools', (s) => s.allocateLoadBalancerIP({ owner: 'a/b', ip: '127.96.0.1' }), 'NotInRange'],
  ['release garbage', (s) => s.release('ClusterIP', 'x'), 'InvalidArgument'],
  ['release free', (s) => s.release('ClusterIP', '127.96.0.77'), 'none'],
];
for (const [name, op, want] of errors) {
  test(`state: ${name} → ${want}`, (t) => {
    t.is(codeOf(() => op(new IpamState(cfg))), want);
  });
}

test('the same owner asking again for its IP or port gets it (idempotent); another owner does not', (t) => {
  const s = new IpamState(cfg);
  const first = s.allocateClusterIP({ owner: 'default/kubernetes', family: 'IPv4', ip: '127.96.0.1' });
  t.true(first.changed);
  const again = s.allocateClusterIP({ owner: 'default/kubernetes', family: 'IPv4', ip: '127.96.0.1' });
  t.false(again.changed);
  t.deepEqual(again.allocation, first.allocation);
  const err = t.throws(() => s.allocateClusterIP({ owner: 'default/other', family: 'IPv4', ip: '127.96.0.1' }), { instanceOf: IpamError });
  t.is(err!.message, 'provided IP is already allocated');
  t.is(err!.range, '127.96.0.0/24');

  s.allocateNodePort({ owner: 'a/web', port: 30080 });
  t.false(s.allocateNodePort({ owner: 'a/web', port: 30080 }).changed);
  const perr = t.throws(() => s.allocateNodePort({ owner: 'a/db', port: 30080 }), { instanceOf: IpamError });
  t.is(perr!.message, 'provided port is already allocated');
});

test('a family that is not configured says which flag to set', (t) => {
  const s = new IpamState({ ...cfg, serviceCIDRs: ['127.96.0.0/24'] });
  const err = t.throws(() => s.allocateClusterIP({ owner: 'a/b', family: 'IPv6' }), { instanceOf: IpamError });
  t.is(err!.code, 'FamilyNotConfigured');
  t.true(err!.message.includes('IPv6'));
  t.true(err!.message.includes('--service-cluster-ip-range'));
  const lb = new IpamState({ ...cfg, loadBalancerCIDRs: [] });
  const lerr = t.throws(() => lb.allocateLoadBalancerIP({ owner: 'a/b' }), { instanceOf: IpamError });
  t.is(lerr!.code, 'FamilyNotConfigured');
  t.true(lerr!.message.includes('--load-balancer-ip-range'));
});

test('load balancer pools fill in order and then report full', (t) => {
  const s = new IpamState({ ...cfg, loadBalancerCIDRs: ['127.200.0.0/30', '127.201.0.0/30'] });
  const got = Array.from({ length: 4 }, () => s.allocateLoadBalancerIP({ owner: 'a/b' }).allocation.value);
  t.deepEqual(got.slice(0, 2).sort(), ['127.200.0.1', '127.200.0.2']);
  t.deepEqual(got.slice(2).sort(), ['127.201.0.1', '127.201.0.2']);
  const err = t.throws(() => s.allocateLoadBalancerIP({ owner: 'a/b' }), { instanceOf: IpamError });
  t.is(err!.code, 'RangeFull');
  t.is(err!.range, '127.200.0.0/30,127.201.0.0/30');
});

test('release frees the value; list is ordered by kind and numerically', (t) => {
  const s = new IpamState(cfg);
  s.allocateNodePort({ owner: 'a/b', port: 30010 });
  s.allocateNodePort({ owner: 'a/b', port: 30009 });
  s.allocateClusterIP({ owner: 'a/b', family: 'IPv6', ip: 'fd00::2' });
  s.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip: '127.96.0.10' });
  s.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip: '127.96.0.9' });
  t.deepEqual(
    s.list().map((a) => `${a.kind}:${a.value}`),
    ['ClusterIP:127.96.0.9', 'ClusterIP:127.96.0.10', 'ClusterIP:fd00::2', 'NodePort:30009', 'NodePort:30010'],
  );
  t.deepEqual(s.list('NodePort').length, 2);
  t.is(s.release('ClusterIP', '127.96.0.9')?.owner, 'a/b');
  t.is(s.release('ClusterIP', '127.96.0.9'), null);
  t.is(s.allocateClusterIP({ owner: 'c/d', family: 'IPv4', ip: '127.96.0.9' }).allocation.owner, 'c/d');
});

test('load keeps allocations outside the configured ranges listed and releasable', (t) => {
  const s = new IpamState(cfg);
  t.true(s.load({ kind: 'ClusterIP', value: '127.96.0.5', owner: 'a/b', family: 'IPv4', allocatedAt: '2026-01-01T00:00:00Z' }));
  t.false(s.load({ kind: 'ClusterIP', value: '127.99.0.5', owner: 'a/c', family: 'IPv4', allocatedAt: '2026-01-01T00:00:00Z' }));
  t.is(s.list().length, 2);
  t.is(codeOf(() => s.allocateClusterIP({ owner: 'x/y', family: 'IPv4', ip: '127.96.0.5' })), 'AlreadyAllocated');
  t.is(s.release('ClusterIP', '127.99.0.5')?.owner, 'a/c');
});
