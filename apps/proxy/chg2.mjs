import { startCluster } from '@knet/knet-app/testing';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
const N = Number(process.env.N ?? 500);
const c = await startCluster({ args: ['--service-cluster-ip-range', '127.126.0.0/16'] });
const pool = new Pool(c.apiserver, { connections: 32 });
const logf = c.dataDir + '/logs/proxy.log';
const logs = () => readFileSync(logf, 'utf8').split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l));
try {
const post = async (path, body) => { const r = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }); return r.body.json(); };
let next = 0;
await Promise.all(Array.from({ length: 32 }, async () => { while (next < N) { const i = next++;
  await post('/api/v1/namespaces/default/services', { metadata: { name: `s${i}` }, spec: { ports: [{ name: 'http', port: 8080 }] } });
  await post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { metadata: { name: `s${i}-a`, labels: { 'kubernetes.io/service-name': `s${i}` } }, addressType: 'IPv4', endpoints: Array.from({length: 10}, (_, k) => ({ addresses: [`127.125.0.${k+1}`] })), ports: [{ name: 'http', port: 1, protocol: 'TCP' }] });
}}));
await new Promise(r => setTimeout(r, 3000));
const errs = logs().filter(l => l.level >= 40).length;
console.log('warnings/errors in proxy log:', errs);
for (let k = 0; k < Number(process.env.K ?? 10); k++) {
  const n0 = logs().filter(l => l.msg === 'synced').length;
  const t0 = Date.now();
  const r = await pool.request({ path: `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/s${k}-a`, method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ ports: [{ name: 'http', port: 100 + k, protocol: 'TCP' }] }) });
  await r.body.dump();
  const ack = Date.now() - t0;
  let s;
  for (;;) { const l = logs().filter(l => l.msg === 'synced'); if (l.length > n0) { s = l[n0]; break; } await new Promise(r => setTimeout(r, 2)); }
  console.log(`ack ${ack} ms, synced at +${s.time - t0} ms, sync took ${(s.seconds*1000).toFixed(1)} ms`);
  await new Promise(r => setTimeout(r, 200));
}
} finally { await pool.close(); await c.stop(); }
