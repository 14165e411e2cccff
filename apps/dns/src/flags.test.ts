import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatHostPort, parseFlags, parseHostPort, resolveUpstreams } from './flags.js';

const argv = (...a: string[]): string[] => ['node', 'dns', ...a];

test('defaults are the local cluster values', (t) => {
  t.deepEqual(parseFlags(argv()), {
    listen: { host: '127.0.0.1', port: 10053 },
    clusterDomain: 'cluster.local',
    ttl: 5,
    upstreams: null,
    forward: true,
    forwardAllow: ['127.0.0.0/8', '::1/128'],
    metricsListen: { host: '127.0.0.1', port: 9153 },
    nameserverIPs: ['127.96.0.10'],
    logLevel: 'info',
    // The wire tests run once more with KNET_DNS_UDP_PATH=js (package.json): the flag's environment default.
    udpPath: process.env.KNET_DNS_UDP_PATH ?? 'auto',
  });
});

test('flags parse', (t) => {
  const f = parseFlags(
    argv('--kubeconfig', '/k', '--listen', '[::1]:0', '--cluster-domain', 'Corp.Example.', '--ttl', '30', '--upstream', '127.0.0.53, [::1]:5353', '--forward-allow', '127.0.0.0/8,127.244.0.0/16', '--metrics-listen', '', '--nameserver-ip', '127.96.0.10,fd00::a'),
  );
  t.is(f.kubeconfig, '/k');
  t.deepEqual(f.listen, { host: '::1', port: 0 });
  t.is(f.clusterDomain, 'corp.example');
  t.is(f.ttl, 30);
  t.deepEqual(f.upstreams, ['127.0.0.53', '[::1]:5353']);
  t.deepEqual(f.forwardAllow, ['127.0.0.0/8', '127.244.0.0/16']);
  t.is(f.metricsListen, null);
  t.deepEqual(f.nameserverIPs, ['127.96.0.10', 'fd00::a']);
  t.false(parseFlags(argv('--no-forward')).forward);
  t.is(parseFlags(argv('--udp-path', 'js')).udpPath, 'js');
  t.is(parseFlags(argv('--udp-path', 'native')).udpPath, 'native');
});

test('bad flags are refused with a message naming the problem', (t) => {
  const cases: [string[], RegExp][] = [
    [['--listen', '127.0.0.1'], /not an address/],
    [['--udp-path', 'fast'], /Allowed choices are auto, native, js/],
    [['--listen', 'localhost:53'], /not an address/],
    [['--listen', '127.0.0.1:70000'], /not an address/],
    [['--ttl', '1.5'], /whole seconds/],
    [['--ttl', '3601'], /whole seconds/],
    [['--cluster-domain', '-bad.local'], /not a DNS domain/],
    [['--upstream', 'dns.google'], /invalid upstream/],
    [['--upstream', ''], /at least one/],
    [['--forward-allow', '127.0.0.0/33'], /not a CIDR/],
    [['--forward-allow', 'everyone'], /not a CIDR/],
    [['--nameserver-ip', '127.96.0'], /not an IP/],
    [['--upstream', '127.0.0.53', '--no-forward'], /contradict/],
    [['--bogus'], /unknown option/],
  ];
  for (const [args, message] of cases) {
    let printed = '';
    const err = t.throws(() => parseFlags(argv(...args), (s) => (printed += s)), undefined, args.join(' '));
    t.regex(`${err?.message ?? ''} ${printed}`, message, args.join(' '));
  }
});

test('host:port round trip', (t) => {
  for (const s of ['127.0.0.1:10053', '[::1]:53', '0.0.0.0:0']) t.is(formatHostPort(parseHostPort(s)), s);
});

test('upstreams come from the flag, else resolv.conf, and never point at ourselves', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-dns-flags-'));
  const conf = join(dir, 'resolv.conf');
  writeFileSync(conf, 'search example\nnameserver 127.0.0.53\nnameserver ::1\noptions ndots:5\n');
  const listen = { host: '127.0.0.1', port: 10053 };
  t.deepEqual(resolveUpstreams({ upstreams: null, listen }, conf), ['127.0.0.53:53', '[::1]:53']);
  t.deepEqual(resolveUpstreams({ upstreams: ['127.0.0.1:10053', '127.0.0.2'], listen }, conf), ['127.0.0.2']);
  t.throws(() => resolveUpstreams({ upstreams: ['127.0.0.1:53'], listen: { host: '127.0.0.1', port: 53 } }, conf), { message: /this server itself/ });
  writeFileSync(conf, '# nothing\n');
  t.throws(() => resolveUpstreams({ upstreams: null, listen }, conf), { message: /no nameserver/ });
  t.throws(() => resolveUpstreams({ upstreams: null, listen }, join(dir, 'missing')), { message: /cannot read/ });
});
