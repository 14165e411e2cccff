// npm run bench:api — 10,000 Service creates through the REST API with 32 clients, list-all, and
// watch delivery to 100 watchers, against a real `knet up` cluster: once as it runs by default
// (TLS, tokens, ABAC) and once with plain HTTP, to show what security costs; and, for issue #2's own
// subject, the control plane alone (ipam + apiserver with TLS, no controller, proxy or dns reacting to
// every create). Writes bench/RESULTS.md.
// BENCH_SERVICES=n and BENCH_MODES=secure (or plain, control-plane, control-plane-fsync-always) make a quicker run that only prints.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Pool } from 'undici';
import { startCluster } from '@knet/knet-app/testing';
import { startControlPlane } from '@knet/apiserver-app/testing';
import { cpuMs, fmt, machine, peakRssMiB, runConcurrently, summarize, table, writeSection } from './results.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const CLIENTS = 32;
const WATCHERS = 100;
const WATCH_EVENTS = 200;
/** `secure`, `plain`, `control-plane` (the default: all three; only a run of all rewrites bench/RESULTS.md). */
const MODES = (process.env.BENCH_MODES ?? 'secure,plain,control-plane,control-plane-fsync-always').split(',');
const COMPONENTS = ['apiserver', 'ipam', 'controller', 'proxy', 'dns'];
interface Figures {
  rate: number;
  creates: ReturnType<typeof summarize>;
  list: ReturnType<typeof summarize>;
  listed: number;
  watch: ReturnType<typeof summarize>;
  received: number;
  rssApi: number;
  rssIpam: number;
  /** CPU ms per create during the create storm, by component (and `bench`, this client). */
  cpuPerCreate: Record<string, number>;
  /** The machine's 1-minute load average when the run started: other work on it slows every figure. */
  load: number;
}

function service(name: string) {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }] } });
}

/** What a run measures against: the apiserver's address, how to reach it as admin, the processes. */
interface Target {
  apiserver: string;
  connect: { ca?: string };
  authHeaders: Record<string, string>;
  pid(component: string): number | undefined;
  stop(): Promise<void>;
}

/** ipam and the apiserver as processes, with TLS, tokens and ABAC as `knet up` runs them. */
async function controlPlaneOnly(range: string, apiserverArgs: string[] = []): Promise<Target> {
  const cp = await startControlPlane({ secure: true, serviceCIDR: range, apiserverArgs });
  const creds = cp.credentials!;
  const pids: Record<string, number> = { apiserver: cp.apiserverPid, ipam: cp.ipamPid };
  return {
    apiserver: cp.url, connect: { ca: creds.caPem }, authHeaders: { authorization: `Bearer ${creds.tokens['admin']}` },
    pid: (c) => pids[c], stop: () => cp.stop(),
  };
}

/** One cluster, the three measurements. */
async function measure(start: () => Promise<Target>): Promise<Figures> {
  const load = loadavg()[0]!;
  const cluster = await start();
  const pool = new Pool(cluster.apiserver, { connections: CLIENTS + WATCHERS + 4, pipelining: 1, connect: cluster.connect });
  const base = '/api/v1/namespaces/default/services';
  const headers = cluster.authHeaders;
  const create = async (name: string): Promise<void> => {
    const res = await pool.request({ path: base, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: service(name) });
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`create ${name}: ${res.statusCode} ${text}`);
  };
  try {
    // 1. creates
    const latencies: number[] = [];
    const cpuBefore = Object.fromEntries(COMPONENTS.map((c) => [c, cpuMs(cluster.pid(c))]));
    const benchBefore = process.cpuUsage();
    const t0 = performance.now();
    await runConcurrently(SERVICES, CLIENTS, async (i) => {
      const start = performance.now();
      await create(`bench-${i}`);
      latencies.push(performance.now() - start);
    });
    const rate = SERVICES / ((performance.now() - t0) / 1000);
    const benchCpu = process.cpuUsage(benchBefore);
    const cpuPerCreate: Record<string, number> = Object.fromEntries(
      COMPONENTS.map((c) => [c, (cpuMs(cluster.pid(c)) - cpuBefore[c]!) / SERVICES]),
    );
    cpuPerCreate['bench'] = (benchCpu.user + benchCpu.system) / 1000 / SERVICES;

    // 2. list all (median of 5)
    const lists: number[] = [];
    let listed = 0;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const res = await pool.request({ path: '/api/v1/services', method: 'GET', headers });
      const body = (await res.body.json()) as { items: unknown[] };
      lists.push(performance.now() - start);
      listed = body.items.length;
    }

    // 3. watch delivery: time from sending a create to each watcher seeing its ADDED event
    const rvRes = await pool.request({ path: `${base}?limit=1`, method: 'GET', headers });
    const rv = ((await rvRes.body.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const sentAt = new Map<string, number>();
    const delivery: number[] = [];
    let received = 0;
    const watchers = await Promise.all(
      Array.from({ length: WATCHERS }, async () => {
        const res = await pool.request({ path: `${base}?watch=1&resourceVersion=${rv}`, method: 'GET', headers });
        let buf = '';
        res.body.setEncoding('utf8');
        res.body.on('data', (chunk: string) => {
          const now = performance.now();
          buf += chunk;
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            const ev = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
            const sent = sentAt.get(ev.object.metadata.name);
            if (ev.type === 'ADDED' && sent !== undefined) {
              delivery.push(now - sent);
              received++;
            }
          }
        });
        return res;
      }),
    );
    for (let i = 0; i < WATCH_EVENTS; i++) {
      const name = `watch-${i}`;
      sentAt.set(name, performance.now());
      await create(name);
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 10_000;
    while (received < WATCH_EVENTS * WATCHERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const w of watchers) w.body.destroy();
    return {
      rate,
      creates: summarize(latencies),
      list: summarize(lists),
      listed,
      watch: summarize(delivery),
      received,
      rssApi: peakRssMiB(cluster.pid('apiserver')),
      rssIpam: peakRssMiB(cluster.pid('ipam')),
      cpuPerCreate,
      load,
    };
  } finally {
    await pool.close().catch(() => {});
    await cluster.stop();
  }
}

// A /12 of its own: test clusters get a /20, too small for 10,000 Services.
const CIDR = '127.112.0.0/12';
const range = ['--service-cluster-ip-range', CIDR];
const knetUp = (args: string[]) => () => startCluster({ args: [...args, ...process.argv.slice(2)] });
const runs: Record<string, () => Promise<Target>> = {
  secure: knetUp(range), plain: knetUp([...range, '--insecure-plain-http']), 'control-plane': () => controlPlaneOnly(CIDR),
  'control-plane-fsync-always': () => controlPlaneOnly(CIDR, ['--fsync', 'always']),
};
const figures: Record<string, Figures> = {};
for (const mode of MODES) {
  const start = runs[mode];
  if (start === undefined) throw new Error(`BENCH_MODES: unknown mode ${mode} (${Object.keys(runs).join(', ')})`);
  figures[mode] = await measure(start);
  const f = figures[mode];
  const cpu = Object.entries(f.cpuPerCreate).map(([c, ms]) => `${c} ${fmt(ms, 2)}`).join(', ');
  console.log(`${mode} (load ${fmt(f.load, 2)}): ${fmt(f.rate, 0)} creates/s, p50/p99 ${fmt(f.creates.p50)}/${fmt(f.creates.p99)} ms, list ${fmt(f.list.p50)} ms, ` +
    `watch p50/p99 ${fmt(f.watch.p50)}/${fmt(f.watch.p99)} ms (${f.received}), CPU ms per create: ${cpu}`);
}
const secure = figures['secure'];
const plain = figures['plain'];
const controlPlane = figures['control-plane'];
const synced = figures['control-plane-fsync-always'];
if (secure !== undefined && plain !== undefined && controlPlane !== undefined && synced !== undefined) {
  const all = (f: (x: Figures) => string) => [f(secure), f(plain), f(controlPlane), f(synced)];
  const met = (ok: (x: Figures) => boolean) => `${ok(secure) ? 'yes' : 'no'} / ${ok(controlPlane) ? 'yes' : 'no'}`;
  const rest = (c: Record<string, number>) => c['controller']! + c['proxy']! + c['dns']!;
  const rows: (string | number)[][] = [
    ['measure', 'knet up (TLS + token + ABAC, the default)', 'knet up (plain HTTP, --insecure-plain-http)', 'control plane alone (ipam + apiserver, TLS + token + ABAC)', 'control plane alone, apiserver --fsync always', 'target', 'met (knet up / control plane)'],
    [`durable creates/s (${SERVICES} Services, ${CLIENTS} clients, incl. ClusterIP allocation)`, ...all((x) => fmt(x.rate, 0)), '≥ 1,000', met((x) => x.rate >= 1000)],
    ['create latency p50 / p99 (ms)', ...all((x) => `${fmt(x.creates.p50)} / ${fmt(x.creates.p99)}`), 'p99 ≤ 50', met((x) => x.creates.p99 <= 50)],
    [`list all ${secure.listed} Services, median of 5 (ms)`, ...all((x) => fmt(x.list.p50)), '≤ 300', met((x) => x.list.p50 <= 300)],
    [`watch delivery p50 / p99, ${WATCHERS} watchers, send→event (ms)`, ...all((x) => `${fmt(x.watch.p50)} / ${fmt(x.watch.p99)}`), 'p99 ≤ 20', met((x) => x.watch.p99 <= 20)],
    ['events delivered', ...all((x) => `${x.received} / ${WATCH_EVENTS * WATCHERS}`), 'all', met((x) => x.received === WATCH_EVENTS * WATCHERS)],
    ['CPU ms per create: apiserver / ipam / controller + proxy + dns / bench client', ...all((x) => {
      const c = x.cpuPerCreate;
      return `${fmt(c['apiserver']!, 2)} / ${fmt(c['ipam']!, 2)} / ${x === controlPlane || x === synced ? 'not running' : fmt(rest(c), 2)} / ${fmt(c['bench']!, 2)}`;
    }), '', ''],
    ['peak RSS apiserver / ipam (MiB)', ...all((x) => `${fmt(x.rssApi, 0)} / ${fmt(x.rssIpam, 0)}`), '', ''],
    ['load average (1 min) when the run started', ...all((x) => fmt(x.load, 2)), '', ''],
  ];
  const tlsCost = 1 - secure.rate / plain.rate;
  const cpuOf = (x: Figures) => Object.values(x.cpuPerCreate).filter((v) => !Number.isNaN(v)).reduce((a, b) => a + b, 0);
  const tlsCpu = cpuOf(secure) / cpuOf(plain) - 1;
  const body = `Command: \`npm run bench:api\` · ${new Date().toISOString()} · ${machine()}\n\n${table(rows)}\n\nTLS + authentication + authorization cost ${fmt(tlsCost * 100, 0)}% of plain creates/s (target: at most 20%); CPU per create, all processes together: +${fmt(tlsCpu * 100, 0)}%.\nknet up runs the whole cluster, so the controller, proxy and dns react to every create on the same 2 cores; the control plane alone is what issue #2 builds. ` +
    `Durable: every acknowledged create survives kill -9 of any process. The apiserver's default, \`--fsync interval\`, syncs its log to disk within 1 s; with \`--fsync always\` (last column) each create waits for its own sync, as with etcd. ipam syncs every allocation in both.\nReference: Kubernetes' SLO for mutating API calls is p99 ≤ 1 s.`;
  console.log(body);
  writeSection('bench:api — control plane', body);
}
