// `node packages/dns/bench/miss-path.mjs`: where a cache miss goes — dns-packet decode, zone lookup, dns-packet encode (bench:dns data, A questions).
import dnsPacket from 'dns-packet';
import { ClusterZone } from '../../packages/dns/dist/index.js';
const zone = new ClusterZone();
for (let i = 0; i < 10000; i++) {
  zone.upsertService({ metadata: { name: `svc-${i}`, namespace: `bench-${i % 10}` }, spec: { clusterIP: `127.112.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80 }] } });
  zone.upsertEndpointSlice({ metadata: { name: `svc-${i}-1`, namespace: `bench-${i % 10}`, labels: { 'kubernetes.io/service-name': `svc-${i}` } }, addressType: 'IPv4', endpoints: Array.from({ length: 10 }, (_, e) => ({ addresses: [`127.100.${(i * 10 + e) >> 8 & 255}.${(i * 10 + e) & 255}`] })), ports: [{ name: 'http', port: 8080 }] });
}
const qs = [];
for (let q = 0; q < 20000; q++) { const i = (q * 7919) % 10000; qs.push(dnsPacket.encode({ type: 'query', id: q & 0xffff, flags: 256, questions: [{ type: 'A', name: q % 10 === 9 ? `missing-${i}.bench-${i % 10}.svc.cluster.local` : `svc-${i}.bench-${i % 10}.svc.cluster.local` }] })); }
const decoded = qs.map((m) => dnsPacket.decode(m));
const answers = decoded.map((d) => zone.resolve({ name: d.questions[0].name, type: 1, class: 1 }));
const bench = (name, f) => { let best = Infinity; for (let r = 0; r < 5; r++) { const t0 = process.hrtime.bigint(); for (let k = 0; k < 5; k++) for (let j = 0; j < qs.length; j++) f(j); best = Math.min(best, Number(process.hrtime.bigint() - t0) / (5 * qs.length)); } console.log(name.padEnd(10), best.toFixed(0), 'ns (best of 5)'); };
bench('decode', (j) => dnsPacket.decode(qs[j]));
bench('resolve', (j) => zone.resolve({ name: decoded[j].questions[0].name, type: 1, class: 1 }));
bench('encode', (j) => { const a = answers[j]; return dnsPacket.encode({ type: 'response', id: 1, flags: 0x8500 | (a.rcode === 'NXDOMAIN' ? 3 : 0), questions: decoded[j].questions, answers: a.answers, authorities: a.authority, additionals: a.additional }); });
