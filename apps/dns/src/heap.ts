// Imported first by main.ts: V8's heap sizing for a long-running, memory-bounded server.
// Default heuristics let the heap grow about 2× under query load (bench:dns, 10,000 Services + 100,000
// endpoints: 180 → 340 MiB RSS); optimize-for-size keeps it near the synced size (≈ 170 MiB) for a few
// percent of throughput, inside CoreDNS' (pods + services)/1000 + 54 MB budget.
import v8 from 'node:v8';

v8.setFlagsFromString('--optimize-for-size');
