import test, { type ExecutionContext } from 'ava';
import { Dataplane } from './dataplane.js';
import { until, vip } from './test-support/net.js';
import { parseProxy } from './test-support/proxy-parse.js';
import { udpClient, udpName, udpServer, type UdpClient, type UdpServer } from './test-support/udp.js';
import type { Backend, DataplaneOptions, ServiceEntry } from './types.js';

async function servers(t: ExecutionContext, ...starts: Array<Promise<UdpServer>>): Promise<UdpServer[]> {
  const all = await Promise.all(starts);
  for (const s of all) t.teardown(() => s.close());
  return all;
}

async function client(t: ExecutionContext): Promise<UdpClient> {
  const c = await udpClient();
  t.teardown(() => c.close());
  return c;
}

async function serve(
  t: ExecutionContext,
  backends: Backend[],
  opts: DataplaneOptions = {},
  over: Partial<ServiceEntry> = {},
): Promise<{ dp: Dataplane; e: ServiceEntry; host: string; port: number }> {
  const dp = new Dataplane(opts);
  t.teardown(() => dp.close());
  const e: ServiceEntry = { key: 'svc/UDP', address: vip(), port: 0, protocol: 'UDP', backends, ...over };
  const r = await dp.apply([e]);
  t.deepEqual(r.errors, []);
  const a = dp.address(e.key)!;
  return { dp, e, host: a.address, port: a.port };
}

/** Sends and waits for the next reply. */
async function ask(c: UdpClient, msg: string, host: string, port: number): Promise<string> {
  const before = c.replies.length;
  c.send(msg, host, port);
  await until(() => c.replies.length > before, 5000, `reply to ${msg}`);
  return c.replies[before]!.msg;
}

test('UDP round trip: the reply comes from the VIP address and port', async (t) => {
  const [a] = await servers(t, udpName('a'));
  const { host, port } = await serve(t, [a!.backend()]);
  const c = await client(t);
  t.is(await ask(c, 'hello', host, port), 'a:hello');
  t.is(c.replies[0]!.rinfo.address, host);
  t.is(c.replies[0]!.rinfo.port, port);
});

test('UDP flows: one backend per client address:port, round robin across clients', async (t) => {
  const [a, b] = await servers(t, udpName('a'), udpName('b'));
  const { dp, host, port } = await serve(t, [a!.backend(), b!.backend()]);
  const c1 = await client(t);
  const c2 = await client(t);
  t.is(await ask(c1, '1', host, port), 'a:1');
  t.is(await ask(c2, '1', host, port), 'b:1');
  t.is(await ask(c1, '2', host, port), 'a:2');
  t.is(await ask(c2, '2', host, port), 'b:2');
  t.like(dp.stats().get('svc/UDP'), { protocol: 'UDP', connections: 2, active: 2, udpPackets: 4, bytesIn: 4, bytesOut: 12 });
});

test('UDP flows expire after udpIdleMs; the next datagram opens a new one', async (t) => {
  const [a] = await servers(t, udpName('a'));
  const { dp, host, port } = await serve(t, [a!.backend()], { udpIdleMs: 100 });
  const c = await client(t);
  t.is(await ask(c, 'x', host, port), 'a:x');
  t.is(dp.stats().get('svc/UDP')!.active, 1);
  await until(() => dp.stats().get('svc/UDP')!.active === 0, 5000, 'flow expiry');
  t.is(await ask(c, 'y', host, port), 'a:y');
  t.like(dp.stats().get('svc/UDP'), { connections: 2, active: 1 });
});

test('UDP: a removed backend loses its flows at once; the client moves on', async (t) => {
  const [a, b] = await servers(t, udpName('a'), udpName('b'));
  const { dp, e, host, port } = await serve(t, [a!.backend(), b!.backend()]);
  const c = await client(t);
  t.is(await ask(c, '1', host, port), 'a:1');
  const r = await dp.apply([{ ...e, backends: [b!.backend()] }]);
  t.deepEqual(r.updated, ['svc/UDP']);
  t.is(dp.stats().get('svc/UDP')!.active, 0);
  t.is(await ask(c, '2', host, port), 'b:2');
  t.is(a!.received.length, 1);
});

test('UDP: no backend drops the datagram and counts a failure', async (t) => {
  const { dp, host, port } = await serve(t, []);
  const c = await client(t);
  c.send('lost', host, port);
  await until(() => dp.stats().get('svc/UDP')!.failures === 1, 5000, 'failure counted');
  t.is(c.replies.length, 0);
  t.is(dp.stats().get('svc/UDP')!.active, 0);
});

test('UDP: a dead backend (ICMP port unreachable) drops the flow; retries reach a live one', async (t) => {
  const [dead, b] = await servers(t, udpName('dead'), udpName('b'));
  const deadBackend = dead!.backend();
  await dead!.close();
  const { dp, host, port } = await serve(t, [deadBackend, b!.backend()]);
  const c = await client(t);
  // The first datagram goes to the dead backend; like a real client, keep resending until answered.
  await until(
    () => {
      if (c.replies.length > 0) return true;
      c.send('q', host, port);
      return false;
    },
    5000,
    'an answer from the live backend',
  );
  t.is(c.replies[0]!.msg, 'b:q');
  t.true(dp.stats().get('svc/UDP')!.connectErrors >= 1);
});

test('UDP: ClientIP affinity keeps new flows of one client on one backend', async (t) => {
  const [a, b] = await servers(t, udpName('a'), udpName('b'));
  const { host, port } = await serve(t, [a!.backend(), b!.backend()], {}, { affinity: { type: 'ClientIP', timeoutSeconds: 60 } });
  for (let i = 0; i < 3; i++) {
    const c = await client(t); // a new source port each time: a new flow
    t.is(await ask(c, `${i}`, host, port), `a:${i}`);
  }
});

test('UDP PROXY protocol v2: every datagram carries the client address', async (t) => {
  const [srv] = await servers(
    t,
    udpServer((m) => {
      const p = parseProxy(m);
      return JSON.stringify(p === undefined ? { error: 'incomplete' } : { ...p, rest: p.rest.toString() });
    }),
  );
  const { host, port } = await serve(t, [srv!.backend()], {}, { proxyProtocol: 'v2' });
  const c = await client(t);
  const local = c.socket.address();
  for (const payload of ['one', 'two']) {
    const got = JSON.parse(await ask(c, payload, host, port)) as Record<string, unknown>;
    t.like(got, {
      version: 2,
      command: 'PROXY',
      family: 'INET/DGRAM',
      source: local.address,
      sourcePort: local.port,
      destination: host,
      destinationPort: port,
      rest: payload,
    });
  }
});

test('UDP PROXY protocol v1 is refused as invalid (v1 has no UDP form)', async (t) => {
  const dp = new Dataplane();
  t.teardown(() => dp.close());
  const r = await dp.apply([{ key: 'u', address: vip(), port: 0, protocol: 'UDP', backends: [], proxyProtocol: 'v1' }]);
  t.is(r.errors[0]?.reason, 'Invalid');
  t.regex(r.errors[0]!.error, /v1 has no UDP form/);
});

test('UDP: at maxUdpFlows the oldest flow is evicted', async (t) => {
  const [a] = await servers(t, udpName('a'));
  const { dp, host, port } = await serve(t, [a!.backend()], { maxUdpFlows: 2 });
  const clients = [await client(t), await client(t), await client(t)];
  for (const c of clients) t.is(await ask(c, 'hi', host, port), 'a:hi');
  t.like(dp.stats().get('svc/UDP'), { connections: 3, active: 2 });
  // The evicted client just gets a new flow.
  t.is(await ask(clients[0]!, 'again', host, port), 'a:again');
  t.like(dp.stats().get('svc/UDP'), { connections: 4, active: 2 });
});
