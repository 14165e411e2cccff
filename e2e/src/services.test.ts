// A user's afternoon with knet: Services, pods that come and go, DNS and traffic — kubectl, curl, dig, knet run.
import test from 'ava';
import { knetBin } from '@knet/knet-app/testing';
import { E2ECluster, sh, until } from './harness.js';

let c: E2ECluster;
test.before(async () => {
  c = await E2ECluster.start();
  await c.kubectlOk('create', 'namespace', 'production');
});
test.after.always(async () => {
  c?.killPods();
  await c?.stop();
});

const database = `apiVersion: v1
kind: Service
metadata:
  name: database
  namespace: production
spec:
  selector:
    app: database
  ports:
  - name: http
    port: 80
    targetPort: http
`;

/** The pod names answering `n` requests to url. */
async function answers(url: string, n: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await c.curl(url);
    seen.push(r.code === 0 ? r.stdout.trim() : `curl exit ${r.code}`);
  }
  return seen;
}

const serviceRange = () => c.cluster.args[c.cluster.args.indexOf('--service-cluster-ip-range') + 1]!;

function inRange(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base!) / size);
}

test.serial('a Service without a type gets a ClusterIP from the range, a DNS name, and reaches both pods', async (t) => {
  await c.apply(database);
  t.is(await c.jsonpath('svc', 'database', 'production', '{.spec.type}'), 'ClusterIP');
  const ip = await c.jsonpath('svc', 'database', 'production', '{.spec.clusterIP}');
  t.true(inRange(ip, serviceRange()), `${ip} in ${serviceRange()}`);

  c.runPod('database-1', 'production', ['app=database']);
  c.runPod('database-2', 'production', ['app=database']);
  await c.podsReady('production', 'app=database', 2);
  await until(async () => ((await c.endpoints('database', 'production')).length === 2 ? true : undefined), 'two endpoints');
  t.regex(await c.kubectlOk('get', 'endpoints', 'database', '-n', 'production'), /127\.244\.\d+\.\d+:8080,127\.244\.\d+\.\d+:8080/);

  t.deepEqual(await c.dig('database.production.svc.cluster.local'), [ip]);
  const seen = await until(async () => {
    const s = new Set(await answers(`http://${ip}/`, 6));
    return s.has('database-1') && s.has('database-2') ? s : undefined;
  }, 'traffic to both pods');
  t.deepEqual([...seen].sort(), ['database-1', 'database-2']);
});

test.serial('SRV for named ports, and the kube-dns Service answers over UDP and TCP through the proxy', async (t) => {
  t.deepEqual(await c.dig('_http._tcp.database.production.svc.cluster.local', 'SRV'), ['0 100 80 database.production.svc.cluster.local.']);
  const ip = await c.jsonpath('svc', 'database', 'production', '{.spec.clusterIP}');
  t.deepEqual(await c.dig('database.production.svc.cluster.local', 'A', '+tcp'), [ip]);
  t.deepEqual(await c.dig('dns-version.cluster.local', 'TXT'), ['"1.1.0"']);
  t.is(await c.digStatus('nothing-here.production.svc.cluster.local'), 'NXDOMAIN');
});

test.serial('scaling pods up and down changes endpoints, headless DNS and traffic', async (t) => {
  await c.apply(`apiVersion: v1
kind: Service
metadata:
  name: database-headless
  namespace: production
spec:
  clusterIP: None
  selector:
    app: database
  ports:
  - name: http
    port: 8080
`);
  await until(async () => ((await c.dig('database-headless.production.svc.cluster.local')).length === 2 ? true : undefined), 'headless A records for 2 pods');
  c.runPod('database-3', 'production', ['app=database']);
  await c.podsReady('production', 'app=database', 3);
  await until(async () => ((await c.endpoints('database', 'production')).length === 3 ? true : undefined), '3 endpoints');
  await until(async () => ((await c.dig('database-headless.production.svc.cluster.local')).length === 3 ? true : undefined), '3 headless records');
  const ip = await c.jsonpath('svc', 'database', 'production', '{.spec.clusterIP}');
  await until(async () => (new Set(await answers(`http://${ip}/`, 9)).has('database-3') ? true : undefined), 'traffic to the new pod');

  await c.stopPod('database-3', 'production');
  await until(async () => ((await c.endpoints('database', 'production')).length === 2 ? true : undefined), 'back to 2 endpoints');
  await until(async () => ((await c.dig('database-headless.production.svc.cluster.local')).length === 2 ? true : undefined), 'back to 2 headless records');
  t.false((await answers(`http://${ip}/`, 10)).includes('database-3'));
});

test.serial('an unready pod gets no traffic', async (t) => {
  c.runPod('lazy', 'production', ['app=database'], ['--readiness', 'exec:false']);
  await until(async () => ((await c.kubectlOk('get', 'pod', 'lazy', '-n', 'production', '-o', 'jsonpath={.status.podIP}')) || undefined), 'lazy has an IP');
  const lazyIP = await c.jsonpath('pod', 'lazy', 'production', '{.status.podIP}');
  await until(async () => {
    const out = await c.jsonpath('endpoints', 'database', 'production', '{.subsets[*].notReadyAddresses[*].ip}');
    return out.includes(lazyIP) ? true : undefined;
  }, 'lazy in notReadyAddresses');
  t.false((await c.endpoints('database', 'production')).includes(lazyIP));
  const ip = await c.jsonpath('svc', 'database', 'production', '{.spec.clusterIP}');
  t.false((await answers(`http://${ip}/`, 12)).includes('lazy'));
  await c.stopPod('lazy', 'production');
});

test.serial('a pod stopped mid-load with a preStop sleep costs no failed request', async (t) => {
  const ip = await c.jsonpath('svc', 'database', 'production', '{.spec.clusterIP}');
  // The sleep keeps the pod accepting until the proxy has dropped it, as in Kubernetes: without
  // it, SIGTERM races the endpoint update and a connection the proxy just opened can be reset.
  c.runPod('database-4', 'production', ['app=database'], ['--pre-stop-sleep', '1']);
  await c.podsReady('production', 'app=database', 3);
  await until(async () => ((await c.endpoints('database', 'production')).length === 3 ? true : undefined), '3 endpoints');
  let stop = false;
  const failures: string[] = [];
  let done = 0;
  const load = (async () => {
    while (!stop) {
      const r = await c.curl(`http://${ip}/`);
      if (r.code !== 0 || !r.stdout.startsWith('database-')) failures.push(`exit ${r.code}: ${r.stdout}`);
      done++;
    }
  })();
  await until(async () => (done > 20 ? true : undefined), 'load running');
  await c.stopPod('database-4', 'production');
  const after = done;
  await until(async () => (done > after + 30 ? true : undefined), 'load after the stop');
  stop = true;
  await load;
  t.deepEqual(failures, []);
});

test.serial('session affinity: ClientIP sticks to one pod', async (t) => {
  await c.apply(`apiVersion: v1
kind: Service
metadata:
  name: sticky
  namespace: production
spec:
  selector:
    app: database
  sessionAffinity: ClientIP
  ports:
  - port: 80
    targetPort: 8080
`);
  const ip = await c.jsonpath('svc', 'sticky', 'production', '{.spec.clusterIP}');
  t.is(await c.jsonpath('svc', 'sticky', 'production', '{.spec.sessionAffinityConfig.clientIP.timeoutSeconds}'), '10800');
  const seen = await until(async () => {
    const s = await answers(`http://${ip}/`, 8);
    return s.every((x) => x.startsWith('database-')) ? s : undefined;
  }, 'answers through the sticky service');
  t.is(new Set(seen).size, 1, seen.join(','));
});

test.serial('NodePort answers on the node address', async (t) => {
  await c.apply(`apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: production
spec:
  type: NodePort
  selector:
    app: database
  ports:
  - port: 80
    targetPort: 8080
`);
  const nodePort = Number(await c.jsonpath('svc', 'web', 'production', '{.spec.ports[0].nodePort}'));
  t.true(nodePort >= 30000 && nodePort <= 32767);
  const nodeIP = await c.kubectlOk('get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}');
  const body = await until(async () => {
    const r = await c.curl(`http://${nodeIP}:${nodePort}/`);
    return r.code === 0 && r.stdout.startsWith('database-') ? r.stdout : undefined;
  }, 'the NodePort to answer');
  t.regex(body, /^database-\d\n$/);
});

test.serial('ExternalName answers with a CNAME', async (t) => {
  await c.apply(`apiVersion: v1
kind: Service
metadata:
  name: search
  namespace: production
spec:
  type: ExternalName
  externalName: search.example.org
`);
  t.is(await c.jsonpath('svc', 'search', 'production', '{.spec.clusterIP}'), '');
  t.deepEqual(await until(async () => {
    const r = await c.dig('search.production.svc.cluster.local', 'CNAME');
    return r.length ? r : undefined;
  }, 'the CNAME'), ['search.example.org.']);
});

test.serial("a new pod gets its namespace's Service environment variables", async (t) => {
  const ip = await c.jsonpath('svc', 'database', 'production', '{.spec.clusterIP}');
  c.runPod('client', 'production', ['app=client']);
  await c.podsReady('production', 'app=client', 1);
  const podIP = await c.jsonpath('pod', 'client', 'production', '{.status.podIP}');
  const env = (await c.curl(`http://${podIP}:8080/env`)).stdout;
  t.true(env.includes(`DATABASE_SERVICE_HOST=${ip}\n`), env);
  t.true(env.includes('DATABASE_SERVICE_PORT_HTTP=80\n'));
  t.true(env.includes(`DATABASE_PORT_80_TCP=tcp://${ip}:80\n`));
  t.regex(env, /^KUBERNETES_SERVICE_HOST=/m);
  t.regex(env, /^POD_NAMESPACE=production$/m);
  // `knet env` prints the same variables
  const printed = await sh(process.execPath, [knetBin, 'env', '-n', 'production', '--data-dir', c.cluster.dataDir]);
  t.is(printed.code, 0, printed.stderr);
  t.true(printed.stdout.includes(`DATABASE_SERVICE_HOST=${ip}\n`));
  await c.stopPod('client', 'production');
});

test.serial('the kubernetes Service reaches the apiserver', async (t) => {
  const ip = await c.jsonpath('svc', 'kubernetes', 'default', '{.spec.clusterIP}');
  t.true(inRange(ip, serviceRange()));
  const scheme = c.cluster.apiserver.startsWith('https') ? 'https' : 'http';
  const r = await until(async () => {
    const res = await c.curl(`${scheme}://${ip}:443/version`, '-k');
    return res.code === 0 && res.stdout.includes('gitVersion') ? res : undefined;
  }, 'the apiserver through the kubernetes Service');
  t.regex(r.stdout, /"gitVersion": ?"v1\.32/);
});
