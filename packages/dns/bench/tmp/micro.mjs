import { ClusterZone, createDnsServer } from '/work/main/packages/dns/dist/index.js';
import dnsPacket from 'dns-packet';
const zone = new ClusterZone();
for (let i = 0; i < 10000; i++) zone.upsertService({ metadata: { name: `svc-${i}`, namespace: `bench-${i % 10}` }, spec: { clusterIP: `127.112.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80 }] } });
const cacheOff = process.argv.includes('--no-cache');
let hook = 0;
const srv = createDnsServer({ zone, forward: false, replyCache: cacheOff ? false : {}, onQuery: () => hook++ });
const qs = [];
for (let q = 0; q < 20000; q++) { const i = (q * 7919) % 10000; qs.push(dnsPacket.encode({ type: 'query', id: q & 0xffff, flags: 256, questions: [{ type: 'A', name: q % 10 === 9 ? `missing-${i}.bench-${i % 10}.svc.cluster.local` : `svc-${i}.bench-${i % 10}.svc.cluster.local` }] })); }
for (let round = 0; round < 5; round++) {
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (let r = 0; r < 10; r++) for (const m of qs) { srv.respond(m, 'udp', '127.0.0.1'); n++; }
  const dt = Number(process.hrtime.bigint() - t0);
  console.log(`${cacheOff ? 'nocache' : 'cache'} ${(dt / n).toFixed(0)} ns/query`);
}
