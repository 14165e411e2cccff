// The encoded-reply cache: unit tests of the cache itself, then the server over real UDP/TCP
// sockets proving a changed zone is never answered from old bytes and IDs / spelling are right.
import test from 'ava';
import dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import { EncodedReplyCache, variantOf, type EncodedReply, type Variant } from './encoded-reply-cache.js';
import { ClusterZone } from './zone.js';
import { clusterIPService, headlessService, slice } from './fixtures.test-util.js';
import { encodeQuery, startServer, tcpExchange, udpExchange, until } from './net.test-util.js';
import type { QueryInfo } from './server.js';

const reply = (n: number, fill = 1): EncodedReply => ({ bytes: Buffer.alloc(n, fill), rcode: 'NOERROR', type: 'A', truncated: false });
const key = (s: string): string => `\x01\x00${s}`;

test('cache: a new zone serial empties it before answering', (t) => {
  const c = new EncodedReplyCache();
  c.set(0, key('a'), 7, reply(50));
  t.truthy(c.get(0, key('a'), 7));
  t.is(c.get(0, key('a'), 8), undefined);
  t.is(c.size, 0);
  // And stays empty for the old serial too: nothing computed before the change comes back.
  t.is(c.get(0, key('a'), 7), undefined);
});

test('cache: a reply stored under another serial than the current one replaces the cache', (t) => {
  const c = new EncodedReplyCache();
  c.set(0, key('a'), 1, reply(50));
  c.set(0, key('b'), 2, reply(50));
  t.is(c.get(0, key('a'), 2), undefined);
  t.truthy(c.get(0, key('b'), 2));
});

const variants: [string, 'udp' | 'tcp', boolean, Variant][] = [
  ['udp, no recursion', 'udp', false, 0],
  ['udp, recursion', 'udp', true, 1],
  ['tcp, no recursion', 'tcp', false, 2],
  ['tcp, recursion', 'tcp', true, 3],
];
for (const [name, proto, ra, want] of variants) {
  test(`cache: variant ${name} is kept apart`, (t) => {
    t.is(variantOf(proto, ra), want);
    const c = new EncodedReplyCache();
    c.set(variantOf(proto, ra), key('q'), 1, reply(20, want + 1));
    for (const [, p2, r2, v2] of variants) {
      const got = c.get(variantOf(p2, r2), key('q'), 1);
      if (v2 === want) t.is(got?.bytes[0], want + 1);
      else t.is(got, undefined);
    }
  });
}

test('cache: the byte budget evicts the oldest entries', (t) => {
  // Each entry costs its key + reply + 160 octets of overhead: 3 + 37 + 160 = 200.
  const c = new EncodedReplyCache({ maxBytes: 1000 });
  for (let i = 0; i < 8; i++) c.set(0, key(String(i)), 1, reply(37));
  t.is(c.size, 5);
  t.true(c.byteSize <= 1000);
  t.is(c.get(0, key('0'), 1), undefined);
  t.is(c.get(0, key('2'), 1), undefined);
  t.truthy(c.get(0, key('3'), 1));
  t.truthy(c.get(0, key('7'), 1));
});

test('cache: too long queries and replies are not kept; stored bytes are a copy', (t) => {
  const c = new EncodedReplyCache({ maxQueryBytes: 40, maxReplyBytes: 100 });
  t.is(c.keyOf(Buffer.alloc(11)), null);
  t.is(c.keyOf(Buffer.alloc(41)), null);
  const msg = Buffer.from('IDrest-of-the-query');
  t.is(c.keyOf(msg), 'rest-of-the-query');
  c.set(0, 'big', 1, reply(101));
  t.is(c.get(0, 'big', 1), undefined);
  const r = reply(10, 5);
  c.set(0, 'k', 1, r);
  r.bytes.fill(9);
  t.is(c.get(0, 'k', 1)?.bytes[0], 5);
});

function decode(b: Buffer | null): DecodedPacket & { rcode: string } {
  if (!b) throw new Error('no reply');
  return dnsPacket.decode(b) as DecodedPacket & { rcode: string };
}

async function serve(t: Parameters<typeof startServer>[0], zone: ClusterZone, replyCache?: false): Promise<{ port: number; seen: QueryInfo[] }> {
  const seen: QueryInfo[] = [];
  const { udpPort } = await startServer(t, { zone, forward: false, onQuery: (i) => seen.push(i), ...(replyCache === false ? { replyCache } : {}) });
  return { port: udpPort, seen };
}

test('server: a changed zone is never answered from cached bytes', async (t) => {
  const z = new ClusterZone();
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.5']));
  const { port, seen } = await serve(t, z);
  const ask = async (name: string, id: number): Promise<DecodedPacket & { rcode: string }> => decode(await udpExchange(port, encodeQuery(name, 'A', { id })));
  const addrs = (p: DecodedPacket): unknown[] => (p.answers ?? []).map((a) => (a.type === 'OPT' ? null : a.data));

  t.deepEqual(addrs(await ask('web.default.svc.cluster.local', 1)), ['127.96.0.5']);
  t.deepEqual(addrs(await ask('web.default.svc.cluster.local', 2)), ['127.96.0.5']);
  t.true(await until(() => seen.length >= 2));
  t.like(seen[0], { replyCacheHit: false });
  t.like(seen[1], { replyCacheHit: true });

  // The address moves: the next answer has the new one, computed afresh.
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.6']));
  t.deepEqual(addrs(await ask('web.default.svc.cluster.local', 3)), ['127.96.0.6']);
  t.true(await until(() => seen.length >= 3));
  t.like(seen[2], { replyCacheHit: false });

  // A cached NXDOMAIN does not outlive the Service's creation, nor a cached answer its deletion.
  const nx = await ask('new.default.svc.cluster.local', 4);
  t.is(nx.rcode, 'NXDOMAIN');
  t.is((await ask('new.default.svc.cluster.local', 5)).rcode, 'NXDOMAIN');
  z.upsertService(clusterIPService('default', 'new', ['127.96.0.7']));
  t.deepEqual(addrs(await ask('new.default.svc.cluster.local', 6)), ['127.96.0.7']);
  z.deleteService('default', 'new');
  t.is((await ask('new.default.svc.cluster.local', 7)).rcode, 'NXDOMAIN');

  // The SOA serial in negative answers is the current one.
  const soa = (await ask('nope.default.svc.cluster.local', 8)).authorities?.[0];
  t.like(soa, { type: 'SOA', data: { serial: z.serial } });
  z.upsertNamespace({ metadata: { name: 'other' } });
  t.like((await ask('nope.default.svc.cluster.local', 9)).authorities?.[0], { type: 'SOA', data: { serial: z.serial } });

  // Headless endpoints changing behind the same name.
  z.upsertService(headlessService('default', 'db'));
  z.upsertEndpointSlice(slice('default', 'db-a', 'db', [{ ip: '127.244.0.1' }]));
  t.deepEqual(addrs(await ask('db.default.svc.cluster.local', 10)), ['127.244.0.1']);
  z.upsertEndpointSlice(slice('default', 'db-a', 'db', [{ ip: '127.244.0.1', ready: false }, { ip: '127.244.0.2' }]));
  t.deepEqual(addrs(await ask('db.default.svc.cluster.local', 11)), ['127.244.0.2']);
});

test('server: every cached reply carries its own query ID and the question as spelled', async (t) => {
  const z = new ClusterZone();
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.5']));
  const { port, seen } = await serve(t, z);
  const spellings = ['web.default.svc.cluster.local', 'WEB.default.svc.cluster.local', 'Web.Default.Svc.Cluster.Local'];
  // Warm the cache, then many concurrent askers of the same questions with distinct IDs.
  for (const [i, name] of spellings.entries()) decode(await udpExchange(port, encodeQuery(name, 'A', { id: 60000 + i })));
  const asks = Array.from({ length: 60 }, (_, i) => ({ id: 1000 + i * 7, name: spellings[i % spellings.length]! }));
  const replies = await Promise.all(asks.map(async (a) => ({ a, r: decode(await udpExchange(port, encodeQuery(a.name, 'A', { id: a.id }))) })));
  for (const { a, r } of replies) {
    t.is(r.id, a.id);
    t.is(r.questions?.[0]?.name, a.name);
    t.like(r.answers?.[0], { name: a.name, type: 'A', data: '127.96.0.5' });
    t.true(r.flag_aa);
    t.true(r.flag_rd);
  }
  t.true(await until(() => seen.length >= 63));
  t.true(seen.slice(3).every((i) => i.replyCacheHit && i.rcode === 'NOERROR' && i.type === 'A'));
  // The RD bit is part of the question: asked without it, the reply does not claim it.
  const nord = decode(await udpExchange(port, encodeQuery('web.default.svc.cluster.local', 'A', { id: 5, rd: false })));
  t.false(nord.flag_rd);
  t.is(nord.id, 5);
});

test('server: EDNS payload size and transport decide truncation, cached or not', async (t) => {
  const z = new ClusterZone();
  z.upsertService(headlessService('default', 'mid'));
  // 40 A records ≈ 700 octets: more than 512, less than 4096.
  z.upsertEndpointSlice(slice('default', 'mid-a', 'mid', Array.from({ length: 40 }, (_, i) => ({ ip: `127.244.0.${i + 1}` }))));
  const seen: QueryInfo[] = [];
  const { udpPort, tcpPort } = await startServer(t, { zone: z, forward: false, onQuery: (i) => seen.push(i) });
  const name = 'mid.default.svc.cluster.local';
  for (let round = 0; round < 2; round++) {
    const plain = decode(await udpExchange(udpPort, encodeQuery(name, 'A', { id: 10 + round })));
    t.true(plain.flag_tc);
    t.is(plain.answers?.length, 0);
    const edns = decode(await udpExchange(udpPort, encodeQuery(name, 'A', { id: 20 + round, udpPayloadSize: 4096 })));
    t.false(edns.flag_tc);
    t.is(edns.answers?.length, 40);
    const [tcp] = await tcpExchange(tcpPort, [encodeQuery(name, 'A', { id: 30 + round })]);
    const overTcp = decode(tcp!);
    t.is(overTcp.id, 30 + round);
    t.false(overTcp.flag_tc);
    t.is(overTcp.answers?.length, 40);
  }
  t.true(await until(() => seen.length >= 6));
  t.deepEqual(seen.map((i) => [i.proto, i.truncated, i.replyCacheHit]), [
    ['udp', true, false],
    ['udp', false, false],
    ['tcp', false, false],
    ['udp', true, true],
    ['udp', false, true],
    ['tcp', false, true],
  ]);
});

test('server: replyCache false answers everything afresh', async (t) => {
  const z = new ClusterZone();
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.5']));
  const { port, seen } = await serve(t, z, false);
  for (let id = 1; id <= 3; id++) t.is(decode(await udpExchange(port, encodeQuery('web.default.svc.cluster.local', 'A', { id }))).id, id);
  t.true(await until(() => seen.length >= 3));
  t.true(seen.every((i) => !i.replyCacheHit));
});
