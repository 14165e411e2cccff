// npm run bench:api — 10,000 Service creates through the REST API with 32 clients, list-all, and
// watch delivery to 100 watchers, against a real `knet up` cluster. Writes bench/RESULTS.md.
import { Pool } from 'undici';
import { startCluster } from '@knet/knet-app/testing';
import { fmt, machine, peakRssMiB, summarize, table, writeSection } from './results.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const CLIENTS = 32;
const WATCHERS = 100;
const WATCH_EVENTS = 200;

const cluster = await startCluster({ args: process.argv.slice(2) });
const pool = new Pool(cluster.apiserver, { connections: CLIENTS + WATCHERS + 4, pipelining: 1 });
const base = '/api/v1/namespaces/default/services';

function service(name: string) {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }] } });
}

async function create(name: string): Promise<void> {
  const res = await pool.request({ path: base, method: 'POST', headers: { 'content-type': 'application/json' }, body: service(name) });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`create ${name}: ${res.statusCode} ${text}`);
}

try {
  // 1. creates
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < SERVICES) {
        const i = next++;
        const start = performance.now();
        await create(`bench-${i}`);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const createSecs = (performance.now() - t0) / 1000;
  const creates = summarize(latencies);

  // 2. list all (median of 5)
  const lists: number[] = [];
  let listed = 0;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const res = await pool.request({ path: '/api/v1/services', method: 'GET' });
    const body = (await res.body.json()) as { items: unknown[] };
    lists.push(performance.now() - start);
    listed = body.items.length;
  }
  const list = summarize(lists);

  // 3. watch delivery: time from sending a create to each watcher seeing its ADDED event
  const rvRes = await pool.request({ path: `${base}?limit=1`, method: 'GET' });
  const rv = ((await rvRes.body.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const sentAt = new Map<string, number>();
  const delivery: number[] = [];
  let received = 0;
  const watchers = await Promise.all(
    Array.from({ length: WATCHERS }, async () => {
      const res = await pool.request({ path: `${base}?watch=1&resourceVersion=${rv}`, method: 'GET' });
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
  const watch = summarize(delivery);

  const rssApi = peakRssMiB(cluster.pid('apiserver'));
  const rssIpam = peakRssMiB(cluster.pid('ipam'));
  const rate = SERVICES / createSecs;
  const rows: (string | number)[][] = [
    ['measure', 'knet', 'target', 'met'],
    [`durable creates/s (${SERVICES} Services, ${CLIENTS} clients, incl. ClusterIP allocation)`, fmt(rate, 0), '≥ 1,000', rate >= 1000 ? 'yes' : 'no'],
    ['create latency p50 / p99 (ms)', `${fmt(creates.p50)} / ${fmt(creates.p99)}`, 'p99 ≤ 50', creates.p99 <= 50 ? 'yes' : 'no'],
    [`list all ${listed} Services, median of 5 (ms)`, fmt(list.p50), '≤ 300', list.p50 <= 300 ? 'yes' : 'no'],
    [`watch delivery p50 / p99, ${WATCHERS} watchers, send→event (ms)`, `${fmt(watch.p50)} / ${fmt(watch.p99)}`, 'p99 ≤ 20', watch.p99 <= 20 ? 'yes' : 'no'],
    [`events delivered`, `${received} / ${WATCH_EVENTS * WATCHERS}`, 'all', received === WATCH_EVENTS * WATCHERS ? 'yes' : 'no'],
    ['peak RSS apiserver / ipam (MiB)', `${fmt(rssApi, 0)} / ${fmt(rssIpam, 0)}`, '', ''],
  ];
  const body = `Command: \`npm run bench:api\` · ${new Date().toISOString()} · ${machine()}\n\n${table(rows)}\n\nReference: Kubernetes' SLO for mutating API calls is p99 ≤ 1 s.`;
  console.log(body);
  writeSection('bench:api — control plane', body);
} finally {
  await pool.close().catch(() => {});
  await cluster.stop();
}
