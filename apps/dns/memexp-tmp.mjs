import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { startCluster } from '@knet/knet-app/testing';
import { startDns } from './dist/testing.js';
const N = 10000;
const c = await startCluster({ args: ['--service-cluster-ip-range', '127.112.0.0/16'] });
const pool = new Pool(c.apiserver, { connections: 32 });
const post = async (path, body) => { const r = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }); const j = await r.body.json(); if (r.statusCode !== 201) throw new Error(JSON.stringify(j)); return j; };
const ip = (n) => `127.${100 + (n >>> 16)}.${(n >>> 8) & 255}.${n & 255}`;
const rss = (pid, k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
try {
  for (let k = 0; k < 10; k++) await post('/api/v1/namespaces', { metadata: { name: `bench-${k}` } });
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => { while (next < N) { const i = next++; const ns = `bench-${i % 10}`;
    await post(`/api/v1/namespaces/${ns}/services`, { metadata: { name: `svc-${i}` }, spec: { ports: [{ name: 'http', port: 80 }] } });
    await post(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { metadata: { name: `svc-${i}-1`, labels: { 'kubernetes.io/service-name': `svc-${i}` } }, addressType: 'IPv4', endpoints: Array.from({ length: 10 }, (_, e) => ({ addresses: [ip(i * 10 + e)], conditions: { ready: true }, nodeName: 'node-1' })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }); } }));
  console.log('written');
  for (const nodeArgs of JSON.parse(process.argv[2])) {
    const d = await startDns({ kubeconfig: c.kubeconfig, args: ['--no-forward'], nodeArgs, timeoutMs: 120000 });
    const synced = rss(d.pid, 'VmRSS');
    const out = spawnSync('dnsperf', ['-s', '127.0.0.1', '-p', String(d.port), '-d', '/tmp/dnsprof/q.txt', '-l', '10', '-c', '10', '-q', '100'], { encoding: 'utf8' }).stdout;
    console.log(JSON.stringify(nodeArgs), 'synced', synced.toFixed(0), 'loaded', rss(d.pid, 'VmRSS').toFixed(0), 'peak', rss(d.pid, 'VmHWM').toFixed(0), 'qps', /Queries per second:\s+([\d.]+)/.exec(out)?.[1]);
    await d.stop();
  }
} finally { await pool.close(); await c.stop(); }
