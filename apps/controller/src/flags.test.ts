import test from 'ava';
import { parseDuration, parseFlags } from './flags.js';

const argv = (...a: string[]) => ['node', 'main.js', ...a];

test('defaults follow kube-controller-manager (more concurrent syncs)', (t) => {
  const f = parseFlags(argv('--server', 'http://127.0.0.1:6443'));
  t.like(f, { server: 'http://127.0.0.1:6443', concurrentSyncs: 64, maxEndpointsPerSlice: 100, healthzPort: 10257, batchPeriodMs: 0, logLevel: 'info' });
  t.is(f.ipam, undefined);
});

test('flags are parsed', (t) => {
  const f = parseFlags(argv('--kubeconfig', '/k', '--ipam', '127.0.0.1:9091', '--concurrent-syncs', '9', '--healthz-port', '0', '--endpoint-updates-batch-period', '500ms'));
  t.like(f, { kubeconfig: '/k', ipam: '127.0.0.1:9091', concurrentSyncs: 9, healthzPort: 0, batchPeriodMs: 500 });
});

test('bad flags are refused', (t) => {
  const bad: string[][] = [
    ['--concurrent-syncs', '0'],
    ['--healthz-port', '70000'],
    ['--max-endpoints-per-slice', 'x'],
    ['--server', 'http://a', '--kubeconfig', '/k'],
    ['--log-level', 'loud'],
  ];
  const write = process.stderr.write;
  process.stderr.write = () => true; // commander prints the problem; keep the test output clean
  try {
    for (const a of bad) t.throws(() => parseFlags(argv(...a)), undefined, a.join(' '));
  } finally {
    process.stderr.write = write;
  }
});

test('durations', (t) => {
  const table: [string, number][] = [['0', 0], ['100ms', 100], ['1s', 1000], ['1.5s', 1500], ['2m', 120_000]];
  for (const [s, ms] of table) t.is(parseDuration(s), ms, s);
  t.throws(() => parseDuration('5'));
  t.throws(() => parseDuration('abc'));
});
