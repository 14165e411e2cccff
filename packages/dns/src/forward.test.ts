import test from 'ava';
import dgram from 'node:dgram';
import { ClusterZone } from './zone.js';
import { clusterIPService, headlessService, slice } from './fixtures.test-util.js';
import { dig, digRecords, encodeQuery, startServer, tcpExchange, udpQuery, until } from './net.test-util.js';
import type { QueryInfo } from './server.js';
import dnsPacket from 'dns-packet';

/** A second instance of our own server, authoritative for example.test, acting as the upstream. */
async function upstream(t: Parameters<typeof startServer>[0]): Promise<{ port: number; seen: QueryInfo[] }> {
  const z = new ClusterZone({ clusterDomain: 'example.test', ttl: 30 });
  z.upsertService(clusterIPService('default', 'web', ['127.96.1.5']));
  z.upsertService(headlessService('default', 'big', [{ name: 'p', port: 1 }]));
  z.upsertEndpointSlice(slice('default', 'big-a', 'big', Array.from({ length: 90 }, (_, i) => ({ ip: `127.244.9.${i + 1}` })), [{ name: 'p', port: 1 }]));
  const seen: QueryInfo[] = [];
  const { udpPort } = await startServer(t, { zone: z, forward: false, onQuery: (i) => seen.push(i) });
  return { port: udpPort, seen };
}

test('out-of-zone names are forwarded for allowed clients, and cached', async (t) => {
  const up = await upstream(t);
  const seen: QueryInfo[] = [];
  const { udpPort } = await startServer(t, {
    zone: new ClusterZone(),
    forward: { upstreams: [`127.0.0.1:${up.port}`], allowFrom: ['127.0.0.0/8'] },
    onQuery: (i) => seen.push(i),
  });
  const out = await dig(udpPort, ['Web.Default.svc.example.test', 'A']);
  t.regex(out, /status: NOERROR/);
  t.regex(out, /flags: qr rd ra;/); // not authoritative: we only relay
  t.regex(out, /^Web\.Default\.svc\.example\.test\.\s+30\s+IN\s+A\s+127\.96\.1\.5$/m);
  t.is(up.seen.length, 1);
  // Second time from the cache: the upstream sees nothing new.
  const again = await dig(udpPort, ['web.default.svc.example.test', 'A']);
  t.regex(again, /^web\.default\.svc\.example\.test\.\s+\d+\s+IN\s+A\s+127\.96\.1\.5$/m);
  t.is(up.seen.length, 1);
  t.true(await until(() => seen.length >= 2));
  t.like(seen[1], { forwarded: true, cacheHit: true, replyCacheHit: false }); // forwarded answers age: never replayed as bytes
  // Negative answers are relayed (and cached by the SOA minimum).
  const nx = await dig(udpPort, ['nope.default.svc.example.test', 'A']);
  t.regex(nx, /status: NXDOMAIN/);
  t.regex(nx, /example\.test\.\s+\d+\s+IN\s+SOA/);
  await dig(udpPort, ['nope.default.svc.example.test', 'A']);
  t.is(up.seen.length, 2);
});

test('clients outside allowFrom are refused for out-of-zone names but still get the zone', async (t) => {
  const up = await upstream(t);
  const { udpPort } = await startServer(t, {
    zone: (() => {
      const z = new ClusterZone();
      z.upsertService(clusterIPService('default', 'k', ['127.96.0.1']));
      return z;
    })(),
    // A documentation range (data only, no traffic): 127.0.0.1 is outside it.
    forward: { upstreams: [`127.0.0.1:${up.port}`], allowFrom: ['198.51.100.0/24', 'fd00::/8'] },
  });
  const r = await udpQuery(udpPort, encodeQuery('web.default.svc.example.test', 'A'));
  t.is(r.rcode, 'REFUSED');
  t.false(r.flag_ra);
  t.is(up.seen.length, 0);
  const own = await udpQuery(udpPort, encodeQuery('k.default.svc.cluster.local', 'A'));
  t.is(own.rcode, 'NOERROR');
  t.true(own.flag_aa);
});

test('an upstream that never answers gives SERVFAIL after the retries', async (t) => {
  // A socket that swallows every query.
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sink.close());
  let received = 0;
  sink.on('message', () => received++);
  const { udpPort } = await startServer(t, {
    zone: new ClusterZone(),
    forward: { upstreams: [`127.0.0.1:${sink.address().port}`], allowFrom: ['127.0.0.1/32'], timeoutMs: 150, attempts: 3 },
  });
  const r = await udpQuery(udpPort, encodeQuery('example.org', 'A'));
  t.is(r.rcode, 'SERVFAIL');
  t.is(received, 3);
});

test('a dead upstream is skipped for the next one', async (t) => {
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sink.close());
  const up = await upstream(t);
  const { udpPort } = await startServer(t, {
    zone: new ClusterZone(),
    forward: { upstreams: [`127.0.0.1:${sink.address().port}`, `127.0.0.1:${up.port}`], allowFrom: ['127.0.0.0/8'], timeoutMs: 150 },
  });
  const r = await udpQuery(udpPort, encodeQuery('web.default.svc.example.test', 'A'));
  t.is(r.rcode, 'NOERROR');
  t.like(r.answers?.[0], { type: 'A', data: '127.96.1.5' });
});

test('a truncated upstream reply is fetched again over TCP; the client gets it whole on TCP', async (t) => {
  const up = await upstream(t);
  const { tcpPort, udpPort } = await startServer(t, {
    zone: new ClusterZone(),
    forward: { upstreams: [`127.0.0.1:${up.port}`], allowFrom: ['127.0.0.0/8'], cache: false },
  });
  const [reply] = await tcpExchange(tcpPort, [encodeQuery('big.default.svc.example.test', 'A', { id: 5 })]);
  const p = dnsPacket.decode(reply!);
  t.is(p.answers?.length, 90);
  t.true(up.seen.some((i) => i.proto === 'tcp'));
  // Over UDP without EDNS the same answer does not fit: TC, and dig retries on TCP.
  const out = await dig(udpPort, ['+notcp', '+noedns', 'big.default.svc.example.test', 'A']);
  t.regex(out, /Truncated, retrying in TCP mode/);
  t.is(digRecords(out, 'A').length, 90);
});

test('bad forward configuration is a clear error', async (t) => {
  const { createDnsServer } = await import('./server.js');
  t.throws(() => createDnsServer({ zone: new ClusterZone(), forward: { upstreams: ['nonsense:x'], allowFrom: [] } }), { message: /invalid upstream "nonsense:x"/ });
  t.throws(() => createDnsServer({ zone: new ClusterZone(), forward: { upstreams: ['127.0.0.1'], allowFrom: ['127.0.0.0/33'] } }), { message: /invalid CIDR in allowFrom: "127.0.0.0\/33"/ });
  t.throws(() => createDnsServer({ zone: new ClusterZone(), forward: { upstreams: [], allowFrom: [] } }), { message: /invalid upstream/ });
});

test('identical questions in flight share one upstream query', async (t) => {
  const up = await upstream(t);
  const { udpPort } = await startServer(t, {
    zone: new ClusterZone(),
    forward: { upstreams: [`127.0.0.1:${up.port}`], allowFrom: ['127.0.0.0/8'], cache: false },
  });
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => udpQuery(udpPort, encodeQuery('web.default.svc.example.test', 'A', { id: i }))));
  for (const [i, r] of replies.entries()) {
    t.is(r.id, i);
    t.like(r.answers?.[0], { type: 'A', data: '127.96.1.5' });
  }
  t.true(up.seen.length < 20, `upstream saw ${up.seen.length} queries`);
});
