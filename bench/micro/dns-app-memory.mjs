// The real dns app's memory with the bench:dns data set, without bench:dns' 30-50 s of writes per run (not part of
// the build; after `npx tsc -b`):
//   node bench/micro/dns-app-memory.mjs [dataDir=/tmp/knet-dns-memory] [-- node flags for the dns process]
// The first run writes 10,000 Services + 10,000 EndpointSlices (100,000 endpoints) into a knet data dir through the
// REST API and keeps it; later runs restart that cluster as it was. Prints sync time, RSS and high-water mark after
// the sync, and the heap as prom-client sees it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Pool } from 'undici';
import { startCluster } from '../../apps/knet/dist/testing.js';
import { startDns } from '../../apps/dns/dist/testing.js';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const nodeArgs = dash >= 0 ? argv.slice(dash + 1) : [];
const dir = (dash === 0 ? undefined : argv[0]) ?? '/tmp/knet-dns-memory';
const argsFile = `${dir}.args.json`;

if (!existsSync(argsFile)) {
  const cluster = await startCluster({ dataDir: dir, args: ['--service-cluster-ip-range', '127.112.0.0/16'] });
  const pool = new Pool(cluster.apiserver, { connections: 32, pipelining: 1, connect: cluster.connect });
  const post = async (path, body) => {
    const res = await pool.request({ path, method: 'POST', headers: { ...cluster.authHeaders, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`POST ${path}: ${res.statusCode} ${text}`);
  };
  const endpointIP = (n) => `127.${100 + (n >>> 16)}.${(n >>> 8) & 255}.${n & 255}`; // data only, never traffic
  try {
    for (let k = 0; k < 10; k++) await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `bench-${k}` } });
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      for (let i = next++; i < 10_000; i = next++) {
        const ns = `bench-${i % 10}`;
        await post(`/api/v1/namespaces/${ns}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}` }, spec: { ports: [{ name: 'http', port: 80 }] } });
        await post(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
          metadata: { name: `svc-${i}-1`, labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'bench.knet.dev' } },
          endpoints: Array.from({ length: 10 }, (_, e) => ({ addresses: [endpointIP(i * 10 + e)], conditions: { ready: true }, nodeName: 'node-1' })),
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        });
      }
    }));
    writeFileSync(argsFile, JSON.stringify(cluster.args));
  } finally {
    await pool.close();
    await cluster.stop();
  }
}

const cluster = await startCluster({ dataDir: dir, reuseArgs: JSON.parse(readFileSync(argsFile, 'utf8')), timeoutMs: 120_000 });
const mib = (pid) => {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return `RSS ${(kb('VmRSS') / 1024).toFixed(0)} MiB, high-water ${(kb('VmHWM') / 1024).toFixed(0)} MiB`;
};
try {
  const t0 = performance.now();
  const dns = await startDns({ kubeconfig: cluster.kubeconfig, args: ['--no-forward'], nodeArgs, timeoutMs: 120_000 });
  try {
    console.log(`synced and serving in ${((performance.now() - t0) / 1000).toFixed(2)} s: ${mib(dns.pid)}`);
    await new Promise((r) => setTimeout(r, 3000));
    const metrics = await (await fetch(`http://127.0.0.1:${dns.metricsPort}/metrics`)).text();
    const heap = metrics.split('\n').filter((l) => /^nodejs_(heap_size_total|heap_size_used|external_memory)_bytes /.test(l)).map((l) => `${l.split(' ')[0].replace(/^nodejs_|_bytes$/g, '')} ${(Number(l.split(' ')[1]) / 2 ** 20).toFixed(1)} MiB`);
    console.log(`3 s later: ${mib(dns.pid)}; ${heap.join(', ')}`);
  } finally {
    await dns.stop();
  }
} finally {
  await cluster.stop();
}
