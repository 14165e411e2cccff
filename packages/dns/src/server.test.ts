import test from 'ava';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, OptAnswer } from 'dns-packet';
import { ClusterZone } from './zone.js';
import { clusterIPService, headlessService, slice } from './fixtures.test-util.js';
import { dig, digRecords, encodeQuery, startServer, tcpExchange, udpExchange, udpQuery, until, UDP_PATH } from './net.test-util.js';
import { createDnsServer, type QueryInfo } from './server.js';

function zone(): ClusterZone {
  const z = new ClusterZone({ nameservers: ['127.96.0.10'] });
  z.upsertService(clusterIPService('default', 'web', ['127.96.0.5', 'fd00::5'], [{ name: 'http', port: 80, protocol: 'TCP' }]));
  z.upsertService(headlessService('default', 'big', [{ name: 'p', port: 7000 }]));
  const eps = Array.from({ length: 120 }, (_, i) => ({ ip: `127.244.${1 + Math.floor(i / 200)}.${(i % 200) + 1}` }));
  z.upsertEndpointSlice(slice('default', 'big-a', 'big', eps.slice(0, 100), [{ name: 'p', port: 7000 }]));
  z.upsertEndpointSlice(slice('default', 'big-b', 'big', eps.slice(100), [{ name: 'p', port: 7000 }]));
  z.upsertService(headlessService('default', 'mid', []));
  z.upsertEndpointSlice(slice('default', 'mid-a', 'mid', eps.slice(0, 40)));
  return z;
}

test('dig: A over UDP, authoritative, question case preserved', async (t) => {
  const { udpPort } = await startServer(t, { zone: zone(), forward: false });
  const out = await dig(udpPort, ['WEB.default.svc.Cluster.Local', 'A', '+norecurse']);
  t.regex(out, /status: NOERROR/);
  t.regex(out, /flags: qr aa;/);
  t.regex(out, /^WEB\.default\.svc\.Cluster\.Local\.\s+5\s+IN\s+A\s+127\.96\.0\.5$/m);
  const aaaa = await dig(udpPort, ['web.default.svc.cluster.local', 'AAAA', '+short']);
  t.is(aaaa.trim(), 'fd00::5');
});

test('dig: SRV over TCP with glue, NXDOMAIN and NODATA with SOA', async (t) => {
  const { udpPort, tcpPort } = await startServer(t, { zone: zone(), forward: false });
  t.is(udpPort, tcpPort);
  const srv = await dig(tcpPort, ['+tcp', '_http._tcp.web.default.svc.cluster.local', 'SRV']);
  t.regex(srv, /\(TCP\)/);
  t.deepEqual(digRecords(srv, 'SRV'), ['0 50 80 web.default.svc.cluster.local.']);
  t.deepEqual(digRecords(srv, 'A'), ['127.96.0.5']);
  t.deepEqual(digRecords(srv, 'AAAA'), ['fd00::5']);
  const nx = await dig(udpPort, ['nope.default.svc.cluster.local', 'A']);
  t.regex(nx, /status: NXDOMAIN/);
  t.regex(nx, /^cluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/m);
  const nodata = await dig(udpPort, ['default.svc.cluster.local', 'A']);
  t.regex(nodata, /status: NOERROR/);
  t.regex(nodata, /ANSWER: 0, AUTHORITY: 1/);
  const ptr = await dig(udpPort, ['-x', '127.96.0.5', '+short']);
  t.is(ptr.trim(), 'web.default.svc.cluster.local.');
  const txt = await dig(udpPort, ['dns-version.cluster.local', 'TXT', '+short']);
  t.is(txt.trim(), '"1.1.0"');
});

test('dig: a big answer over UDP is truncated and dig retries on TCP', async (t) => {
  const { udpPort } = await startServer(t, { zone: zone(), forward: false });
  const out = await dig(udpPort, ['+notcp', '+bufsize=1232', 'big.default.svc.cluster.local', 'A']);
  t.regex(out, /Truncated, retrying in TCP mode/);
  t.is(digRecords(out, 'A').length, 120);
  const ignored = await dig(udpPort, ['+notcp', '+ignore', '+bufsize=512', 'big.default.svc.cluster.local', 'A']);
  t.regex(ignored, /flags: qr aa tc rd;/);
  t.regex(ignored, /ANSWER: 0,/);
});

test('EDNS: the client payload size decides truncation and OPT is echoed', async (t) => {
  const { udpPort } = await startServer(t, { zone: zone(), forward: false });
  // 40 A records ≈ 700 octets: too big for 512, fine for 4096.
  const plain = await udpQuery(udpPort, encodeQuery('mid.default.svc.cluster.local', 'A'));
  t.true(plain.flag_tc);
  t.is(plain.answers?.length, 0);
  t.is(plain.additionals?.length, 0);
  const edns = await udpQuery(udpPort, encodeQuery('mid.default.svc.cluster.local', 'A', { udpPayloadSize: 4096 }));
  t.false(edns.flag_tc);
  t.is(edns.answers?.length, 40);
  const opt = edns.additionals?.find((a) => a.type === 'OPT') as OptAnswer | undefined;
  t.truthy(opt);
  t.is(opt?.ednsVersion, 0);
  // A small EDNS size below 512 still means 512.
  const small = await udpQuery(udpPort, encodeQuery('web.default.svc.cluster.local', 'A', { udpPayloadSize: 100 }));
  t.is(small.answers?.length, 1);
  // An EDNS version we do not speak: BADVERS (extended rcode 1).
  const bad = await udpQuery(udpPort, encodeQuery('web.default.svc.cluster.local', 'A', { udpPayloadSize: 1232, ednsVersion: 1 }));
  const badOpt = bad.additionals?.find((a) => a.type === 'OPT') as OptAnswer | undefined;
  t.is(badOpt?.extendedRcode, 1);
  t.is(bad.answers?.length, 0);
});

test('malformed, unsupported and odd messages', async (t) => {
  const { udpPort } = await startServer(t, { zone: zone(), forward: false });
  const valid = encodeQuery('web.default.svc.cluster.local', 'A', { id: 77 });
  // Header readable, body garbage: FORMERR with the same id.
  const garbage = Buffer.concat([valid.subarray(0, 12), Buffer.from([0xff, 0xff, 0xff])]);
  const fe = dnsPacket.decode((await udpExchange(udpPort, garbage))!) as DecodedPacket & { rcode: string };
  t.is(fe.id, 77);
  t.is(fe.rcode, 'FORMERR');
  // qdcount 2.
  const two = Buffer.from(valid);
  two.writeUInt16BE(2, 4);
  t.is(((await udpQuery(udpPort, two)) as { rcode: string }).rcode, 'FORMERR');
  // qdcount 0.
  const zero = Buffer.from(valid.subarray(0, 12));
  zero.writeUInt16BE(0, 4);
  t.is((await udpQuery(udpPort, zero)).rcode, 'FORMERR');
  // opcode STATUS (2): NOTIMP.
  const status = Buffer.from(valid);
  status.writeUInt16BE(status.readUInt16BE(2) | (2 << 11), 2);
  const ni = await udpQuery(udpPort, status);
  t.is(ni.rcode, 'NOTIMP');
  t.is((ni as unknown as { opcode: string }).opcode, 'STATUS');
  // Too short for a header, or a response: silently dropped.
  t.is(await udpExchange(udpPort, Buffer.from([1, 2, 3]), 300), null);
  const resp = Buffer.from(valid);
  resp.writeUInt16BE(resp.readUInt16BE(2) | 0x8000, 2);
  t.is(await udpExchange(udpPort, resp, 300), null);
  // A class dns-packet has no name for: REFUSED (header only).
  const klass = Buffer.from(valid);
  klass.writeUInt16BE(77, klass.length - 2);
  t.is((await udpQuery(udpPort, klass)).rcode, 'REFUSED');
  // Still fine afterwards.
  t.is((await udpQuery(udpPort, valid)).answers?.length, 1);
});

test('TCP: several pipelined queries on one connection, and the idle timeout closes it', async (t) => {
  const { tcpPort } = await startServer(t, { zone: zone(), forward: false, tcpIdleTimeoutMs: 300 });
  const names = ['web.default.svc.cluster.local', 'big.default.svc.cluster.local', 'nope.default.svc.cluster.local'];
  const replies = await tcpExchange(tcpPort, names.map((n, i) => encodeQuery(n, 'A', { id: 100 + i })));
  const byId = new Map(replies.map((r) => dnsPacket.decode(r)).map((p) => [p.id, p as DecodedPacket & { rcode: string }]));
  t.is(byId.get(100)?.answers?.length, 1);
  t.is(byId.get(101)?.answers?.length, 120);
  t.false(byId.get(101)?.flag_tc);
  t.is(byId.get(102)?.rcode, 'NXDOMAIN');
  // A connection that sends nothing is closed by the server.
  const c = net.connect({ host: '127.0.0.1', port: tcpPort });
  t.teardown(() => c.destroy());
  let closed = false;
  c.on('close', () => (closed = true));
  c.on('error', () => undefined);
  t.true(await until(() => closed, 5000));
});

test('TCP: a message split across writes is reassembled', async (t) => {
  const { tcpPort } = await startServer(t, { zone: zone(), forward: false });
  const q = encodeQuery('web.default.svc.cluster.local', 'A', { id: 9 });
  const framed = Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port: tcpPort });
    t.teardown(() => c.destroy());
    c.on('error', reject);
    c.on('connect', () => {
      c.write(framed.subarray(0, 1));
      setImmediate(() => {
        c.write(framed.subarray(1, 10));
        setImmediate(() => c.write(framed.subarray(10)));
      });
    });
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf.subarray(2));
    });
  });
  t.like(dnsPacket.decode(reply).answers?.[0], { type: 'A', data: '127.96.0.5' });
});

test('out-of-zone names are refused when forwarding is off, and onQuery reports every query', async (t) => {
  const seen: QueryInfo[] = [];
  const { udpPort } = await startServer(t, { zone: zone(), forward: false, onQuery: (i) => seen.push(i) });
  const r = await udpQuery(udpPort, encodeQuery('example.com', 'A'));
  t.is(r.rcode, 'REFUSED');
  t.false(r.flag_aa);
  t.false(r.flag_ra);
  await udpQuery(udpPort, encodeQuery('web.default.svc.cluster.local', 'SRV'));
  t.true(await until(() => seen.length >= 2));
  t.like(seen[0], { rcode: 'REFUSED', type: 'A', proto: 'udp', forwarded: false });
  t.like(seen[1], { rcode: 'NOERROR', type: 'SRV', proto: 'udp' });
  t.true(seen[1]!.durationMs >= 0);
});

test('listening on ::1 works when the host has IPv6 loopback', async (t) => {
  const srv = createDnsServer({ zone: zone(), forward: false, udp: { address: '::1', port: 0 }, udpPath: UDP_PATH });
  t.teardown(() => srv.close());
  let port: number;
  try {
    ({ udpPort: port } = await srv.listen());
  } catch (err) {
    // No IPv6 loopback on this host: the error must say what failed.
    t.regex((err as Error).message, /cannot bind ::1:0\/udp/);
    return;
  }
  const out = await dig(port, ['+short', 'web.default.svc.cluster.local'], '::1');
  t.is(out.trim(), '127.96.0.5');
});

test('a port that is taken gives a clear error', async (t) => {
  const first = await startServer(t, { zone: zone(), forward: false, udp: false, tcp: { port: 0 } });
  const srv = createDnsServer({ zone: zone(), forward: false, udp: false, tcp: { port: first.tcpPort } });
  t.teardown(() => srv.close());
  await t.throwsAsync(srv.listen(), { message: new RegExp(`cannot bind 127.0.0.1:${first.tcpPort}/tcp`) });
});
