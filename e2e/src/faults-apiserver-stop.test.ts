// The data plane keeps working while the control plane is away: the apiserver frozen (SIGSTOP for
// 30 s) and killed (kill -9) under curl traffic through a ClusterIP and dig queries to kube-dns. Not one
// request or query may fail, and afterwards every component catches up without being restarted.
import test, { type ExecutionContext } from 'ava';
import { knetBin } from '@knet/knet-app/testing';
import { E2ECluster, echoService, sh, until } from './harness.js';

let c: E2ECluster;
let dnsIP: string;
let echoIP: string;
test.before(async () => {
  c = await E2ECluster.start();
  await c.apply(echoService('echo'));
  c.runPod('echo-1', 'default', ['app=echo']);
  c.runPod('echo-2', 'default', ['app=echo']);
  await c.podsReady('default', 'app=echo', 2);
  dnsIP = await c.dnsIP();
  echoIP = await c.jsonpath('svc', 'echo', 'default', '{.spec.clusterIP}');
  await until(async () => ((await c.endpoints('echo', 'default')).length === 2 ? true : undefined), 'two endpoints');
  await until(async () => ((await curlOnce(echoIP)) === undefined ? true : undefined), 'traffic through the ClusterIP');
  await until(async () => ((await digOnce('echo.default.svc.cluster.local', echoIP)) === undefined ? true : undefined), 'the echo Service in DNS');
});
test.after.always(async () => {
  c?.killPods();
  await c?.stop();
});

/** undefined when the request got an answer from a pod, else what went wrong. */
async function curlOnce(ip: string): Promise<string | undefined> {
  const r = await c.curl(`http://${ip}/`);
  return r.code === 0 && /^echo-\d$/.test(r.stdout.trim()) ? undefined : `curl exit ${r.code}: ${JSON.stringify(r.stdout)}`;
}

/** undefined when kube-dns answered `name` with exactly `ip`, else what went wrong. Needs no apiserver. */
async function digOnce(name: string, ip: string): Promise<string | undefined> {
  const r = await sh('dig', [`@${dnsIP}`, name, 'A', '+short', '+time=2', '+tries=2']);
  return r.code === 0 && r.stdout.trim() === ip ? undefined : `dig exit ${r.code}: ${JSON.stringify(r.stdout + r.stderr)}`;
}

/** curl and dig in loops (two of each) until stopped, counting answers and keeping every failure. */
class Load {
  requests = 0;
  queries = 0;
  readonly failures: string[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor() {
    const loop = async (what: 'curl' | 'dig') => {
      while (!this.stopped) {
        const failure = what === 'curl' ? await curlOnce(echoIP) : await digOnce('echo.default.svc.cluster.local', echoIP);
        if (failure) this.failures.push(`${new Date().toISOString()} ${failure}`);
        if (what === 'curl') this.requests++;
        else this.queries++;
      }
    };
    this.loops = [loop('curl'), loop('curl'), loop('dig'), loop('dig')];
  }

  /** Waits until `n` more requests and `n` more queries are answered (or failed). */
  async more(n: number, what: string): Promise<void> {
    const [r, q] = [this.requests, this.queries];
    await until(async () => (this.requests >= r + n && this.queries >= q + n ? true : undefined), what, 60_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

const clients = ['controller', 'dns', 'proxy'] as const;

/** A Service created now is programmed by controller, proxy and dns: reachable by name and by IP. */
async function catchesUp(t: ExecutionContext, name: string): Promise<void> {
  await c.apply(echoService(name));
  const ip = await c.jsonpath('svc', name, 'default', '{.spec.clusterIP}');
  await until(async () => ((await c.endpoints(name, 'default')).length === 2 ? true : undefined), `endpoints of ${name}`);
  await until(async () => ((await digOnce(`${name}.default.svc.cluster.local`, ip)) === undefined ? true : undefined), `${name} in DNS`);
  await until(async () => ((await curlOnce(ip)) === undefined ? true : undefined), `traffic to ${name}`);
  t.pass();
}

/** `knet status`, as the user sees it: pid, readiness and restarts of each component. */
async function snapshot(): Promise<Record<string, { pid?: number; ready: boolean; restarts: number }>> {
  const r = await sh(process.execPath, [knetBin, 'status', '--data-dir', c.cluster.dataDir]);
  const rows = r.stdout.split('\n').filter((l) => /^\w+\s+(\d+|-)\s+\S+\s+(true|false)\s+\d+$/.test(l.trim()));
  const table = Object.fromEntries(rows.map((l) => {
    const [name, pid, , ready, restarts] = l.trim().split(/\s+/);
    return [name!, { ...(pid === '-' ? {} : { pid: Number(pid) }), ready: ready === 'true', restarts: Number(restarts) }];
  }));
  if (Object.keys(table).length !== 5) throw new Error(`knet status (exit ${r.code}) did not list the five components:\n${r.stdout}${r.stderr}`);
  return table;
}

test.serial('apiserver frozen (SIGSTOP 30 s): no failed request or query, and everyone catches up without a restart', async (t) => {
  t.timeout(180_000);
  const before = await snapshot();
  const pid = c.cluster.pid('apiserver')!;
  const load = new Load();
  let frozen = false;
  t.teardown(async () => {
    if (frozen) process.kill(pid, 'SIGCONT');
    await load.stop();
  });
  await load.more(10, 'load before the stop');
  process.kill(pid, 'SIGSTOP');
  frozen = true;
  const [r0, q0] = [load.requests, load.queries];
  // The deliberate outage: 30 s with the apiserver stopped.
  await new Promise((r) => setTimeout(r, 30_000));
  t.true(load.requests > r0 && load.queries > q0, 'traffic and queries were answered while the apiserver was stopped');
  process.kill(pid, 'SIGCONT');
  frozen = false;
  await load.more(20, 'load after SIGCONT');

  await catchesUp(t, 'after-sigstop');
  await load.more(20, 'load after catching up');
  await load.stop();
  t.deepEqual(load.failures, [], `${load.failures.length} of ${load.requests} requests / ${load.queries} queries failed`);

  const after = await snapshot();
  t.is(after.apiserver!.pid, pid, 'the stopped apiserver was not replaced');
  t.is(after.apiserver!.restarts, before.apiserver!.restarts, 'the supervisor restarted a stopped (not dead) apiserver');
  for (const name of clients) {
    t.true(after[name]!.ready, `${name} ready`);
    t.is(after[name]!.pid, before[name]!.pid, `${name} kept its process`);
    t.is(after[name]!.restarts, before[name]!.restarts, `${name} was not restarted`);
  }
  t.log(`${load.requests} requests, ${load.queries} queries, none failed`);
});

test.serial('apiserver killed (kill -9, the supervisor restarts it): no failed request or query, and everyone catches up', async (t) => {
  t.timeout(120_000);
  const before = await snapshot();
  const pid = c.cluster.pid('apiserver')!;
  const load = new Load();
  t.teardown(() => load.stop());
  await load.more(10, 'load before the kill');
  process.kill(pid, 'SIGKILL');
  await until(async () => {
    const s = c.cluster.state().components.find((x) => x.name === 'apiserver');
    return s && s.pid !== pid && s.ready ? true : undefined;
  }, 'the apiserver restarted and ready', 60_000);
  await load.more(20, 'load after the restart');

  await catchesUp(t, 'after-kill');
  await load.more(20, 'load after catching up');
  await load.stop();
  t.deepEqual(load.failures, [], `${load.failures.length} of ${load.requests} requests / ${load.queries} queries failed`);

  const after = await snapshot();
  t.true(after.apiserver!.ready);
  t.is(after.apiserver!.restarts, before.apiserver!.restarts + 1, 'the supervisor restarted the apiserver once');
  for (const name of clients) {
    t.true(after[name]!.ready, `${name} ready`);
    t.is(after[name]!.pid, before[name]!.pid, `${name} kept its process`);
    t.is(after[name]!.restarts, before[name]!.restarts, `${name} was not restarted`);
  }
  t.log(`${load.requests} requests, ${load.queries} queries, none failed`);
});
