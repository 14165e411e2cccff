import test from 'ava';
import { COREDNS_DURATION_BUCKETS_MS, type QueryInfo } from '@knet/dns';
import { createDnsMetrics, pluginOf, typeLabel, TIME_BUCKETS } from './metrics.js';

const q = (over: Partial<QueryInfo>): QueryInfo => ({ rcode: 'NOERROR', type: 'A', durationMs: 1, proto: 'udp', forwarded: false, cacheHit: false, truncated: false, ...over });

test('pluginOf names the CoreDNS plugin that would have answered', (t) => {
  const cases: [Partial<QueryInfo>, string][] = [
    [{ rcode: 'NOERROR' }, 'kubernetes'],
    [{ rcode: 'NXDOMAIN' }, 'kubernetes'],
    [{ rcode: 'SERVFAIL' }, 'kubernetes'],
    [{ rcode: 'NOERROR', forwarded: true }, 'forward'],
    [{ rcode: 'SERVFAIL', forwarded: true }, 'forward'],
    [{ rcode: 'NOERROR', forwarded: true, cacheHit: true }, 'cache'],
    [{ rcode: 'REFUSED' }, ''],
    [{ rcode: 'FORMERR' }, ''],
    [{ rcode: 'NOTIMP' }, ''],
    [{ rcode: 'BADVERS' }, ''],
  ];
  for (const [info, plugin] of cases) t.is(pluginOf(q(info)), plugin, JSON.stringify(info));
});

test('typeLabel keeps the types CoreDNS monitors and lumps the rest into "other"', (t) => {
  const cases: [string, string][] = [['A', 'A'], ['AAAA', 'AAAA'], ['SRV', 'SRV'], ['PTR', 'PTR'], ['AXFR', 'AXFR'], ['WKS', 'other'], ['', 'other'], ['UNKNOWN_999', 'other']];
  for (const [type, label] of cases) t.is(typeLabel(type), label, type);
});

test('the exposition has CoreDNS names, labels and cumulative buckets', async (t) => {
  const m = createDnsMetrics({ server: 'dns://127.0.0.1:10053', family: '1' }, () => ({ services: 3, endpointSlices: 2, pods: 1, namespaces: 4 }));
  m.record(q({ durationMs: 0.1 }));
  m.record(q({ durationMs: 0.25 }));
  m.record(q({ durationMs: 3, rcode: 'NXDOMAIN' }));
  m.record(q({ type: 'TXT', proto: 'tcp', durationMs: 20000 }));
  m.record(q({ forwarded: true }));
  m.setServer('dns://127.0.0.1:5353');
  const text = await m.registry.metrics();
  const line = (prefix: string): string | undefined => text.split('\n').find((l) => l.startsWith(prefix));
  const base = 'server="dns://127.0.0.1:5353",zone=".",view=""';
  t.is(line(`coredns_dns_requests_total{${base},proto="udp",family="1",type="A"}`), `coredns_dns_requests_total{${base},proto="udp",family="1",type="A"} 4`);
  t.is(line(`coredns_dns_requests_total{${base},proto="tcp",family="1",type="TXT"}`)?.split(' ')[1], '1');
  t.is(line(`coredns_dns_responses_total{${base},rcode="NOERROR",plugin="kubernetes"}`)?.split(' ')[1], '3');
  t.is(line(`coredns_dns_responses_total{${base},rcode="NXDOMAIN",plugin="kubernetes"}`)?.split(' ')[1], '1');
  t.is(line(`coredns_dns_responses_total{${base},rcode="NOERROR",plugin="forward"}`)?.split(' ')[1], '1');
  const bucket = (type: string, le: string): string | undefined => line(`coredns_dns_request_duration_seconds_bucket{${base},type="${type}",le="${le}"}`)?.split(' ')[1];
  t.is(bucket('A', '0.00025'), '2', '0.1 ms and exactly 0.25 ms are ≤ 0.25 ms');
  t.is(bucket('A', '0.002'), '3');
  t.is(bucket('A', '0.004'), '4');
  t.is(bucket('A', '+Inf'), '4');
  t.is(bucket('TXT', String(TIME_BUCKETS[TIME_BUCKETS.length - 1])), '0', '20 s is past the last bucket');
  t.is(bucket('TXT', '+Inf'), '1');
  t.is(line(`coredns_dns_request_duration_seconds_count{${base},type="A"}`)?.split(' ')[1], '4');
  t.is(Number(line(`coredns_dns_request_duration_seconds_sum{${base},type="TXT"}`)?.split(' ')[1]), 20);
  t.is(line('knet_dns_zone_objects{kind="services"}'), 'knet_dns_zone_objects{kind="services"} 3');
  t.regex(text, /# TYPE coredns_dns_request_duration_seconds histogram/);
});

test('a tally of queries answered in C counts as that many recorded queries, in the same buckets', async (t) => {
  // The wire server buckets C's hits by its default bounds: CoreDNS's, the same as TIME_BUCKETS.
  t.deepEqual(COREDNS_DURATION_BUCKETS_MS.map((ms) => ms / 1000), TIME_BUCKETS);
  const one = createDnsMetrics({ server: 's', family: '1' }, () => ({ services: 0, endpointSlices: 0, pods: 0, namespaces: 0 }));
  const bulk = createDnsMetrics({ server: 's', family: '1' }, () => ({ services: 0, endpointSlices: 0, pods: 0, namespaces: 0 }));
  const info = q({ durationMs: 0.5, rcode: 'NXDOMAIN', type: 'AAAA', replyCacheHit: true });
  for (const ms of [0.001, 0.002, 0.4]) one.record({ ...info, durationMs: ms });
  const bucketCounts = new Array<number>(TIME_BUCKETS.length + 1).fill(0);
  bucketCounts[0] = 2;
  bucketCounts[1] = 1;
  bulk.recordTally({ info, count: 3, durationSumMs: 0.403, bucketCounts });
  const strip = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('coredns_dns_') && !l.includes('_sum'));
  t.deepEqual(strip(await bulk.registry.metrics()), strip(await one.registry.metrics()));
  const sum = async (m: typeof one): Promise<number> => Number((await m.registry.metrics()).split('\n').find((l) => l.startsWith('coredns_dns_request_duration_seconds_sum'))?.split(' ')[1]);
  t.true(Math.abs((await sum(bulk)) - (await sum(one))) < 1e-12);
});
