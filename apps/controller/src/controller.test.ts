// Integration: a real apiserver + ipam (startControlPlane) and the real controller process.
import test from 'ava';
import type { Endpoints, KubeObject, Pod, Service } from '@knet/api';
import { KubeClient, resources, type ResourceRef } from '@knet/client';
import { TestCluster, notReadyIPs, readyIPs, service } from './testing/cluster.js';
import { IpamClient } from '@knet/ipam';
import { startControlPlane, type ControlPlane } from '@knet/apiserver-app/testing';
import { startController, until, jsonLines, type ControllerProcess } from './testing/harness.js';

let cp: ControlPlane;
let ctl: ControllerProcess;
let client: KubeClient;
const cleanups: (() => Promise<void>)[] = [];

test.before(async () => {
  cp = await startControlPlane();
  client = new KubeClient({ server: cp.url });
  c = new TestCluster(client);
  ctl = await startController((fn) => cleanups.push(fn), ['--server', cp.url, '--ipam', cp.ipamAddress, '--concurrent-syncs', '3', ...(process.env.KNET_DUMP_LOGS ? ['--log-level', 'debug'] : [])]);
});

test.after.always(async () => {
  if (process.env.KNET_DUMP_LOGS && ctl) (await import('node:fs')).writeFileSync(process.env.KNET_DUMP_LOGS, ctl.lines.join('\n') + ctl.stderr());
  for (const fn of cleanups) await fn();
  await client?.close();
  await cp?.stop();
});

let c: TestCluster;
const namespace = () => c.namespace();
const createPod = (ns: string, name: string, ip: string, ready: boolean, labels?: Record<string, string>) => c.createPod(ns, name, ip, ready, labels);
const setReady = (pod: Pod, ip: string, ready: boolean) => c.setReady(pod.metadata.namespace!, pod.metadata.name!, ip, ready);
const getOrUndefined = <T extends KubeObject>(r: ResourceRef, ns: string, name: string) => c.get<T>(r, ns, name);
const slicesOf = (ns: string, svc: string) => c.slices(ns, svc);

test('pods → Endpoints and EndpointSlices; unready, deleted, service deleted', async (t) => {
  const ns = await namespace();
  await client.create(resources.services, ns, service(ns, 'web'));
  const a = await createPod(ns, 'web-a', '127.244.1.1', true);
  await createPod(ns, 'web-b', '127.244.1.2', true);
  await createPod(ns, 'other', '127.244.1.3', true, { app: 'db' });

  const ep = await until('both ready pods in Endpoints', async () => {
    const e = await getOrUndefined<Endpoints>(resources.endpoints, ns, 'web');
    return readyIPs(e).join() === '127.244.1.1,127.244.1.2' ? e : undefined;
  });
  t.deepEqual(ep.subsets![0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  t.is(ep.metadata.labels?.tier, 'front');
  t.truthy(ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
  const addrA = ep.subsets![0].addresses!.find((x) => x.ip === '127.244.1.1')!;
  t.deepEqual({ kind: addrA.targetRef?.kind, name: addrA.targetRef?.name, node: addrA.nodeName }, { kind: 'Pod', name: 'web-a', node: 'node-a' });

  const [slice] = await until('one slice with both pods', async () => {
    const s = await slicesOf(ns, 'web');
    return s.length === 1 && s[0].endpoints.length === 2 ? s : undefined;
  });
  t.is(slice.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  t.is(slice.addressType, 'IPv4');
  t.is(slice.metadata.ownerReferences?.[0].kind, 'Service');
  t.true(slice.metadata.name!.startsWith('web-'));
  t.true(slice.endpoints.every((e) => e.conditions?.ready === true && e.conditions.serving === true && e.conditions.terminating === false));

  // A pod turning unready moves to notReadyAddresses and ready=false in the slice.
  await setReady(a, '127.244.1.1', false);
  await until('web-a in notReadyAddresses', async () => {
    const e = await getOrUndefined<Endpoints>(resources.endpoints, ns, 'web');
    return notReadyIPs(e).join() === '127.244.1.1' && readyIPs(e).join() === '127.244.1.2';
  });
  await until('web-a not ready in the slice (same slice updated)', async () => {
    const s = await slicesOf(ns, 'web');
    return s.length === 1 && s[0].metadata.name === slice.metadata.name && s[0].endpoints.find((e) => e.targetRef?.name === 'web-a')?.conditions?.ready === false;
  });

  // A deleted pod with a node terminates gracefully: out of Endpoints, in the slice as terminating.
  await client.delete(resources.pods, ns, 'web-b');
  await until('web-b gone from Endpoints', async () => {
    const e = await getOrUndefined<Endpoints>(resources.endpoints, ns, 'web');
    return readyIPs(e).length === 0 && notReadyIPs(e).join() === '127.244.1.1';
  });
  const terminating = await until('web-b terminating in the slice', async () => {
    const s = await slicesOf(ns, 'web');
    return s[0]?.endpoints.find((e) => e.targetRef?.name === 'web-b' && e.conditions?.terminating);
  });
  t.deepEqual(terminating.conditions, { ready: false, serving: true, terminating: true });
  // Once the pod is gone it leaves the slice.
  await client.delete(resources.pods, ns, 'web-b', { gracePeriodSeconds: 0 });
  await until('web-b gone from the slice', async () => {
    const s = await slicesOf(ns, 'web');
    return s.length === 1 && s[0].endpoints.map((e) => e.targetRef?.name).join() === 'web-a';
  });

  // The Service goes: its Endpoints and slices go too.
  await client.delete(resources.services, ns, 'web');
  await until('Endpoints deleted', async () => (await getOrUndefined(resources.endpoints, ns, 'web')) === undefined);
  await until('slices deleted', async () => (await slicesOf(ns, 'web')).length === 0);
  t.pass();
});

test('a service without pods gets an empty Endpoints and a placeholder slice', async (t) => {
  const ns = await namespace();
  await client.create(resources.services, ns, service(ns, 'empty'));
  const ep = await until('Endpoints', () => getOrUndefined<Endpoints>(resources.endpoints, ns, 'empty'));
  t.deepEqual(ep.subsets ?? [], []);
  const slices = await until('placeholder slice', async () => {
    const s = await slicesOf(ns, 'empty');
    return s.length === 1 ? s : undefined;
  });
  t.deepEqual(slices[0].endpoints ?? [], []);
});

test('mirroring: user Endpoints of a selector-less Service become a mirrored slice', async (t) => {
  const ns = await namespace();
  await client.create(resources.services, ns, service(ns, 'ext', { selector: undefined, ports: [{ name: 'db', port: 5432 }] }));
  await client.create<Endpoints>(resources.endpoints, ns, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'ext', namespace: ns },
    subsets: [{ addresses: [{ ip: '127.50.0.1' }, { ip: '127.50.0.2' }], ports: [{ name: 'db', port: 5432 }] }],
  });
  const [slice] = await until('the mirrored slice', async () => {
    const s = await slicesOf(ns, 'ext');
    return s.length === 1 && s[0].endpoints.length === 2 ? s : undefined;
  });
  t.is(slice.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
  t.is(slice.metadata.ownerReferences?.[0].kind, 'Endpoints');
  t.deepEqual(slice.ports, [{ name: 'db', port: 5432, protocol: 'TCP' }]);

  // The controller never rewrites user-managed Endpoints.
  const ep = await client.get<Endpoints>(resources.endpoints, ns, 'ext');
  t.deepEqual(readyIPs(ep), ['127.50.0.1', '127.50.0.2']);

  ep.subsets = [{ addresses: [{ ip: '127.50.0.3' }], ports: [{ name: 'db', port: 5432 }] }];
  await client.update(resources.endpoints, ns, ep);
  await until('mirrored slice updated', async () => {
    const s = await slicesOf(ns, 'ext');
    return s.length === 1 && s[0].endpoints.map((e) => e.addresses[0]).join() === '127.50.0.3';
  });
  await client.delete(resources.endpoints, ns, 'ext');
  await until('mirrored slice removed', async () => (await slicesOf(ns, 'ext')).length === 0);
});

test('LoadBalancer: ingress IP from the pool, loadBalancerIP honoured, released on type change', async (t) => {
  const ns = await namespace();
  const ipam = new IpamClient(cp.ipamAddress);
  t.teardown(() => ipam.close());
  await client.create(resources.services, ns, service(ns, 'lb', { type: 'LoadBalancer' }));
  const ip = await until('an ingress IP', async () => {
    const s = await client.get<Service>(resources.services, ns, 'lb');
    return s.status?.loadBalancer?.ingress?.[0]?.ip;
  });
  t.regex(ip, /^127\.200\.\d+\.\d+$/);
  const s = await client.get<Service>(resources.services, ns, 'lb');
  t.deepEqual(s.status?.loadBalancer?.ingress, [{ ip, ipMode: 'VIP' }]);
  t.true((await ipam.list('LoadBalancerIP')).some((a) => a.value === ip && a.owner === `${ns}/lb`));

  await client.create(resources.services, ns, service(ns, 'fixed', { type: 'LoadBalancer', loadBalancerIP: '127.200.250.7' }));
  await until('the requested IP', async () => (await client.get<Service>(resources.services, ns, 'fixed')).status?.loadBalancer?.ingress?.[0]?.ip === '127.200.250.7');

  // Type change away from LoadBalancer: ingress cleared and the IP released.
  await client.patch(resources.services, ns, 'lb', { spec: { type: 'ClusterIP' } }, 'merge');
  await until('ingress cleared', async () => ((await client.get<Service>(resources.services, ns, 'lb')).status?.loadBalancer?.ingress ?? []).length === 0);
  await until('IP released', async () => !(await ipam.list('LoadBalancerIP')).some((a) => a.value === ip));

  // Service deleted: its IP goes back to the pool.
  await client.delete(resources.services, ns, 'fixed');
  await until('fixed IP released', async () => !(await ipam.list('LoadBalancerIP')).some((a) => a.value === '127.200.250.7'));
});

test('healthz is ok after sync, metrics are served, logs are JSON lines', async (t) => {
  const r = await fetch(`http://127.0.0.1:${ctl.healthzPort}/healthz`);
  t.is(r.status, 200);
  t.is(await r.text(), 'ok');
  const m = await (await fetch(`http://127.0.0.1:${ctl.healthzPort}/metrics`)).text();
  t.regex(m, /endpoint_slice_controller_syncs/);
  t.regex(m, /workqueue_depth/);
  const logs = jsonLines(ctl.lines);
  t.true(logs.length > 0 && logs.length === ctl.lines.length, 'every stdout line is JSON');
  t.true(logs.some((l) => l.msg === 'ready'));
});

test('SIGTERM stops the controller cleanly', async (t) => {
  const other = await startController(t.teardown.bind(t), ['--server', cp.url]);
  process.kill(other.pid, 'SIGTERM');
  const { code } = await other.exited;
  t.is(code, 0);
  t.true(jsonLines(other.lines).some((l) => l.msg === 'stopped'));
});

test('named targetPort per pod; a relabelled pod leaves the Service', async (t) => {
  const ns = await namespace();
  await client.create(resources.services, ns, service(ns, 'named'));
  await c.createPod(ns, 'p8080', '127.244.4.1', true, { app: 'web' }, 8080);
  await c.createPod(ns, 'p9090', '127.244.4.2', true, { app: 'web' }, 9090);
  const ep = await until('two subsets, one per port', async () => {
    const e = await c.endpoints(ns, 'named');
    return e?.subsets?.length === 2 ? e : undefined;
  });
  t.deepEqual(
    ep.subsets!.map((s) => [s.ports?.[0].port, s.addresses?.map((a) => a.ip)]).sort(),
    [
      [8080, ['127.244.4.1']],
      [9090, ['127.244.4.2']],
    ],
  );
  await until('two slices, one per port', async () => (await c.slices(ns, 'named')).length === 2);

  await client.patch(resources.pods, ns, 'p9090', { metadata: { labels: { app: 'other' } } }, 'merge');
  await until('p9090 gone from Endpoints', async () => readyIPs(await c.endpoints(ns, 'named')).join() === '127.244.4.1');
  await until('its slice deleted', async () => {
    const s = await c.slices(ns, 'named');
    return s.length === 1 && s[0].ports?.[0].port === 8080;
  });
  t.pass();
});

test('a selector change moves the Endpoints to the newly selected pods', async (t) => {
  const ns = await namespace();
  await c.createPod(ns, 'blue', '127.244.5.1', true, { app: 'web', color: 'blue' });
  await c.createPod(ns, 'green', '127.244.5.2', true, { app: 'web', color: 'green' });
  await client.create(resources.services, ns, service(ns, 'sel', { selector: { color: 'blue' } }));
  await until('blue selected', async () => readyIPs(await c.endpoints(ns, 'sel')).join() === '127.244.5.1');
  await client.patch(resources.services, ns, 'sel', { spec: { selector: { color: 'green' } } }, 'merge');
  await until('green selected', async () => readyIPs(await c.endpoints(ns, 'sel')).join() === '127.244.5.2');
  await until('slice follows', async () => {
    const s = await c.slices(ns, 'sel');
    return s.length === 1 && s[0].endpoints.map((e) => e.targetRef?.name).join() === 'green';
  });
  t.pass();
});

test("slice endpoints carry the zone of the pod's node", async (t) => {
  const ns = await namespace();
  const nodeName = `zone-node-${process.pid}`;
  await client.create(resources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'topology.kubernetes.io/zone': 'zone-a' } } });
  t.teardown(() => client.delete(resources.nodes, undefined, nodeName).catch(() => undefined));
  await client.create(resources.services, ns, service(ns, 'zoned'));
  await client.create<Pod>(resources.pods, ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'z', namespace: ns, labels: { app: 'web' } },
    spec: { nodeName, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
  await c.setReady(ns, 'z', '127.244.6.1', true);
  const ep = await until('the endpoint with its zone', async () => (await c.slices(ns, 'zoned'))[0]?.endpoints.find((e) => e.targetRef?.name === 'z'));
  t.is(ep.zone, 'zone-a');
  t.is(ep.nodeName, nodeName);
});
