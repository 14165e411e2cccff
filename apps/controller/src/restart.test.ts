// Integration: the controller across its own restart and an apiserver restart.
import test from 'ava';
import { KubeClient, resources } from '@knet/client';
import { startControlPlane, type ControlPlane } from '@knet/apiserver-app/testing';
import { TestCluster, notReadyIPs, readyIPs, service } from './testing/cluster.js';
import { startController, until } from './testing/harness.js';

let cp: ControlPlane;
let client: KubeClient;
let c: TestCluster;

test.before(async () => {
  cp = await startControlPlane();
  client = new KubeClient({ server: cp.url });
  c = new TestCluster(client);
});

test.after.always(async () => {
  await client?.close();
  await cp?.stop();
});

test.serial('a restarted controller rewrites only what changed while it was down', async (t) => {
  const ns = await c.namespace();
  await client.create(resources.services, ns, service(ns, 'web'));
  await client.create(resources.services, ns, service(ns, 'old'));
  for (let i = 1; i <= 3; i++) await c.createPod(ns, `web-${i}`, `127.244.2.${i}`, true);

  const first = await startController(t.teardown.bind(t), ['--server', cp.url]);
  await until('3 ready endpoints', async () => readyIPs(await c.endpoints(ns, 'web')).length === 3);
  const [slice] = await until('one slice with 3 endpoints', async () => {
    const s = await c.slices(ns, 'web');
    return s.length === 1 && s[0].endpoints.length === 3 ? s : undefined;
  });
  await until('old has its slice', async () => (await c.slices(ns, 'old')).length === 1);

  process.kill(first.pid, 'SIGTERM');
  t.is((await first.exited).code, 0);

  // While it is down: one pod turns unready, the 'old' Service goes.
  await c.setReady(ns, 'web-2', '127.244.2.2', false);
  await client.delete(resources.services, ns, 'old');
  // And another Service that nobody touches keeps its slice untouched.
  await client.create(resources.services, ns, service(ns, 'quiet', { selector: { app: 'none' } }));

  await startController(t.teardown.bind(t), ['--server', cp.url]);
  await until('web-2 not ready', async () => notReadyIPs(await c.endpoints(ns, 'web')).join() === '127.244.2.2');
  await until('the same slice updated in place', async () => {
    const s = await c.slices(ns, 'web');
    return s.length === 1 && s[0].metadata.name === slice.metadata.name && s[0].endpoints.find((e) => e.targetRef?.name === 'web-2')?.conditions?.ready === false;
  });
  await until("the deleted Service's Endpoints removed", async () => (await c.endpoints(ns, 'old')) === undefined);
  await until("the deleted Service's slices removed", async () => (await c.slices(ns, 'old')).length === 0);
  const quiet = await until('quiet gets a placeholder', async () => {
    const s = await c.slices(ns, 'quiet');
    return s.length === 1 ? s[0] : undefined;
  });
  t.deepEqual(quiet.endpoints ?? [], []);
});

test.serial('the controller keeps working across an apiserver restart', async (t) => {
  const ns = await c.namespace();
  await client.create(resources.services, ns, service(ns, 'web'));
  await startController(t.teardown.bind(t), ['--server', cp.url]);
  await c.createPod(ns, 'a', '127.244.3.1', true);
  await until('pod a in Endpoints', async () => readyIPs(await c.endpoints(ns, 'web')).join() === '127.244.3.1');

  await cp.stopApiserver();
  await cp.startApiserver();

  await until('apiserver back', async () => (await c.namespace('r')) !== undefined);
  await c.createPod(ns, 'b', '127.244.3.2', true);
  await until('pod b in Endpoints after the restart', async () => readyIPs(await c.endpoints(ns, 'web')).join() === '127.244.3.1,127.244.3.2');
  await until('and in the slice', async () => {
    const s = await c.slices(ns, 'web');
    return s.length === 1 && s[0].endpoints.length === 2;
  });
  t.pass();
});
