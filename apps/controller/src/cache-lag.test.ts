// The controller's caches fill from separate lists and watches: a Service can be missing from its cache while
// its Endpoints are in theirs (knet up writes kube-dns's Service, then its Endpoints, as the controller starts).
// Such Endpoints are not orphans. Here the Service cache is frozen before the Service is created, so the
// controller starts with exactly that view; a real apiserver answers.
import test from 'ava';
import type { Endpoints } from '@knet/api';
import { resources, type Logger } from '@knet/client';
import { EndpointsController } from './controller.js';
import { controlPlaneFor, service } from './testing/cluster.js';
import { until } from './testing/harness.js';

function userEndpoints(ns: string, name: string): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: ns },
    subsets: [{ addresses: [{ ip: '127.50.0.1' }], ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }] }],
  };
}

test('Endpoints whose Service the cache has not seen yet are kept; Endpoints with no Service at all are deleted', async (t) => {
  const { client, c } = await controlPlaneFor(t);
  const ns = await c.namespace('lag');

  const logged: string[] = [];
  const record = (obj: object, msg?: string) => void logged.push(`${msg} ${JSON.stringify(obj)}`);
  const log: Logger = { debug: record, info: record, warn: record, error: record };
  const ctl = new EndpointsController({ client, log, concurrentSyncs: 1 });
  t.teardown(() => ctl.stop());

  // The Service cache lists (without the Service) and hears no more.
  ctl.services.start();
  await ctl.services.waitForSync();
  await ctl.services.stop();
  await client.create(resources.services, ns, service(ns, 'dns', { selector: undefined, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
  await client.create(resources.endpoints, ns, userEndpoints(ns, 'dns'));
  await client.create(resources.endpoints, ns, userEndpoints(ns, 'gone')); // no Service anywhere

  for (const informer of [ctl.pods, ctl.endpoints, ctl.slices, ctl.nodes]) informer.start();
  await ctl.waitForSync();
  await until('the Service-less Endpoints deleted', async () => (await c.endpoints(ns, 'gone')) === undefined);
  await until('the lagging Service looked at', () => logged.some((l) => l.includes('not in the cache yet') && l.includes(`${ns}/dns`)));
  t.truthy(await c.endpoints(ns, 'dns'), 'the Endpoints of a Service the apiserver has are kept');
});
