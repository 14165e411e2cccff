// The native UDP path (native/knet_dns.c) on its own: that it is what Linux gets by default, the C table's rules,
// what it reports for the queries it answers without JS, the ACL it applies, and closing mid-batch.
// The wire tests (server, encoded-reply-cache, forward, fuzz) run against both paths (package.json).
import test from 'ava';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import { ClusterZone } from './zone.js';
import { clusterIPService } from './fixtures.test-util.js';
import { encodeQuery, startServer, tcpExchange, udpExchange, until } from './net.test-util.js';
import { createDnsServer, type QueryInfo, type QueryTally } from './server.js';
import { nativeAddon, nativeUnavailable } from './native.js';
import { NativeReplyTable } from './native-reply-table.js';

const linux = process.platform === 'linux';

function zone(): ClusterZone {
  const z = new ClusterZone();
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.5']));
  return z;
}

function decode(b: Buffer | null): DecodedPacket & { rcode: string } {
  if (!b) throw new Error('no reply');
  return dnsPacket.decode(b) as DecodedPacket & { rcode: string };
}

test('on Linux the native UDP path is what a server gets by default (a failed addon build fails here)', (t) => {
  const srv = createDnsServer({ zone: zone() });
  if (!linux) {
    t.is(srv.udpPath, 'js');
    return;
  }
  t.is(nativeUnavailable(), '');
  t.is(srv.udpPath, 'native');
  t.is(createDnsServer({ zone: zone(), udpPath: 'js' }).udpPath, 'js');
  t.is(createDnsServer({ zone: zone(), udpPath: 'native' }).udpPath, 'native');
});

// The addon's own tests exist where it does (the first test covers the other platforms).
const maybe = linux ? test : (): void => undefined;

maybe('C table: keep, lookup with the asker ID, a new serial empties it, bounds hold', (t) => {
  const table = new NativeReplyTable(nativeAddon()!, { maxBytes: 1000, maxQueryBytes: 60, maxReplyBytes: 100 }, [1, 2]);
  const q = (id: number, name = 'web.default.svc.cluster.local'): Buffer => encodeQuery(name, 'A', { id });
  const meta = { rcode: 'NOERROR' as const, type: 'A', truncated: false };
  const reply = Buffer.alloc(40, 7);
  table.setSerial(5);
  table.keep(0, q(1), 5, reply, meta);
  reply.fill(9); // stored bytes are a copy
  const hit = table.lookup(0, q(0xabcd), 5);
  t.deepEqual(hit?.meta, meta);
  t.is(hit?.reply.readUInt16BE(0), 0xabcd);
  t.is(hit?.reply[2], 7);
  t.is(hit?.reply.length, 40);
  t.is(table.lookup(1, q(2), 5), null); // another variant
  t.is(table.lookup(0, q(2, 'WEB.default.svc.cluster.local'), 5), null); // another spelling
  t.is(table.lookup(0, q(3), 6), null); // a new serial...
  t.is(table.size, 0); // ...emptied it
  t.is(table.lookup(0, q(3), 5), null); // and nothing older comes back
  table.keep(0, q(1), 6, Buffer.alloc(101), meta);
  t.is(table.size, 0); // reply over maxReplyBytes
  table.keep(0, Buffer.alloc(61), 6, reply, meta);
  t.is(table.size, 0); // query over maxQueryBytes
  for (let i = 0; i < 10; i++) table.keep(0, q(1, `s${i}.default.svc.cluster.local`), 6, reply, meta);
  t.true(table.byteSize <= 1000);
  t.true(table.size >= 3 && table.size < 10);
  t.is(table.lookup(0, q(1, 's0.default.svc.cluster.local'), 6), null); // the oldest went first
  t.truthy(table.lookup(0, q(1, 's9.default.svc.cluster.local'), 6));
  table.clear();
  t.is(table.size, 0);
});

maybe('native: hits answered in C are tallied by kind and duration, and reach onQuery without a tally hook', async (t) => {
  const tallies: QueryTally[] = [];
  const srv = createDnsServer({ zone: zone(), forward: false, udpPath: 'native', onQueryTally: (x) => tallies.push(x), durationBucketsMs: [1000] });
  t.teardown(() => srv.close());
  const { udpPort } = await srv.listen();
  for (let id = 1; id <= 5; id++) t.is(decode(await udpExchange(udpPort, encodeQuery('web.default.svc.cluster.local', 'A', { id }))).id, id);
  decode(await udpExchange(udpPort, encodeQuery('nope.default.svc.cluster.local', 'A')));
  decode(await udpExchange(udpPort, encodeQuery('nope.default.svc.cluster.local', 'A')));
  srv.flushQueryTallies();
  const byRcode = new Map(tallies.map((x) => [x.info.rcode, x]));
  t.like(byRcode.get('NOERROR'), { count: 4, info: { type: 'A', proto: 'udp', replyCacheHit: true, forwarded: false, truncated: false } });
  t.like(byRcode.get('NXDOMAIN'), { count: 1 });
  t.deepEqual(byRcode.get('NOERROR')?.bucketCounts, [4, 0]);
  t.true(byRcode.get('NOERROR')!.durationSumMs > 0);
  // Flushed once: nothing left to report.
  const before = tallies.length;
  srv.flushQueryTallies();
  t.is(tallies.length, before);

  const seen: QueryInfo[] = [];
  const { udpPort: p2 } = await startServer(t, { zone: zone(), forward: false, udpPath: 'native', onQuery: (i) => seen.push(i) });
  for (let id = 1; id <= 3; id++) await udpExchange(p2, encodeQuery('web.default.svc.cluster.local', 'A', { id }));
  t.true(await until(() => seen.length >= 3));
  t.deepEqual(seen.map((i) => i.replyCacheHit), [false, true, true]);
});

maybe('native: TCP questions are answered from the same C table', async (t) => {
  const seen: QueryInfo[] = [];
  const { tcpPort } = await startServer(t, { zone: zone(), forward: false, udpPath: 'native', onQuery: (i) => seen.push(i) });
  const q = (id: number): Buffer => encodeQuery('web.default.svc.cluster.local', 'A', { id });
  const [a, b] = await tcpExchange(tcpPort, [q(1), q(2)]);
  t.deepEqual([decode(a!).id, decode(b!).id].sort(), [1, 2]);
  t.deepEqual(seen.map((i) => [i.proto, i.replyCacheHit]), [['tcp', false], ['tcp', true]]);
});

/** One query from a socket bound to `from` (a loopback address), answered on `port`. */
function askFrom(from: string, port: number, id: number): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no reply'));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(dnsPacket.decode(m));
    });
    s.bind(0, from, () => s.send(encodeQuery('web.default.svc.cluster.local', 'A', { id }), port, '127.0.0.1'));
  });
}

maybe('native: RA in answers from the C table follows the forwarding ACL per client', async (t) => {
  // The upstream is never asked: every question here is in the zone.
  const { udpPort } = await startServer(t, { zone: zone(), udpPath: 'native', forward: { upstreams: ['127.0.0.1:9'], allowFrom: ['127.0.0.2/32', 'fd00::/8'] } });
  for (let round = 0; round < 3; round++) {
    const allowed = await askFrom('127.0.0.2', udpPort, 10 + round);
    const other = await askFrom('127.0.0.1', udpPort, 20 + round);
    t.true(allowed.flag_ra, `round ${round}: 127.0.0.2 may recurse`);
    t.false(other.flag_ra, `round ${round}: 127.0.0.1 may not`);
    t.is(allowed.id, 10 + round);
    t.is(other.id, 20 + round);
  }
});

maybe('native: over IPv6 the ACL matches IPv6 prefixes', async (t) => {
  // RA of 3 answers to the same question, and how many came from the C table (whose variant C picks by its ACL).
  const ask = async (allowFrom: string[]): Promise<{ ra: boolean[]; hits: number } | null> => {
    const seen: QueryInfo[] = [];
    const srv = createDnsServer({ zone: zone(), udpPath: 'native', udp: { address: '::1', port: 0 }, tcp: false, forward: { upstreams: ['127.0.0.1:9'], allowFrom }, onQuery: (i) => seen.push(i) });
    t.teardown(() => srv.close());
    let port: number;
    try {
      ({ udpPort: port } = await srv.listen());
    } catch {
      return null; // no IPv6 loopback here
    }
    const out: boolean[] = [];
    for (let id = 1; id <= 3; id++) {
      const s = dgram.createSocket('udp6');
      const reply = new Promise<DecodedPacket>((resolve) => s.once('message', (m) => resolve(dnsPacket.decode(m))));
      s.send(encodeQuery('web.default.svc.cluster.local', 'A', { id }), port, '::1');
      out.push((await reply).flag_ra);
      s.close();
    }
    srv.flushQueryTallies();
    return { ra: out, hits: seen.filter((i) => i.replyCacheHit).length };
  };
  const allowed = await ask(['127.0.0.0/8', '::1/128']);
  if (allowed === null) return t.pass('no IPv6 loopback on this host');
  t.deepEqual(allowed, { ra: [true, true, true], hits: 2 });
  t.deepEqual(await ask(['127.0.0.0/8', 'fd00::/8']), { ra: [false, false, false], hits: 2 });
});

maybe('native: a UDP port that is taken gives a clear error', async (t) => {
  const first = await startServer(t, { zone: zone(), forward: false, udpPath: 'native', udp: { port: 0 }, tcp: false });
  const srv = createDnsServer({ zone: zone(), forward: false, udpPath: 'native', udp: { port: first.udpPort }, tcp: false });
  t.teardown(() => srv.close());
  await t.throwsAsync(srv.listen(), { message: new RegExp(`cannot bind 127.0.0.1:${first.udpPort}/udp: bind EADDRINUSE`) });
});

maybe('native: close() from inside a query does not break the process, and a new server answers', async (t) => {
  let srv: ReturnType<typeof createDnsServer> | null = null;
  const closed: Promise<void>[] = [];
  srv = createDnsServer({ zone: zone(), forward: false, udpPath: 'native', udp: {}, tcp: false, onQuery: () => void (srv && closed.push(srv.close())) });
  const { udpPort } = await srv.listen();
  const s = dgram.createSocket('udp4');
  for (let i = 0; i < 50; i++) s.send(encodeQuery(`n${i}.default.svc.cluster.local`, 'A', { id: i }), udpPort, '127.0.0.1');
  t.true(await until(() => closed.length > 0));
  await Promise.all(closed);
  s.close();
  const { udpPort: again } = await startServer(t, { zone: zone(), forward: false, udpPath: 'native' });
  t.is(decode(await udpExchange(again, encodeQuery('web.default.svc.cluster.local', 'A'))).answers?.length, 1);
});
