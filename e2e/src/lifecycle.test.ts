// The cluster as a whole: it survives a restart on the same data dir, and a kill -9 of any component.
import test from 'ava';
import { E2ECluster, echoService, until } from './harness.js';

let c: E2ECluster;
test.before(async () => {
  c = await E2ECluster.start();
});
test.after.always(async () => {
  c?.killPods();
  await c?.stop();
});

const echo = echoService('echo');

async function answersFromPod(ip: string): Promise<string | undefined> {
  const r = await c.curl(`http://${ip}/`);
  return r.code === 0 && r.stdout.startsWith('echo-') ? r.stdout.trim() : undefined;
}

test.serial('restarting the whole cluster on the same data dir keeps Services, IPs and endpoints', async (t) => {
  await c.apply(echo);
  c.runPod('echo-1', 'default', ['app=echo']);
  await c.podsReady('default', 'app=echo', 1);
  const ip = await c.jsonpath('svc', 'echo', 'default', '{.spec.clusterIP}');
  await until(() => answersFromPod(ip), 'traffic before the restart');

  await c.restart();
  t.is(await c.jsonpath('svc', 'echo', 'default', '{.spec.clusterIP}'), ip);
  t.deepEqual(await c.dig('echo.default.svc.cluster.local'), [ip]);
  // The pod's process stopped with the cluster; a new one takes its place behind the same IP.
  c.runPod('echo-2', 'default', ['app=echo']);
  await c.podsReady('default', 'app=echo', 1);
  t.is(await until(() => answersFromPod(ip), 'traffic after the restart'), 'echo-2');
  t.is((await c.endpoints('echo', 'default')).length, 1);
});

for (const component of ['ipam', 'apiserver', 'controller', 'dns', 'proxy']) {
  test.serial(`kill -9 of ${component}: the supervisor restarts it and traffic and DNS recover`, async (t) => {
    const ip = await c.jsonpath('svc', 'echo', 'default', '{.spec.clusterIP}');
    const pid = c.cluster.pid(component)!;
    t.truthy(pid);
    process.kill(pid, 'SIGKILL');
    await until(async () => {
      const now = c.cluster.state().components.find((x) => x.name === component);
      return now && now.pid !== pid && now.ready && now.restarts >= 1 ? true : undefined;
    }, `${component} restarted and ready`);
    t.truthy(await until(() => answersFromPod(ip), 'traffic'));
    t.deepEqual(await until(async () => {
      const r = await c.dig('echo.default.svc.cluster.local');
      return r.length ? r : undefined;
    }, 'DNS'), [ip]);
    // The control plane still takes writes and the data plane follows them.
    const name = `after-${component}`;
    await c.apply(echoService(name));
    const ip2 = await c.jsonpath('svc', name, 'default', '{.spec.clusterIP}');
    t.truthy(await until(() => answersFromPod(ip2), `traffic to ${name}`));
  });
}
