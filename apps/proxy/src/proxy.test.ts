// The real proxy process, as `knet up` runs it for its node, with real backends and curl. EndpointSlices are
// written directly (not by the endpoints controller), pointing at backends on 127.0.0.1 ephemeral ports.
import test from 'ava';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { startCluster, type TestCluster } from '@knet/knet-app/testing';
import { resources, type KubeClient } from '@knet/client';
import type { Service } from '@knet/api';
import { clusterProxy, createAll, curl, httpBackend, kube, service, slicesFor, udpEcho, until } from './testing/support.js';

// Addresses only this file uses, so suites running side by side never bind the same VIPs.
const RANGE = '127.121.5.0/24';
const LB_IP = '127.121.7.1';
/** knet up registers its node with the host address. */
const NODE = 'proxy-test-node';

let cluster: TestCluster;
let nodeIP: string;
let client: KubeClient;
let proxy: Awaited<ReturnType<typeof clusterProxy>>;
const cleanups: (() => Promise<void>)[] = [];

test.before(async () => {
  cluster = await startCluster({ args: ['--service-cluster-ip-range', RANGE, '--node-name', NODE] });
  // Each test cluster gets a node address of its own (where its NodePorts listen).
  nodeIP = cluster.args[cluster.args.lastIndexOf('--node-address') + 1]!;
  cleanups.push(() => cluster.stop());
  client = await kube(cluster.kubeconfig);
  cleanups.push(() => client.close());
  proxy = await clusterProxy(cluster);
});

test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function backends(n: number, prefix: string) {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => httpBackend(`${prefix}-${i}`)));
  for (const b of list) cleanups.push(() => b.close());
  return list;
}

async function createService(svc: Service): Promise<Service> {
  return client.create<Service>(resources.services, 'default', svc);
}

/** curl until the VIP answers (the proxy programs it asynchronously), then `n` more answers. */
async function answers(url: string, n: number): Promise<string[]> {
  await until(`${url} answers`, () => curl(url).then((b) => b !== ''));
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await curl(url));
  return out;
}

test.serial('the proxy runs the TCP engine asked for: KNET_TCP_ENGINE, else native on Linux', (t) => {
  const ready = proxy.logs().find((l) => l.msg === 'ready');
  const wanted = process.env['KNET_TCP_ENGINE'] || (process.platform === 'linux' ? 'native' : ready?.['tcpEngine']);
  t.is(ready?.['tcpEngine'], wanted);
});

test.serial('ClusterIP reaches every ready backend and never an unready one', async (t) => {
  const [a, b, c, unready] = await backends(4, 'rr');
  const svc = await createService(service('rr', { ports: [{ name: 'http', port: 8080 }] }));
  await createAll(client, slicesFor('rr', [{ port: a!.port }, { port: b!.port }, { port: c!.port }, { port: unready!.port, ready: false }]));
  const got = await answers(`http://${svc.spec.clusterIP}:8080/`, 30);
  await until('every ready backend reached', async () => {
    got.push(await curl(`http://${svc.spec.clusterIP}:8080/`));
    return ['rr-0', 'rr-1', 'rr-2'].every((n) => got.includes(n));
  });
  t.false(got.includes('rr-3'), 'the unready backend was chosen');
  t.deepEqual([...new Set(got)].sort(), ['rr-0', 'rr-1', 'rr-2']);
});

test.serial('a killed backend costs no failed request; a removed one stops getting traffic', async (t) => {
  const [a, b, dead] = await backends(3, 'kill');
  const svc = await createService(service('kill', { ports: [{ name: 'http', port: 8080 }] }));
  await createAll(client, slicesFor('kill', [{ port: a!.port }, { port: b!.port }, { port: dead!.port }]));
  const url = `http://${svc.spec.clusterIP}:8080/`;
  await until('all three serve', async () => (await answers(url, 6)).includes('kill-2'));
  await dead!.close();
  const got: string[] = [];
  for (let i = 0; i < 30; i++) got.push(await curl(url)); // curl throws on any failure
  t.false(got.includes('kill-2'));
  t.deepEqual([...new Set(got)].sort(), ['kill-0', 'kill-1']);

  await client.delete(resources.endpointslices, 'default', 'kill-1');
  await until('kill-1 no longer chosen', async () => {
    const r = await Promise.all(Array.from({ length: 6 }, () => curl(url)));
    return r.every((x) => x === 'kill-0');
  });
  t.pass();
});

test.serial('sessionAffinity ClientIP sticks to one backend', async (t) => {
  const list = await backends(3, 'aff');
  const svc = await createService(service('aff', { ports: [{ name: 'http', port: 8080 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }));
  await createAll(client, slicesFor('aff', list.map((b) => ({ port: b.port }))));
  const url = `http://${svc.spec.clusterIP}:8080/`;
  await answers(url, 1);
  // Each client address sticks to one backend; different clients are spread over several.
  const seen = new Set<string>();
  await until('clients spread over backends', async () => {
    for (let c = 11; c < 17; c++) {
      const src = `127.0.0.${c}`;
      // The first connection sets the affinity; the data plane records it once connected, so concurrent
      // first connections could still spread (reported to packages/dataplane).
      const first = await curl(url, ['--interface', src]);
      const got = await Promise.all(Array.from({ length: 5 }, () => curl(url, ['--interface', src])));
      t.deepEqual(got, Array<string>(5).fill(first), `affinity broken for ${src}`);
      seen.add(first);
    }
    return seen.size > 1;
  });
});

test.serial('NodePort answers on the node address', async (t) => {
  const [a] = await backends(1, 'np');
  const svc = await createService(service('np', { type: 'NodePort', ports: [{ name: 'http', port: 8080 }] }));
  await createAll(client, slicesFor('np', [{ port: a!.port }]));
  const nodePort = svc.spec.ports![0]!.nodePort!;
  t.true(nodePort >= 30000 && nodePort <= 32767);
  t.deepEqual(await answers(`http://${nodeIP}:${nodePort}/`, 2), ['np-0', 'np-0']);
});

test.serial('LoadBalancer ingress IP answers; externalTrafficPolicy Local sends only to local endpoints', async (t) => {
  const [local, remote] = await backends(2, 'lb');
  const svc = await createService(service('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 8080 }] }));
  await createAll(client, slicesFor('lb', [{ port: local!.port }, { port: remote!.port, node: 'another-node' }]));
  await client.patch(resources.services, 'default', 'lb', { status: { loadBalancer: { ingress: [{ ip: LB_IP }] } } }, 'merge', { subresource: 'status' });
  const got = await answers(`http://${LB_IP}:8080/`, 10);
  t.deepEqual([...new Set(got)], ['lb-0']);
  // The ClusterIP (policy Cluster) still reaches both.
  await until('ClusterIP reaches the remote endpoint too', async () => (await answers(`http://${svc.spec.clusterIP}:8080/`, 4)).includes('lb-1'));
});

test.serial('UDP round trip; the reply comes from the VIP', async (t) => {
  const echo = await udpEcho();
  cleanups.push(() => echo.close());
  const svc = await createService(service('udp', { ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }] }));
  await createAll(client, slicesFor('udp', [{ port: echo.port }], 'dns', 'UDP'));
  const sock = createSocket('udp4');
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const reply = await until('udp echo', () =>
    new Promise<{ msg: string; from: string; port: number } | undefined>((resolve) => {
      const timer = setTimeout(() => {
        sock.off('message', onMsg);
        resolve(undefined);
      }, 300);
      const onMsg = (m: Buffer, rinfo: { address: string; port: number }) => {
        clearTimeout(timer);
        sock.off('message', onMsg);
        resolve({ msg: m.toString(), from: rinfo.address, port: rinfo.port });
      };
      sock.on('message', onMsg);
      sock.send('ping', 5353, svc.spec.clusterIP!);
    }),
  );
  t.deepEqual(reply, { msg: 'echo:ping', from: svc.spec.clusterIP!, port: 5353 });
});

test.serial('a bind failure is logged with the Service and the fix, and other Services are still served', async (t) => {
  const taken: Server = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.121.8.1', r));
  cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
  const port = (taken.address() as { port: number }).port;
  const [a] = await backends(1, 'ok');
  await createService(service('clash', { externalIPs: ['127.121.8.1'], ports: [{ name: 'http', port }] }));
  const ok = await createService(service('ok', { ports: [{ name: 'http', port: 8080 }] }));
  await createAll(client, slicesFor('ok', [{ port: a!.port }]));
  const line = await until('bind failure logged', () => proxy.logs().find((l) => l.service === 'default/clash' && l.reason === 'EADDRINUSE'));
  t.regex(String(line.msg), /127\.121\.8\.1/);
  t.deepEqual(await answers(`http://${ok.spec.clusterIP}:8080/`, 1), ['ok-0']);
});

test.serial('healthz is 200 and metrics carry kube-proxy names and per-service counters', async (t) => {
  const h = await fetch(`http://${proxy.healthz}/healthz`);
  t.is(h.status, 200);
  t.true(((await h.json()) as { healthy: boolean }).healthy);
  t.is((await fetch(`http://${proxy.healthz}/livez`)).status, 200);
  t.is((await fetch(`http://${proxy.healthz}/readyz`)).status, 200);
  const m = await (await fetch(`http://${proxy.metrics}/metrics`)).text();
  t.regex(m, /kubeproxy_sync_proxy_rules_duration_seconds_count \d+/);
  t.regex(m, /kubeproxy_network_programming_duration_seconds_count [1-9]/);
  t.regex(m, /knet_proxy_service_connections_total\{namespace="default",service="rr",port="http",kind="ClusterIP",protocol="TCP",address="127\.121\.5\.\d+:8080"\} [1-9]/);
});

test.serial('the apiserver stopped (SIGSTOP): traffic still flows on the last table', async (t) => {
  const [a] = await backends(1, 'stop');
  const svc = await createService(service('stop', { ports: [{ name: 'http', port: 8080 }] }));
  await createAll(client, slicesFor('stop', [{ port: a!.port }]));
  const url = `http://${svc.spec.clusterIP}:8080/`;
  await answers(url, 1);
  const pid = cluster.pid('apiserver');
  t.truthy(pid);
  process.kill(pid!, 'SIGSTOP');
  try {
    for (let i = 0; i < 10; i++) t.is(await curl(url), 'stop-0');
  } finally {
    process.kill(pid!, 'SIGCONT');
  }
});
