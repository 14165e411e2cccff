// The real dns process against a real local cluster (`knet up`: apiserver + ipam), driven by dig.
// Objects are written through the REST API; every process is stopped by PID in the teardown.
import test from 'ava';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { EndpointSlice, Service } from '@knet/api';
import { KubeClient, loadKubeconfig, resources } from '@knet/client';
import { startCluster, type TestCluster } from '@knet/knet-app/testing';
import { dig, rdata, startUpstream, until, type DigResult } from './dig.test-util.js';
import { startDns, type DnsProcess } from './testing.js';

const NS = 'dns-test';
const ZONE = 'cluster.local';

let cluster: TestCluster;
let client: KubeClient;
let dns: DnsProcess;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
const stops: (() => Promise<unknown>)[] = [];

test.before(async () => {
  cluster = await startCluster();
  stops.push(() => cluster.stop());
  client = new KubeClient(await loadKubeconfig(cluster.kubeconfig));
  stops.push(() => client.close());
  upstream = await startUpstream('127.1.2.3');
  stops.push(() => upstream.close());
  await client.create(resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  dns = await startDns({ kubeconfig: cluster.kubeconfig, args: ['--upstream', `127.0.0.1:${upstream.port}`] });
  stops.push(() => dns.stop());
});

test.after.always(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});

function service(name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec };
}

function slice(name: string, svc: string, endpoints: { ip: string; hostname?: string; ready?: boolean }[], ports = [{ name: 'http', port: 8080, protocol: 'TCP' as const }]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'dns-test' } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true }, ...(e.hostname ? { hostname: e.hostname } : {}) })),
    ports,
  };
}

const fqdn = (name: string): string => `${name}.${NS}.svc.${ZONE}`;

/** dig until the answer satisfies ok (the zone follows the watch a few ms behind the write). */
function digUntil(ok: (r: DigResult) => boolean, ...args: string[]): Promise<DigResult> {
  return until(() => dig(dns.port, ...args), ok);
}

async function metric(port: number, name: string, labels: Record<string, string>): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Sends the same A question `times` times (IDs 1..times) over UDP, one after another; the rcodes. */
async function askRepeatedly(port: number, name: string, times: number): Promise<string[]> {
  const sock = dgram.createSocket('udp4');
  try {
    const out: string[] = [];
    for (let id = 1; id <= times; id++) {
      const reply = new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to query ${id}`)), 3000);
        sock.once('message', (m) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
      sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] }), port, '127.0.0.1');
      out.push((dnsPacket.decode(await reply) as { rcode?: string }).rcode ?? '');
    }
    return out;
  } finally {
    sock.close();
  }
}

// Serial tests run before the concurrent ones: nobody else queries this process meanwhile, so counts are exact.
test.serial('metrics count queries by rcode, type and plugin under CoreDNS names', async (t) => {
  const base = { server: `dns://127.0.0.1:${dns.port}`, zone: '.' };
  const before = {
    nx: await metric(dns.metricsPort, 'coredns_dns_responses_total', { ...base, rcode: 'NXDOMAIN', plugin: 'kubernetes' }),
    ok: await metric(dns.metricsPort, 'coredns_dns_responses_total', { ...base, rcode: 'NOERROR', plugin: 'kubernetes' }),
    fwd: await metric(dns.metricsPort, 'coredns_dns_responses_total', { ...base, rcode: 'NOERROR', plugin: 'forward' }),
    a: await metric(dns.metricsPort, 'coredns_dns_requests_total', { ...base, proto: 'udp', family: '1', type: 'A' }),
    tcp: await metric(dns.metricsPort, 'coredns_dns_requests_total', { ...base, proto: 'tcp', type: 'TXT' }),
    hist: await metric(dns.metricsPort, 'coredns_dns_request_duration_seconds_count', { ...base, type: 'A' }),
  };
  for (let i = 0; i < 3; i++) t.is((await dig(dns.port, `missing-${i}.${NS}.svc.${ZONE}`)).status, 'NXDOMAIN');
  t.is((await dig(dns.port, `kubernetes.default.svc.${ZONE}`)).status, 'NOERROR');
  t.is((await dig(dns.port, '+tcp', `dns-version.${ZONE}`, 'TXT')).status, 'NOERROR');
  t.is((await dig(dns.port, 'metrics.example.test')).status, 'NOERROR');
  // The same question 4 times (dig's cookies make each of its queries unique): 3 answered from the reply table,
  // which the native UDP path does without JS, and counted all the same.
  const repeated = await askRepeatedly(dns.port, `kubernetes.default.svc.${ZONE}`, 4);
  t.deepEqual(repeated, ['NOERROR', 'NOERROR', 'NOERROR', 'NOERROR']);
  t.is(await metric(dns.metricsPort, 'coredns_dns_responses_total', { ...base, rcode: 'NXDOMAIN', plugin: 'kubernetes' }), before.nx + 3);
  t.is(await metric(dns.metricsPort, 'coredns_dns_responses_total', { ...base, rcode: 'NOERROR', plugin: 'kubernetes' }), before.ok + 2 + 4);
  t.is(await metric(dns.metricsPort, 'coredns_dns_responses_total', { ...base, rcode: 'NOERROR', plugin: 'forward' }), before.fwd + 1);
  t.is(await metric(dns.metricsPort, 'coredns_dns_requests_total', { ...base, proto: 'udp', family: '1', type: 'A' }), before.a + 5 + 4);
  t.is(await metric(dns.metricsPort, 'coredns_dns_requests_total', { ...base, proto: 'tcp', type: 'TXT' }), before.tcp + 1);
  t.is(await metric(dns.metricsPort, 'coredns_dns_request_duration_seconds_count', { ...base, type: 'A' }), before.hist + 5 + 4);
});

test('/health and /ready answer 200 OK once synced', async (t) => {
  for (const path of ['/health', '/ready']) {
    const res = await fetch(`http://127.0.0.1:${dns.metricsPort}${path}`);
    t.is(res.status, 200, path);
    t.is(await res.text(), 'OK', path);
  }
});

test('ClusterIP Service: A over UDP and TCP, SRV per named port, PTR for the cluster IP', async (t) => {
  const created = await client.create(resources.services, NS, service('web', { ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
  const ip = created.spec!.clusterIP!;
  t.regex(ip, /^127\.(9[6-9]|10\d|11[01])\./);
  const a = await digUntil((r) => r.status === 'NOERROR', fqdn('web'));
  t.deepEqual(rdata(a, 'A'), [ip]);
  t.true(a.flags.includes('aa'));
  t.is(a.answer[0]![1], '5', 'TTL 5 as CoreDNS');
  t.deepEqual(rdata(await dig(dns.port, '+tcp', fqdn('web')), 'A'), [ip]);
  // Case-insensitive, question echoed as asked.
  const mixed = await dig(dns.port, `WEB.${NS.toUpperCase()}.svc.Cluster.Local`);
  t.is(mixed.answer[0]![0], `WEB.${NS.toUpperCase()}.svc.Cluster.Local.`);
  t.deepEqual(rdata(await dig(dns.port, `_http._tcp.${fqdn('web')}`, 'SRV'), 'SRV'), [`0 100 80 ${fqdn('web')}.`]);
  t.deepEqual(rdata(await dig(dns.port, `_metrics._tcp.${fqdn('web')}`, 'SRV'), 'SRV'), [`0 100 9090 ${fqdn('web')}.`]);
  t.deepEqual(rdata(await dig(dns.port, `_dns._udp.${fqdn('web')}`, 'SRV'), 'SRV'), [`0 100 53 ${fqdn('web')}.`]);
  t.is((await dig(dns.port, `_http._udp.${fqdn('web')}`, 'SRV')).status, 'NXDOMAIN');
  t.deepEqual(rdata(await dig(dns.port, '-x', ip), 'PTR'), [`${fqdn('web')}.`]);
  // Existing name, other type: NODATA with the SOA.
  const aaaa = await dig(dns.port, fqdn('web'), 'AAAA');
  t.is(aaaa.status, 'NOERROR');
  t.is(aaaa.answer.length, 0);
  t.is(aaaa.authority[0]?.[3], 'SOA');
});

test('ExternalName Service answers a CNAME', async (t) => {
  await client.create(resources.services, NS, service('ext', { type: 'ExternalName', externalName: 'db.example.org' }));
  const r = await digUntil((x) => x.status === 'NOERROR', fqdn('ext'), 'CNAME');
  t.deepEqual(rdata(r, 'CNAME'), ['db.example.org.']);
  // Asked for A, the CNAME comes back and is not chased outside the zone.
  t.deepEqual(rdata(await dig(dns.port, fqdn('ext')), 'CNAME'), ['db.example.org.']);
});

test('headless Service: endpoint A records, hostnames, SRV targets and PTR follow EndpointSlices written through the API', async (t) => {
  await client.create(resources.services, NS, service('db', { clusterIP: 'None', ports: [{ name: 'sql', port: 5432 }] }));
  const eps = [
    { ip: '127.244.1.1', hostname: 'db-0' },
    { ip: '127.244.1.2', hostname: 'db-1' },
    { ip: '127.244.1.3', ready: false },
  ];
  await client.create(resources.endpointslices, NS, slice('db-abc', 'db', eps, [{ name: 'sql', port: 5432, protocol: 'TCP' }]));
  const a = await digUntil((r) => r.status === 'NOERROR', fqdn('db'));
  t.deepEqual(rdata(a, 'A'), ['127.244.1.1', '127.244.1.2'], 'ready endpoints only');
  t.deepEqual(rdata(await dig(dns.port, `db-0.${fqdn('db')}`), 'A'), ['127.244.1.1']);
  const srv = await dig(dns.port, `_sql._tcp.${fqdn('db')}`, 'SRV');
  t.deepEqual(rdata(srv, 'SRV'), [`0 50 5432 db-0.${fqdn('db')}.`, `0 50 5432 db-1.${fqdn('db')}.`]);
  t.deepEqual(
    srv.additional.filter((rr) => rr[3] === 'A').map((rr) => `${rr[0]} ${rr[4]}`).sort(),
    [`db-0.${fqdn('db')}. 127.244.1.1`, `db-1.${fqdn('db')}. 127.244.1.2`],
  );
  t.deepEqual(rdata(await dig(dns.port, '-x', '127.244.1.2'), 'PTR'), [`db-1.${fqdn('db')}.`]);

  // The slice changes: db-1 goes, db-2 comes, the unready one becomes ready.
  const current = await client.get<EndpointSlice>(resources.endpointslices, NS, 'db-abc');
  const wanted = slice('db-abc', 'db', [eps[0]!, { ip: '127.244.1.4', hostname: 'db-2' }, { ip: '127.244.1.3' }]);
  await client.update(resources.endpointslices, NS, { ...current, endpoints: wanted.endpoints });
  const changed = await digUntil((r) => rdata(r, 'A').length === 3, fqdn('db'));
  t.deepEqual(rdata(changed, 'A'), ['127.244.1.1', '127.244.1.3', '127.244.1.4']);
  t.is((await dig(dns.port, `db-1.${fqdn('db')}`)).status, 'NXDOMAIN');
  t.deepEqual(rdata(await dig(dns.port, `127-244-1-3.${fqdn('db')}`), 'A'), ['127.244.1.3'], 'endpoints without hostname by dashed IP');

  // All slices gone: a headless name with no endpoint does not exist (as CoreDNS).
  await client.delete(resources.endpointslices, NS, 'db-abc');
  t.is((await digUntil((r) => r.status === 'NXDOMAIN', fqdn('db'))).status, 'NXDOMAIN');
});

test('pod A records (pods insecure)', async (t) => {
  t.deepEqual(rdata(await dig(dns.port, `127-244-0-5.${NS}.pod.${ZONE}`), 'A'), ['127.244.0.5']);
  t.is((await dig(dns.port, `127-244-0-5.no-such-ns.pod.${ZONE}`)).status, 'NXDOMAIN');
  t.is((await dig(dns.port, `not-an-ip.${NS}.pod.${ZONE}`)).status, 'NXDOMAIN');
});

test('a Service created becomes resolvable; deleted, NXDOMAIN', async (t) => {
  t.is((await dig(dns.port, fqdn('late'))).status, 'NXDOMAIN');
  const created = await client.create(resources.services, NS, service('late', { ports: [{ port: 80 }] }));
  const r = await digUntil((x) => x.status === 'NOERROR', fqdn('late'));
  t.deepEqual(rdata(r, 'A'), [created.spec!.clusterIP!]);
  await client.delete(resources.services, NS, 'late');
  const gone = await digUntil((x) => x.status === 'NXDOMAIN', fqdn('late'));
  t.is(gone.status, 'NXDOMAIN');
  t.is(gone.authority[0]?.[3], 'SOA', 'NXDOMAIN carries the zone SOA');
  t.is(gone.authority[0]?.[0], `${ZONE}.`);
});

test('EDNS buffer size, truncation with TC, and the TCP retry', async (t) => {
  await client.create(resources.services, NS, service('big', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
  const ips = Array.from({ length: 60 }, (_, i) => `127.244.2.${i + 1}`);
  await client.create(resources.endpointslices, NS, slice('big-1', 'big', ips.map((ip) => ({ ip }))));
  await digUntil((r) => rdata(r, 'A').length === 60, '+tcp', fqdn('big'));
  // No EDNS: 512 bytes; 60 A records do not fit, so TC=1 and no records (dig +ignore does not retry).
  const truncated = await dig(dns.port, '+noedns', '+ignore', fqdn('big'));
  t.true(truncated.flags.includes('tc'), truncated.text);
  t.is(truncated.answer.length, 0);
  t.true(truncated.size <= 512);
  // A larger EDNS buffer gets the whole answer over UDP.
  const large = await dig(dns.port, '+bufsize=4096', '+ignore', fqdn('big'));
  t.false(large.flags.includes('tc'));
  t.is(rdata(large, 'A').length, 60);
  t.true(large.size > 512);
  // A small one truncates again.
  t.true((await dig(dns.port, '+bufsize=512', '+ignore', fqdn('big'))).flags.includes('tc'));
  // Without +ignore dig retries over TCP on the same port, as stub resolvers do.
  t.deepEqual(rdata(await dig(dns.port, '+noedns', fqdn('big')), 'A'), [...ips].sort());
});

test('zone apex, dns-version, and names outside the zone forwarded to the upstream', async (t) => {
  t.deepEqual(rdata(await dig(dns.port, `dns-version.${ZONE}`, 'TXT'), 'TXT'), ['"1.1.0"']);
  const ns = await dig(dns.port, ZONE, 'NS');
  t.deepEqual(rdata(ns, 'NS'), [`ns.dns.${ZONE}.`]);
  t.deepEqual(ns.additional.filter((rr) => rr[3] === 'A').map((rr) => rr[4]), ['127.96.0.10'], '--nameserver-ip glue');
  t.is(rdata(await dig(dns.port, ZONE, 'SOA'), 'SOA').length, 1);
  const fwd = await dig(dns.port, 'forwarded.example.test');
  t.deepEqual(rdata(fwd, 'A'), ['127.1.2.3']);
  t.true(fwd.flags.includes('ra'));
  t.false(fwd.flags.includes('aa'));
  t.true(upstream.asked.includes('forwarded.example.test'));
});

test('--no-forward refuses names outside the zone; clients outside --forward-allow are refused too', async (t) => {
  const noForward = await startDns({ kubeconfig: cluster.kubeconfig, args: ['--no-forward'] });
  t.teardown(() => noForward.stop());
  const outsider = await startDns({ kubeconfig: cluster.kubeconfig, args: ['--upstream', `127.0.0.1:${upstream.port}`, '--forward-allow', '192.0.2.0/24'] });
  t.teardown(() => outsider.stop());
  for (const p of [noForward, outsider]) {
    const r = await dig(p.port, 'refused.example.test');
    t.is(r.status, 'REFUSED');
    t.false(r.flags.includes('ra'));
    t.is((await dig(p.port, `kubernetes.default.svc.${ZONE}`)).status, 'NOERROR', 'the zone is still served');
  }
  t.false(upstream.asked.includes('refused.example.test'));
});

test('before the first sync it does not serve DNS and /ready is 503; SIGTERM then exits cleanly', async (t) => {
  // A kubeconfig that points at a port nobody listens on: the informers back off and retry.
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { kubeconfigYaml } = await import('@knet/client');
  const dir = mkdtempSync(join(tmpdir(), 'knet-dns-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml({ server: 'http://127.0.0.1:1' }));
  const p = await startDns({ kubeconfig, waitFor: 'metrics listening' });
  t.teardown(() => p.stop());
  const health = await fetch(`http://127.0.0.1:${p.metricsPort}/health`);
  t.is(health.status, 200);
  const ready = await fetch(`http://127.0.0.1:${p.metricsPort}/ready`);
  t.is(ready.status, 503);
  t.regex(await ready.text(), /not synced: services, endpointslices, pods, namespaces/);
  t.false(p.output().includes('"msg":"ready"'));
  const end = await p.stop();
  t.deepEqual(end, { code: 0, signal: null });
  t.regex(p.output(), /"msg":"stopped"/);
});

test('bad flags: a clear message and exit code 2, no crash', async (t) => {
  for (const [args, message] of [
    [['--listen', 'nowhere'], /not an address/],
    [['--ttl', '-1'], /whole seconds/],
    [['--upstream', '1.2.3.4:99999'], /invalid upstream/],
    [['--forward-allow', '127.0.0.0/40'], /not a CIDR/],
    [['--cluster-domain', 'bad_domain'], /not a DNS domain/],
  ] as const) {
    const p = await startDns({ kubeconfig: cluster.kubeconfig, args: [...args], waitFor: null });
    t.teardown(() => p.stop());
    const end = await p.exited;
    t.is(end.code, 2, `${args.join(' ')}: ${p.output()}`);
    t.regex(p.output(), message);
  }
});
