import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from '@knet/api';
import test from 'ava';
import { createIpamServer } from './server.js';
import { servicesInUse, startRepairLoop } from './services.js';
import type { RepairReport } from './server.js';
import { until } from '@knet/component/testing';

const service = (ns: string, name: string, spec: Service['spec'], status?: Service['status']): Service => ({
  metadata: { namespace: ns, name },
  spec,
  ...(status ? { status } : {}),
});

test('servicesInUse reads clusterIPs, nodePorts and load balancer ingress IPs', (t) => {
  const got = servicesInUse([
    service('default', 'kubernetes', { clusterIP: '127.96.0.1', clusterIPs: ['127.96.0.1'], ports: [{ port: 443 }] }),
    service('a', 'dual', { clusterIPs: ['127.96.0.5', 'fd00::5'] }),
    service('a', 'legacy', { clusterIP: '127.96.0.6' }),
    service('a', 'headless', { clusterIP: 'None', clusterIPs: ['None'] }),
    service('a', 'external', { type: 'ExternalName', externalName: 'example.org' }),
    service(
      'a',
      'lb',
      { type: 'LoadBalancer', clusterIPs: ['127.96.0.7'], ports: [{ port: 80, nodePort: 30080 }, { port: 81, nodePort: 30081 }, { port: 82 }] },
      { loadBalancer: { ingress: [{ ip: '127.200.0.1' }, { hostname: 'lb.example' }] } },
    ),
  ]);
  t.deepEqual(got, [
    { owner: 'default/kubernetes', clusterIPs: ['127.96.0.1'], nodePorts: [], loadBalancerIPs: [] },
    { owner: 'a/dual', clusterIPs: ['127.96.0.5', 'fd00::5'], nodePorts: [], loadBalancerIPs: [] },
    { owner: 'a/legacy', clusterIPs: ['127.96.0.6'], nodePorts: [], loadBalancerIPs: [] },
    { owner: 'a/headless', clusterIPs: [], nodePorts: [], loadBalancerIPs: [] },
    { owner: 'a/external', clusterIPs: [], nodePorts: [], loadBalancerIPs: [] },
    { owner: 'a/lb', clusterIPs: ['127.96.0.7'], nodePorts: [30080, 30081], loadBalancerIPs: ['127.200.0.1'] },
  ]);
});

test('the repair loop waits for the apiserver, pages through Services with the token, and repairs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-ipam-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ipam = createIpamServer({ dbPath: dir, serviceCIDRs: ['127.96.0.0/12'], nodePortRange: '30000-32767', loadBalancerCIDRs: [] });
  t.teardown(() => ipam.close());
  await ipam.listen('127.0.0.1:0');

  // An allocation whose Service is gone: it must be released after two passes.
  await ipam.repair([{ owner: 'a/gone', clusterIPs: ['127.96.1.1'], nodePorts: [], loadBalancerIPs: [] }]);

  let up = false;
  let requests = 0;
  const pages: Service[][] = [
    [service('a', 'one', { clusterIPs: ['127.96.0.11'] })],
    [service('a', 'two', { clusterIPs: ['127.96.0.12'], ports: [{ port: 80, nodePort: 30002 }] })],
  ];
  const api = createServer((req, res) => {
    requests++;
    if (!up) {
      res.writeHead(503).end('starting');
      return;
    }
    if (req.headers.authorization !== 'Bearer s3cret') {
      res.writeHead(401).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const page = url.searchParams.get('continue') === 'p2' ? 1 : 0;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', metadata: page === 0 ? { continue: 'p2' } : {}, items: pages[page] }));
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => api.close(() => r())));

  const passes: RepairReport[] = [];
  const loop = startRepairLoop(ipam, {
    apiserver: `http://127.0.0.1:${(api.address() as { port: number }).port}`,
    token: 's3cret',
    intervalMs: 50,
    retryMs: 20,
    onPass: (r) => passes.push(r),
  });
  t.teardown(() => loop.close());

  await until('a few refused attempts', () => (requests >= 3 ? true : undefined));
  t.is(passes.length, 0, 'no pass while the apiserver is not up');
  up = true;
  await until('the leak to be released', () => (passes.some((p) => p.released.length > 0) ? true : undefined));
  const values = (await ipam.list()).map((a) => `${a.kind}/${a.value}/${a.owner}`).sort();
  t.deepEqual(values, ['ClusterIP/127.96.0.11/a/one', 'ClusterIP/127.96.0.12/a/two', 'NodePort/30002/a/two']);
});
