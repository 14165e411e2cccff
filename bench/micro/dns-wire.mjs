// A focused harness for the wire server (not part of the package build): a ClusterZone with the
// bench:dns data set (10,000 Services × 10 endpoints) in a child process, dnsperf against it, and
// dnsmasq with the same names for the ratio. Numbers from a shared machine: compare runs back to back.
//   node packages/dns/bench/wire.mjs [seconds=10] [--no-dnsmasq] [--no-cache] [--prof] [--qps=N]
// Env: WIRE_WORKERS=N (cluster workers sharing the UDP port), WIRE_NODE_FLAGS (extra node flags for the server, e.g. --max-semi-space-size=8), WIRE_NO_OFS=1 (no --optimize-for-size).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import cluster from 'node:cluster';

const SERVICES = 10_000;
const NAMESPACES = 10;
const ZONE = 'cluster.local';
const fqdn = (i) => `svc-${i}.bench-${i % NAMESPACES}.svc.${ZONE}`;
const clusterIP = (i) => `127.112.${i >> 8}.${i & 255}`;
const epIP = (n) => `127.${100 + (n >>> 16)}.${(n >>> 8) & 255}.${n & 255}`;

const WORKERS = Number(process.env.WIRE_WORKERS ?? 1);
if (process.argv[2] === '--serve' && WORKERS > 1 && cluster.isPrimary) {
  // Step 2 experiment: N cluster workers, each with its own zone, sharing one UDP socket through the primary.
  const probe = dgram.createSocket('udp4');
  await new Promise((r) => probe.bind(0, '127.0.0.1', r));
  const port = probe.address().port;
  probe.close();
  const ws = Array.from({ length: WORKERS }, () => cluster.fork({ WIRE_PORT: String(port) }));
  await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  process.send({ port });
  process.on('message', async (m) => {
    if (m === 'start') ws.forEach((w) => w.send('start'));
    if (m === 'stop') {
      const rs = await Promise.all(ws.map((w) => new Promise((r) => { w.on('message', (x) => x.stopped && r(x)); w.send('stop'); })));
      const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
      process.send({ stopped: true, queries: sum('queries'), cpuUs: sum('cpuUs'), rss: sum('rss'), split: rs.map((r) => r.queries).join('/') });
      process.disconnect();
    }
  });
} else if (process.argv[2] === '--serve') {
  const { ClusterZone, createDnsServer } = await import('../../packages/dns/dist/index.js');
  const zone = new ClusterZone({ nameservers: ['127.96.0.10'] });
  for (let i = 0; i < SERVICES; i++) {
    const ns = `bench-${i % NAMESPACES}`;
    zone.upsertService({ metadata: { name: `svc-${i}`, namespace: ns }, spec: { clusterIP: clusterIP(i), clusterIPs: [clusterIP(i)], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    zone.upsertEndpointSlice({
      metadata: { name: `svc-${i}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 10 }, (_, e) => ({ addresses: [epIP(i * 10 + e)], conditions: { ready: true } })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  }
  // Like apps/dns: count every query (plain numbers).
  let n = 0;
  const server = createDnsServer({ zone, forward: false, ...(process.env.WIRE_PORT ? { udp: { port: Number(process.env.WIRE_PORT) }, tcp: false } : {}), ...(process.argv.includes('--no-cache') ? { replyCache: false } : {}), onQuery: (info) => { n += info.durationMs >= 0 ? 1 : 0; } });
  const { udpPort } = await server.listen();
  process.send({ port: udpPort });
  let cpu0;
  process.on('message', async (m) => {
    if (m === 'start') {
      cpu0 = process.cpuUsage();
      n = 0;
    }
    if (m === 'stop') {
      const cpu = process.cpuUsage(cpu0);
      await server.close();
      process.send({ stopped: true, queries: n, cpuUs: cpu.user + cpu.system, rss: process.memoryUsage().rss });
      process.disconnect();
    }
  });
} else {
  const args = process.argv.slice(2);
  const seconds = Number(args.find((a) => /^\d+$/.test(a)) ?? 10);
  const qps = args.find((a) => a.startsWith('--qps='))?.slice(6);
  const dir = mkdtempSync(join(tmpdir(), 'knet-dns-wire-'));
  let rand = 42 >>> 0;
  const rng = () => {
    rand = (rand + 0x6d2b79f5) >>> 0;
    let t = rand;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const lines = [];
  for (let q = 0; q < 100_000; q++) {
    const i = Math.floor(rng() * SERVICES);
    lines.push(rng() < 0.9 ? `${fqdn(i)} A` : `missing-${i}.bench-${i % NAMESPACES}.svc.${ZONE} A`);
  }
  const queryFile = join(dir, 'queries');
  writeFileSync(queryFile, lines.join('\n') + '\n');

  const dnsperf = (port) =>
    new Promise((resolve, reject) => {
      const c = spawn('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', '10', '-q', '100', ...(qps ? ['-Q', qps] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      c.on('error', reject);
      c.on('exit', () => {
        const num = (re) => Number(re.exec(out)?.[1] ?? NaN);
        resolve({ qps: num(/Queries per second:\s+([\d.]+)/), avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000, lost: num(/Queries lost:\s+(\d+)/), codes: /Response codes:\s+(.*)/.exec(out)?.[1] });
      });
    });

  const child = spawn(process.execPath, [...(process.env.WIRE_NO_OFS ? [] : ['--optimize-for-size']), ...(process.env.WIRE_NODE_FLAGS ? process.env.WIRE_NODE_FLAGS.split(' ') : []), ...(args.includes('--prof') ? ['--cpu-prof', `--cpu-prof-dir=${process.cwd()}`] : []), fileURLToPath(import.meta.url), '--serve', ...(args.includes('--no-cache') ? ['--no-cache'] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((r) => child.once('message', (m) => r(m.port)));
  child.send('start');
  const knet = await dnsperf(port);
  child.send('stop');
  const stopped = await new Promise((r) => child.on('message', (m) => m.stopped && r(m)));
  await new Promise((r) => child.once('exit', r));
  console.log(`knet    ${knet.qps.toFixed(0)} QPS avg ${knet.avgMs.toFixed(2)} ms lost ${knet.lost} (${knet.codes}); server counted ${stopped.queries}, ${(stopped.cpuUs / stopped.queries).toFixed(2)} µs CPU/query, rss ${(stopped.rss / 2 ** 20).toFixed(0)} MiB${stopped.split ? ` (workers ${stopped.split})` : ''}`);

  if (!args.includes('--no-dnsmasq')) {
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, Array.from({ length: SERVICES }, (_, i) => `${clusterIP(i)} ${fqdn(i)}`).join('\n') + '\n');
    chmodSync(dir, 0o755);
    chmodSync(hosts, 0o644);
    const u = dgram.createSocket('udp4');
    await new Promise((r) => u.bind(0, '127.0.0.1', r));
    const mport = u.address().port;
    u.close();
    const dm = spawn('dnsmasq', ['-k', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, `--port=${mport}`, '--listen-address=127.0.0.1', '--bind-interfaces', `--local=/${ZONE}/`, '--local-ttl=5', '--pid-file=', '--log-facility=-'], { stdio: 'ignore' });
    // dnsmasq reads the hosts file at start: ask until it answers (deadline 10 s).
    const probe = dgram.createSocket('udp4');
    await new Promise((resolve, reject) => {
      const q = Buffer.from('0001010000010000000000000573766330310000010001', 'hex'); // "svc01." A
      const deadline = Date.now() + 10_000;
      const timer = setInterval(() => (Date.now() > deadline ? (clearInterval(timer), reject(new Error('dnsmasq did not answer'))) : probe.send(q, mport, '127.0.0.1')), 50);
      probe.once('message', () => {
        clearInterval(timer);
        resolve();
      });
    }).finally(() => probe.close());
    const ticks = () => { try { return readFileSync(`/proc/${dm.pid}/stat`, "utf8").split(") ")[1].split(" ").slice(11, 13).reduce((a, b) => a + Number(b), 0); } catch { return NaN; } };
    const t0 = ticks();
    const ref = await dnsperf(mport);
    const cpuUs = ((ticks() - t0) * 1e6) / 100; // USER_HZ = 100
    dm.kill('SIGTERM');
    await new Promise((r) => dm.once('exit', r));
    console.log(`dnsmasq ${ref.qps.toFixed(0)} QPS avg ${ref.avgMs.toFixed(2)} ms lost ${ref.lost}, ${(cpuUs / (ref.qps * seconds)).toFixed(2)} µs CPU/query; ratio ${(knet.qps / ref.qps).toFixed(2)}`);
  }
  rmSync(dir, { recursive: true, force: true });
}
