import test from 'ava';
import { parseIpAddrShow, vipChanges, VipInterface, type Exec } from './vip-interface.js';

const show = `7: kube0    inet 127.96.0.5/32 scope global kube0\\       valid_lft forever preferred_lft forever
7: kube0    inet6 fd00::5/128 scope global \\       valid_lft forever preferred_lft forever
7: kube0    inet6 fe80::1c2f:1ff:fe2a:1/64 scope link \\       valid_lft forever preferred_lft forever`;

test('parseIpAddrShow reads v4 and v6 addresses, not link-local', (t) => {
  t.deepEqual([...parseIpAddrShow(show)].sort(), ['127.96.0.5', 'fd00::5']);
  t.deepEqual([...parseIpAddrShow('')], []);
});

const changes: [string[], string[], { add: string[]; remove: string[] }][] = [
  [[], ['127.96.0.5'], { add: ['127.96.0.5'], remove: [] }],
  [['127.96.0.5'], [], { add: [], remove: ['127.96.0.5'] }],
  [['127.96.0.5', '127.96.0.6'], ['127.96.0.6', '127.96.0.7'], { add: ['127.96.0.7'], remove: ['127.96.0.5'] }],
  [['127.96.0.5'], ['127.96.0.5'], { add: [], remove: [] }],
];
for (const [cur, want, out] of changes) {
  test(`vipChanges ${JSON.stringify(cur)} → ${JSON.stringify(want)}`, (t) => t.deepEqual(vipChanges(new Set(cur), new Set(want)), out));
}

test('VipInterface.sync: one ip -batch with /32 and /128 lines; what did not take is logged', async (t) => {
  const calls: string[] = [];
  const warnings: { o: object; m: string }[] = [];
  let shows = 0;
  const exec: Exec = async (cmd, args, input) => {
    calls.push([cmd, ...args].join(' ') + (input ? `\n${input}` : ''));
    if (args.includes('show')) {
      // After the batch: 127.96.0.9 did not take (e.g. no permission), the rest did.
      return shows++ === 0 ? show : '7: kube0    inet 127.96.0.5/32 scope global kube0\n7: kube0    inet6 fd00::6/128 scope global';
    }
    throw new Error('RTNETLINK answers: Operation not permitted');
  };
  const vip = new VipInterface('kube0', { info() {}, warn: (o, m) => warnings.push({ o, m: m ?? '' }) }, exec);
  await vip.sync(new Set(['127.96.0.5', '127.96.0.9', 'fd00::6']));
  t.deepEqual(calls, [
    'ip -o addr show dev kube0',
    'ip -force -batch -\naddr add 127.96.0.9/32 dev kube0\naddr add fd00::6/128 dev kube0\naddr del fd00::5/128 dev kube0\n',
    'ip -o addr show dev kube0',
  ]);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!.m, /CAP_NET_ADMIN/);
  t.like(warnings[0]!.o, { notAdded: ['127.96.0.9'], notRemoved: [] });
});

test('VipInterface.sync with nothing to change runs no batch', async (t) => {
  const calls: string[] = [];
  const vip = new VipInterface('kube0', { info() {}, warn() {} }, async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    return show;
  });
  await vip.sync(new Set(['127.96.0.5', 'fd00::5']));
  t.deepEqual(calls, ['ip -o addr show dev kube0']);
});

test('VipInterface.sync with a missing device logs how to create it', async (t) => {
  const warnings: string[] = [];
  const vip = new VipInterface('nope0', { info() {}, warn: (_o, m) => warnings.push(m ?? '') }, async () => {
    throw new Error('Device "nope0" does not exist.');
  });
  await vip.sync(new Set(['127.96.0.5']));
  t.regex(warnings[0]!, /ip link add nope0 type dummy/);
});

test('VipInterface on a real interface in a network namespace of its own: VIP added, bindable, removed', async (t) => {
  const { execFile } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const child = fileURLToPath(new URL('./testing/vip-netns-child.js', import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    // unshare needs CAP_SYS_ADMIN; the test runs as root here (knet's CI and dev containers do).
    execFile('unshare', ['--net', process.execPath, child], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  t.deepEqual(JSON.parse(out), { before: 'EADDRNOTAVAIL', added: true, during: 'bound, answered hello', removed: true, after: 'EADDRNOTAVAIL' });
});
