import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { IpamClient } from './client.js';
import { IpamError } from './errors.js';
import { ipamServiceDefinition } from './proto.js';
import { type IpamServer, type IpamServerOptions, createIpamServer } from './server.js';
import { until } from '@knet/component/testing';

const ranges = {
  serviceCIDRs: ['127.96.0.0/12', 'fd00:96::/108'],
  nodePortRange: '30000-32767',
  loadBalancerCIDRs: ['127.200.0.0/16'],
};

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'knet-ipam-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(
  t: ExecutionContext,
  dbPath = tempDir(t),
  over: Partial<IpamServerOptions> = {},
): Promise<{ server: IpamServer; client: IpamClient; dbPath: string; address: string }> {
  const server = createIpamServer({ dbPath, ...ranges, ...over });
  t.teardown(() => server.close());
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  // Generous deadline: these tests are about correctness, and CI machines can be very busy.
  const client = new IpamClient(address, { deadlineMs: 60_000 });
  t.teardown(() => client.close());
  return { server, client, dbPath, address };
}

async function ipamError(t: ExecutionContext, p: Promise<unknown>): Promise<IpamError> {
  const err = await t.throwsAsync(p, { instanceOf: IpamError });
  return err!;
}

test('ranges() reports the configuration', async (t) => {
  const { client } = await start(t);
  t.deepEqual(await client.ranges(), ranges);
});

test('1,000 concurrent ClusterIP allocations get 1,000 distinct IPs, all listed', async (t) => {
  const { client } = await start(t);
  const ips = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => client.allocateClusterIP({ owner: `load/svc-${i}`, family: i % 2 ? 'IPv4' : 'IPv6' })),
  );
  t.is(new Set(ips).size, 1000);
  const listed = await client.list('ClusterIP');
  t.deepEqual(listed.map((a) => a.value).sort(), [...ips].sort());
  t.true(listed.every((a) => /^load\/svc-\d+$/.test(a.owner) && (a.family === 'IPv4' || a.family === 'IPv6')));
});

test('concurrent releases and allocations never hand out an IP that is held', async (t) => {
  const { client } = await start(t, undefined, { serviceCIDRs: ['127.96.0.0/24'] });
  const first = await Promise.all(Array.from({ length: 200 }, (_, i) => client.allocateClusterIP({ owner: `a/s${i}`, family: 'IPv4' })));
  const released = first.slice(0, 100);
  const [, second] = await Promise.all([
    Promise.all(released.map((ip) => client.releaseClusterIP(ip))),
    Promise.all(Array.from({ length: 50 }, (_, i) => client.allocateClusterIP({ owner: `b/s${i}`, family: 'IPv4' }))),
  ]);
  const held = [...first.slice(100), ...second];
  t.is(new Set(held).size, held.length);
  const listed = await client.list('ClusterIP');
  t.deepEqual(listed.map((a) => a.value).sort(), [...held].sort());
});

test('a restart keeps every allocation, with its owner', async (t) => {
  const dbPath = tempDir(t);
  const before = await start(t, dbPath);
  const ip = await before.client.allocateClusterIP({ owner: 'default/kubernetes', family: 'IPv4', ip: '127.96.0.1' });
  const v6 = await before.client.allocateClusterIP({ owner: 'a/v6', family: 'IPv6' });
  const port = await before.client.allocateNodePort({ owner: 'a/web' });
  const lb = await before.client.allocateLoadBalancerIP({ owner: 'a/web' });
  await before.client.allocateNodePort({ owner: 'a/tmp', port: 30123 });
  await before.client.releaseNodePort(30123);
  const list = await before.client.list();
  before.client.close();
  await before.server.close();

  const after = await start(t, dbPath);
  t.deepEqual(await after.client.list(), list);
  t.deepEqual(list.map((a) => a.value).sort(), [ip, v6, String(port), lb].sort());
  const err = await ipamError(t, after.client.allocateClusterIP({ owner: 'a/other', family: 'IPv4', ip: '127.96.0.1' }));
  t.is(err.code, 'AlreadyAllocated');
  t.is(await after.client.allocateNodePort({ owner: 'a/again', port: 30123 }), 30123);
});

test('requesting an IP already held by the same owner succeeds (idempotent retry)', async (t) => {
  const { client } = await start(t);
  const ip = await client.allocateClusterIP({ owner: 'a/b', family: 'IPv4' });
  t.is(await client.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip }), ip);
  t.is(await client.allocateLoadBalancerIP({ owner: 'a/b', ip: '127.200.3.4' }), '127.200.3.4');
  t.is(await client.allocateLoadBalancerIP({ owner: 'a/b', ip: '127.200.3.4' }), '127.200.3.4');
  t.is((await client.list()).length, 2);
});

// [name, call, code, message (exact or RegExp), range]
const errorCases: [
  string,
  (c: IpamClient) => Promise<unknown>,
  IpamError['code'],
  string | RegExp,
  string | undefined,
][] = [
  [
    'IP out of range',
    (c) => c.allocateClusterIP({ owner: 'a/b', family: 'IPv4', ip: '127.0.0.1' }),
    'NotInRange',
    'provided IP is not in the valid range. The range of valid IPs is 127.96.0.0/12',
    '127.96.0.0/12',
  ],
  [
    'IPv6 out of range',
    (c) => c.allocateClusterIP({ owner: 'a/b', family: 'IPv6', ip: 'fd00:97::1' }),
    'NotInRange',
    'provided IP is not in the valid range. The range of valid IPs is fd00:96::/108',
    'fd00:96::/108',
  ],
  [
    'port out of range',
    (c) => c.allocateNodePort({ owner: 'a/b', port: 8080 }),
    'NotInRange',
    'provided port is not in the valid range. The range of valid ports is 30000-32767',
    '30000-32767',
  ],
  [
    'IP already allocated',
    async (c) => {
      await c.allocateClusterIP({ owner: 'a/one', family: 'IPv4', ip: '127.96.0.10' });
      return c.allocateClusterIP({ owner: 'a/two', family: 'IPv4', ip: '127.96.0.10' });
    },
    'AlreadyAllocated',
    'provided IP is already allocated',
    '127.96.0.0/12',
  ],
  [
    'port already allocated',
    async (c) => {
      await c.allocateNodePort({ owner: 'a/one', port: 30000 });
      return c.allocateNodePort({ owner: 'a/two', port: 30000 });
    },
    'AlreadyAllocated',
    'provided port is already allocated',
    '30000-32767',
  ],
  ['invalid owner', (c) => c.allocateNodePort({ owner: 'nope' }), 'InvalidArgument', /owner/, undefined],
  ['invalid IP', (c) => c.releaseClusterIP('1.2.3'), 'InvalidArgument', /not a valid IP/, undefined],
  ['invalid port', (c) => c.allocateNodePort({ owner: 'a/b', port: -1 }), 'InvalidArgument', /invalid port/, undefined],
  ['invalid kind', (c) => c.list('Bogus' as 'NodePort'), 'InvalidArgument', /unknown allocation kind/, undefined],
];
for (const [name, call, code, message, range] of errorCases) {
  test(`error over gRPC: ${name} → ${code}`, async (t) => {
    const { client } = await start(t);
    const err = await ipamError(t, call(client));
    t.is(err.code, code);
    if (typeof message === 'string') t.is(err.message, message);
    else t.regex(err.message, message);
    t.is(err.range, range);
    t.deepEqual(await client.ranges(), ranges, 'the server still answers');
  });
}

test('a full range and an unconfigured family over gRPC', async (t) => {
  const { client } = await start(t, undefined, { serviceCIDRs: ['127.96.0.0/30'], loadBalancerCIDRs: [] });
  await client.allocateClusterIP({ owner: 'a/b', family: 'IPv4' });
  await client.allocateClusterIP({ owner: 'a/c', family: 'IPv4' });
  const full = await ipamError(t, client.allocateClusterIP({ owner: 'a/d', family: 'IPv4' }));
  t.is(full.code, 'RangeFull');
  t.is(full.message, 'range is full');
  t.is(full.range, '127.96.0.0/30');
  const v6 = await ipamError(t, client.allocateClusterIP({ owner: 'a/d', family: 'IPv6' }));
  t.is(v6.code, 'FamilyNotConfigured');
  t.regex(v6.message, /IPv6 .*--service-cluster-ip-range/);
  const lb = await ipamError(t, client.allocateLoadBalancerIP({ owner: 'a/d' }));
  t.is(lb.code, 'FamilyNotConfigured');
  t.regex(lb.message, /--load-balancer-ip-range/);
});

test('releasing a free IP or port is not an error', async (t) => {
  const { client } = await start(t);
  await t.notThrowsAsync(client.releaseClusterIP('127.96.1.1'));
  await t.notThrowsAsync(client.releaseNodePort(30500));
  await t.notThrowsAsync(client.releaseLoadBalancerIP('127.200.1.1'));
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('an unreachable server is Unavailable', async (t) => {
  const client = new IpamClient(`127.0.0.1:${await closedPort()}`, { deadlineMs: 2000 });
  t.teardown(() => client.close());
  const err = await ipamError(t, client.allocateClusterIP({ owner: 'a/b', family: 'IPv4' }));
  t.is(err.code, 'Unavailable');
  t.regex(err.message, /unavailable/);
});

test('a server that accepts but never answers is Unavailable at the deadline', async (t) => {
  const sockets = new Set<import('node:net').Socket>();
  const silent: Server = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const client = new IpamClient(`127.0.0.1:${(silent.address() as { port: number }).port}`, { deadlineMs: 300 });
  t.teardown(() => client.close());
  const err = await ipamError(t, client.ranges());
  t.is(err.code, 'Unavailable');
});

test('repair through the server: records what Services hold, frees leaks after two passes', async (t) => {
  const { server, client } = await start(t);
  const leaked = await client.allocateClusterIP({ owner: 'a/deleted', family: 'IPv4' });
  const kept = await client.allocateClusterIP({ owner: 'a/kept', family: 'IPv4' });
  const inUse = [
    { owner: 'a/kept', clusterIPs: [kept], nodePorts: [], loadBalancerIPs: [] },
    { owner: 'a/unrecorded', clusterIPs: ['127.96.7.7'], nodePorts: [31000], loadBalancerIPs: ['127.200.9.9'] },
    { owner: 'a/foreign', clusterIPs: ['127.50.0.1'], nodePorts: [], loadBalancerIPs: [] },
  ];
  const first = await server.repair(inUse);
  t.deepEqual(first.released, []);
  t.deepEqual(first.pendingLeaks.map((a) => a.value), [leaked]);
  t.deepEqual(first.recorded.map((a) => `${a.kind}/${a.value}/${a.owner}`).sort(), [
    'ClusterIP/127.96.7.7/a/unrecorded',
    'LoadBalancerIP/127.200.9.9/a/unrecorded',
    'NodePort/31000/a/unrecorded',
  ]);
  t.deepEqual(first.skipped.map((s) => s.value), ['127.50.0.1']);
  t.true(first.skipped[0]!.reason.includes('not in the valid range'));

  const second = await server.repair(inUse);
  t.deepEqual(second.released.map((a) => a.value), [leaked]);
  const values = (await client.list()).map((a) => a.value).sort();
  t.deepEqual(values, [kept, '127.96.7.7', '127.200.9.9', '31000'].sort());
  const err = await ipamError(t, client.allocateNodePort({ owner: 'b/x', port: 31000 }));
  t.is(err.code, 'AlreadyAllocated');
});

test('a data directory in use by another server is refused with a clear error', async (t) => {
  const { dbPath } = await start(t);
  const second = createIpamServer({ dbPath, ...ranges });
  t.teardown(() => second.close());
  const err = await t.throwsAsync(second.listen('127.0.0.1:0'), { instanceOf: IpamError });
  t.regex(err!.message, /cannot open allocation database.*another ipam process using this data directory/);
});

test('listening on an address in use fails with a message naming it', async (t) => {
  const { address } = await start(t);
  const other = createIpamServer({ dbPath: tempDir(t), ...ranges });
  t.teardown(() => other.close());
  const err = await t.throwsAsync(other.listen(address), { instanceOf: IpamError });
  t.true(err!.message.includes(address));
});

test('a client outlives a server restart on the same address', async (t) => {
  const dbPath = tempDir(t);
  const first = await start(t, dbPath);
  const ip = await first.client.allocateClusterIP({ owner: 'a/b', family: 'IPv4' });
  await first.server.close();
  const down = await ipamError(t, first.client.list());
  t.is(down.code, 'Unavailable', down.message);
  const again = createIpamServer({ dbPath, ...ranges });
  t.teardown(() => again.close());
  await again.listen(first.address);
  const listed = await until('the old client to reconnect', async () => {
    try {
      return await first.client.list();
    } catch (err) {
      if (err instanceof IpamError && err.code === 'Unavailable') return undefined;
      throw err;
    }
  });
  t.deepEqual(listed.map((a) => a.value), [ip]);
});

test('close() is idempotent and later calls fail cleanly', async (t) => {
  const { server, client } = await start(t);
  await server.close();
  await server.close();
  const err = await ipamError(t, client.list());
  t.is(err.code, 'Unavailable');
});

test('concurrent ClusterIP allocations share calls, yet each fails or succeeds on its own', async (t) => {
  const { client } = await start(t, undefined, { serviceCIDRs: ['127.96.0.0/24'] });
  const taken = await client.allocateClusterIP({ owner: 'a/first', family: 'IPv4' });
  const results = await Promise.allSettled([
    client.allocateClusterIP({ owner: 'a/s1', family: 'IPv4' }),
    client.allocateClusterIP({ owner: 'a/s2', family: 'IPv4', ip: taken }),
    client.allocateClusterIP({ owner: 'a/s3', family: 'IPv6' }),
    client.allocateClusterIP({ owner: 'bad owner', family: 'IPv4' }),
    client.allocateClusterIP({ owner: 'a/s5', family: 'IPv4', ip: '127.96.0.77' }),
  ]);
  const [s1, s2, s3, s4, s5] = results;
  t.is(s1.status, 'fulfilled');
  const codes = [s2, s3, s4].map((r) => (r.status === 'rejected' && r.reason instanceof IpamError ? r.reason.code : r.status));
  t.deepEqual(codes, ['AlreadyAllocated', 'FamilyNotConfigured', 'InvalidArgument']);
  t.is(s2.status === 'rejected' && (s2.reason as IpamError).range, '127.96.0.0/24');
  t.deepEqual(s5, { status: 'fulfilled', value: '127.96.0.77' });
  const listed = (await client.list('ClusterIP')).map((a) => `${a.owner}=${a.value}`).sort();
  t.deepEqual(listed, [`a/first=${taken}`, `a/s1=${(s1 as PromiseFulfilledResult<string>).value}`, 'a/s5=127.96.0.77'].sort());
});

test('a client falls back to one call per allocation when the server has no AllocateClusterIPs', async (t) => {
  // An ipam of an older version: only the single-allocation RPC.
  const older = new grpc.Server();
  let next = 1;
  older.addService(ipamServiceDefinition(), {
    AllocateClusterIP: (call: grpc.ServerUnaryCall<{ owner: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { ip: `127.96.0.${next++}` }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    older.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.teardown(() => older.forceShutdown());
  const client = new IpamClient(`127.0.0.1:${port}`, { deadlineMs: 60_000 });
  t.teardown(() => client.close());
  const ips = await Promise.all([1, 2, 3].map((i) => client.allocateClusterIP({ owner: `a/s${i}`, family: 'IPv4' })));
  t.deepEqual(ips.sort(), ['127.96.0.1', '127.96.0.2', '127.96.0.3']);
  t.is(await client.allocateClusterIP({ owner: 'a/s4', family: 'IPv4' }), '127.96.0.4');
});

test('a new client reaches a server that came back on the port of one that died, without waiting out an old backoff', async (t) => {
  const dbPath = tempDir(t);
  const first = await start(t, dbPath);
  await first.client.ranges();
  await first.server.close();
  // The first client's connection fails and backs off (up to its 1 s maximum).
  for (let i = 0; i < 3; i++) await ipamError(t, first.client.ranges());
  const again = createIpamServer({ dbPath, ...ranges });
  t.teardown(() => again.close());
  await again.listen(first.address);
  const fresh = new IpamClient(first.address, { deadlineMs: 60_000 });
  t.teardown(() => fresh.close());
  t.deepEqual(await fresh.ranges(), ranges);
});
