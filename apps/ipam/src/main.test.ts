import { createServer } from 'node:http';
import { IpamClient, IpamError } from '@knet/ipam';
import test from 'ava';
import { logLines, spawnIpam, startIpam, tempDir, until } from './testing.js';

const common = ['--listen', '127.0.0.1:0', '--service-cluster-ip-range', '127.96.0.0/12,fd00:96::/108', '--repair-interval', '0'];

test('prints a ready line, serves, and exits cleanly on SIGTERM, leaving the DB reusable', async (t) => {
  const dataDir = tempDir(t);
  const p = await startIpam(t, [...common, '--data-dir', dataDir]);
  const client = new IpamClient(p.address, { deadlineMs: 60_000 });
  t.teardown(() => client.close());
  t.deepEqual(await client.ranges(), {
    serviceCIDRs: ['127.96.0.0/12', 'fd00:96::/108'],
    nodePortRange: '30000-32767',
    loadBalancerCIDRs: ['127.200.0.0/16'],
  });
  const ip = await client.allocateClusterIP({ owner: 'default/kubernetes', family: 'IPv4', ip: '127.96.0.1' });
  process.kill(p.child.pid!, 'SIGTERM');
  t.deepEqual(await p.exited, { code: 0, signal: null });
  t.true(logLines(p).some((l) => l.msg === 'stopped'));

  const again = await startIpam(t, [...common, '--data-dir', dataDir]);
  const c2 = new IpamClient(again.address, { deadlineMs: 60_000 });
  t.teardown(() => c2.close());
  t.deepEqual((await c2.list()).map((a) => [a.value, a.owner]), [[ip, 'default/kubernetes']]);
  process.kill(again.child.pid!, 'SIGINT');
  t.is((await again.exited).code, 0);
});

test('kill -9 during an allocation storm: every acknowledged allocation survives, none is handed out twice', async (t) => {
  const dataDir = tempDir(t);
  const p = await startIpam(t, [...common, '--data-dir', dataDir]);
  const client = new IpamClient(p.address, { deadlineMs: 60_000 });
  t.teardown(() => client.close());

  let killed = false;
  const acked = new Map<string, string>(); // value → owner
  let duplicates = 0;
  let n = 0;
  const ack = (value: string, owner: string): void => {
    if (acked.has(value)) duplicates++;
    acked.set(value, owner);
  };
  const worker = async (w: number): Promise<void> => {
    for (;;) {
      const owner = `storm/w${w}-${n++}`;
      try {
        if (n % 5 === 0) ack(String(await client.allocateNodePort({ owner })), owner);
        else ack(await client.allocateClusterIP({ owner, family: n % 2 ? 'IPv4' : 'IPv6' }), owner);
      } catch (err) {
        if (err instanceof IpamError && err.code === 'Unavailable' && killed) return;
        throw err;
      }
    }
  };
  const storm = Promise.all(Array.from({ length: 32 }, (_, w) => worker(w)));
  await until('some acknowledged allocations', () => (acked.size >= 300 ? true : undefined));
  killed = true;
  process.kill(p.child.pid!, 'SIGKILL');
  t.is((await p.exited).signal, 'SIGKILL');
  await storm;
  t.is(duplicates, 0);

  const after = await startIpam(t, [...common, '--data-dir', dataDir]);
  const c2 = new IpamClient(after.address, { deadlineMs: 60_000 });
  t.teardown(() => c2.close());
  const listed = new Map((await c2.list()).map((a) => [a.value, a.owner]));
  const lost = [...acked].filter(([value, owner]) => listed.get(value) !== owner);
  t.deepEqual(lost, [], 'acknowledged allocations lost or changed owner');
  // New allocations after the restart never reuse an acknowledged value.
  const fresh = await Promise.all(Array.from({ length: 200 }, (_, i) => c2.allocateClusterIP({ owner: `after/s${i}`, family: 'IPv4' })));
  t.false(fresh.some((ip) => acked.has(ip)));
  t.is(new Set(fresh).size, fresh.length);
});

test('serves allocator metrics on --metrics-listen', async (t) => {
  const p = await startIpam(t, [...common, '--data-dir', tempDir(t), '--metrics-listen', '127.0.0.1:0']);
  const ready = logLines(p).find((l) => l.msg === 'ready')!;
  t.regex(String(ready.metrics), /^127\.0\.0\.1:\d+$/);
  const client = new IpamClient(p.address, { deadlineMs: 60_000 });
  t.teardown(() => client.close());
  await client.allocateClusterIP({ owner: 'a/b', family: 'IPv4' });
  await client.allocateNodePort({ owner: 'a/b' });
  const res = await fetch(`http://${String(ready.metrics)}/metrics`);
  t.is(res.status, 200);
  const body = await res.text();
  t.regex(body, /kube_apiserver_clusterip_allocator_allocated_ips\{cidr="127\.96\.0\.0\/12"\} 1\n/);
  t.regex(body, /kube_apiserver_clusterip_allocator_available_ips\{cidr="fd00:96::\/108"\} 1048575\n/);
  t.regex(body, /kube_apiserver_nodeport_allocator_allocated_ports\{cidr="30000-32767"\} 1\n/);
});

test('a bind failure says what to do and exits non-zero', async (t) => {
  const first = await startIpam(t, [...common, '--data-dir', tempDir(t)]);
  const second = spawnIpam(t, [...common.slice(2), '--listen', first.address, '--data-dir', tempDir(t)]);
  const { code } = await second.exited;
  t.is(code, 1);
  const err = logLines(second).find((l) => l.level === 50);
  t.regex(String(err?.msg), new RegExp(`cannot listen on ${first.address}.*another --listen address`));
});

test('bad flags are refused with a clear message', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--service-cluster-ip-range', '127.0.0.0/8'], /too large; for 32-bit addresses, the mask must be >= 12/],
    [['--service-cluster-ip-range', '127.96.0.0/12,127.112.0.0/12'], /two IPv4 CIDRs/],
    [['--node-port-range', '30000-'], /invalid port range/],
    [['--repair-interval', 'soon'], /must be a duration/],
  ];
  for (const [args, want] of cases) {
    const p = spawnIpam(t, ['--listen', '127.0.0.1:0', '--data-dir', tempDir(t), ...args]);
    const { code } = await p.exited;
    t.not(code, 0, args.join(' '));
    t.regex(`${p.stderr()}\n${p.lines.join('\n')}`, want);
  }
});

test('the repair loop reads Services from --apiserver with --token', async (t) => {
  const api = createServer((req, res) => {
    if (req.headers.authorization !== 'Bearer tok') return void res.writeHead(401).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        kind: 'ServiceList',
        apiVersion: 'v1',
        metadata: {},
        items: [{ metadata: { namespace: 'default', name: 'kubernetes' }, spec: { clusterIPs: ['127.96.0.1'], ports: [{ port: 443 }] } }],
      }),
    );
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => api.close(() => r())));
  const apiserver = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
  const p = await startIpam(t, [
    ...common.slice(0, 4),
    '--data-dir', tempDir(t),
    '--apiserver', apiserver,
    '--token', 'tok',
    '--repair-interval', '100ms',
  ]);
  const client = new IpamClient(p.address, { deadlineMs: 60_000 });
  t.teardown(() => client.close());
  const leaked = await client.allocateClusterIP({ owner: 'a/never-created', family: 'IPv4' });
  const list = await until('repair to converge', async () => {
    const l = (await client.list()).map((a) => `${a.value} ${a.owner}`);
    return l.length === 1 && l[0] === '127.96.0.1 default/kubernetes' ? l : undefined;
  });
  t.false(list.some((l) => l.startsWith(`${leaked} `)));
});
