import test from 'ava';
import { connect, createServer, type Server } from 'node:net';
import type { ServiceEntry } from '@knet/dataplane';
import { ShardedDataplane, shardOf } from './sharded-dataplane.js';

test('shardOf: every entry of a Service lands in one shard; spread over shards', (t) => {
  t.is(shardOf('ns/a:http/TCP@127.0.0.1:80', 16), shardOf('ns/a:dns/UDP@127.0.0.2:53', 16));
  const used = new Set(Array.from({ length: 1000 }, (_, i) => shardOf(`ns/s${i}:80/TCP@x`, 16)));
  t.is(used.size, 16);
});

async function backend(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

function ask(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect(port, host);
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

const entry = (svc: string, address: string, port: number, backendPort: number): ServiceEntry => ({
  key: `default/${svc}:80/TCP@${address}:${port}`,
  address,
  port,
  protocol: 'TCP',
  backends: [{ address: '127.0.0.1', port: backendPort, ready: true, serving: true, terminating: false }],
});

test('ShardedDataplane applies only shards whose entries changed, and serves all', async (t) => {
  const a = await backend('a');
  const b = await backend('b');
  t.teardown(() => {
    a.server.close();
    b.server.close();
  });
  const dp = new ShardedDataplane({}, 8);
  t.teardown(() => dp.close());
  const entries = Array.from({ length: 20 }, (_, i) => entry(`s${i}`, '127.121.12.1', 0, a.port));
  // Port 0 binds ephemeral ports on one address, so 20 listeners can share it.
  const first = await dp.apply(entries);
  t.is(first.opened.length, 20);
  t.deepEqual(first.errors, []);
  t.is(dp.keys().length, 20);

  const same = await dp.apply([...entries]);
  t.is(same.shardsApplied, 0, 'same entry objects: nothing applied');

  const changed = [...entries];
  changed[3] = { ...entries[3]!, backends: [{ address: '127.0.0.1', port: b.port, ready: true, serving: true, terminating: false }] };
  const r = await dp.apply(changed);
  t.is(r.shardsApplied, 1);
  t.deepEqual(r.updated, [changed[3]!.key]);
  const bound = dp.address(changed[3]!.key)!;
  t.is(await ask(bound.address, bound.port), 'b');
  const other = dp.address(changed[4]!.key)!;
  t.is(await ask(other.address, other.port), 'a');
  t.is(dp.stats().get(changed[3]!.key)?.connections, 1);

  const removed = await dp.apply(changed.slice(0, 10));
  t.is(removed.closed.length, 10);
  t.is(dp.keys().length, 10);
});

test('ShardedDataplane: a port moving from one Service to another (different shards) binds in the same apply', async (t) => {
  const a = await backend('a');
  t.teardown(() => a.server.close());
  const dp = new ShardedDataplane({ drainMs: 0 }, 8);
  t.teardown(() => dp.close());
  // Find two Services in different shards.
  let other = 1;
  while (shardOf(`default/s${other}:x`, 8) === shardOf('default/s0:x', 8)) other++;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.121.12.2', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  t.deepEqual((await dp.apply([entry('s0', '127.121.12.2', port, a.port)])).errors, []);
  const r = await dp.apply([entry(`s${other}`, '127.121.12.2', port, a.port)]);
  t.deepEqual(r.errors, []);
  t.deepEqual(dp.keys(), [entry(`s${other}`, '127.121.12.2', port, a.port).key]);
  t.is(await ask('127.121.12.2', port), 'a');
});
