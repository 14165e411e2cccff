// Integration: the watch events of the controller's own writes, which usually come before the
// write's response, do not queue the Service again (one sync per change, not one per write).
import test from 'ava';
import { resources } from '@knet/client';
import { controlPlaneFor, notReadyIPs, service } from './testing/cluster.js';
import { startController, until } from './testing/harness.js';

async function successfulSyncs(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^endpoint_slice_controller_syncs\{result="success"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

test('each Service is synced once for its initial state, whatever order events and responses come in', async (t) => {
  const { cp, client, c } = await controlPlaneFor(t);
  const ns = await c.namespace();
  const n = 30;
  for (let i = 0; i < n; i++) {
    await client.create(resources.services, ns, service(ns, `s${i}`, { selector: { app: `a${i}` } }));
    await c.createPod(ns, `p${i}`, `127.244.3.${i + 1}`, true, { app: `a${i}` });
  }
  const services = (await client.list(resources.services)).items.length;

  const ctl = await startController(t.teardown.bind(t), ['--server', cp.url]);
  await until('every Service has its slice', async () => (await client.list(resources.endpointslices, { namespace: ns })).items.length === n);
  // One change (one Pod write) after the initial sync: once it shows, every earlier sync is done.
  await c.setReady(ns, 'p0', '127.244.3.1', false);
  await until('p0 is not ready in s0', async () => notReadyIPs(await c.endpoints(ns, 's0')).length === 1);
  await until('its sync is counted', async () => (await successfulSyncs(ctl.healthzPort)) >= services + 1);
  t.is(await successfulSyncs(ctl.healthzPort), services + 1);
});
