import test from 'ava';
import { defaultNodeName, parseDuration, parseFlags } from './flags.js';

const argv = (...a: string[]) => ['node', 'main.js', ...a];

test('defaults follow kube-proxy, except min-sync-period 0 and localhost binds', (t) => {
  t.deepEqual(parseFlags(argv()), {
    hostnameOverride: defaultNodeName(),
    nodePortAddresses: [],
    minSyncPeriodMs: 0,
    syncPeriodMs: 30_000,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    udpIdleTimeoutMs: 30_000,
    drainPeriodMs: 30_000,
  });
});

test('every flag', (t) => {
  const f = parseFlags(
    argv(
      '--kubeconfig', '/k', '--master', 'http://127.0.0.1:1', '--hostname-override', 'Node-A', '--nodeport-addresses', '127.0.0.0/8, 127.121.6.1',
      '--min-sync-period', '1s', '--sync-period', '1m30s', '--healthz-bind-address', '127.0.0.1:0', '--metrics-bind-address', '',
      '--vip-interface', 'kube0', '--udp-idle-timeout', '500ms', '--drain-period', '0',
    ),
  );
  t.deepEqual(f, {
    kubeconfig: '/k',
    master: 'http://127.0.0.1:1',
    hostnameOverride: 'node-a',
    nodePortAddresses: ['127.0.0.0/8', '127.121.6.1'],
    minSyncPeriodMs: 1000,
    syncPeriodMs: 90_000,
    healthzBindAddress: '127.0.0.1:0',
    metricsBindAddress: '',
    vipInterface: 'kube0',
    udpIdleTimeoutMs: 500,
    drainPeriodMs: 0,
  });
});

for (const bad of [
  ['--sync-period', 'soon'],
  ['--nodeport-addresses', '127.0.0.0/99'],
  ['--healthz-bind-address', 'nowhere'],
  ['--min-sync-period', '1m', '--sync-period', '30s'],
]) {
  test(`rejects ${bad.join(' ')}`, (t) => {
    let err = '';
    t.throws(() => parseFlags(argv(...bad), (s) => (err += s)));
    if (bad[0] !== '--min-sync-period') t.regex(err, /invalid/);
  });
}

test('parseDuration', (t) => {
  t.is(parseDuration('0'), 0);
  t.is(parseDuration('250ms'), 250);
  t.is(parseDuration('1h2m3s'), 3_723_000);
  t.throws(() => parseDuration(''));
  t.throws(() => parseDuration('5'));
});
