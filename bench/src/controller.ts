// npm run bench:controller (issue 3): S Services × P Pods, then Pod readiness flips at a
// fixed rate; reports initial sync time, Ready-change → EndpointSlice-write latency
// (from the last-change-trigger-time annotation, seen on a watch) and peak RSS. Writes bench/RESULTS.md.
// Twice, side by side: with the apiserver's default `--fsync interval`, then with `--fsync always`
// (each write waits for the disk), on a fresh control plane each. The apiserver and the controller
// run with the V8 flags `knet up` gives them.
//   npm run bench:controller -- [--services 1000] [--pods 10] [--rate 200] [--seconds 30] [--fsync interval,always]
import { fsyncModes, type FsyncMode } from '@knet/store';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { EndpointSlice, Pod } from '@knet/api';
import { KubeClient, resources } from '@knet/client';
import { startControlPlane } from '@knet/apiserver-app/testing';
import { componentNodeFlags } from '@knet/knet-app/testing';
import { fileURLToPath } from 'node:url';
import { cpuMs, fmt, machine, runConcurrently, summarize, table, writeSection } from './results.js';
import { until } from '@knet/component/testing';
import { LatencyBreakdown, wallMs, type Flip } from './controller-latency.js';

const CONTROLLER_MAIN = fileURLToPath(new URL('../../apps/controller/dist/main.js', import.meta.url));

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' }, pods: { type: 'string', default: '10' }, rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '30' },
    fsync: { type: 'string', default: 'interval,always' },
  },
});
const modes = values.fsync.split(',') as FsyncMode[];
if (modes.length === 0 || modes.some((m) => !fsyncModes.includes(m))) throw new Error(`--fsync: a comma-separated list of ${fsyncModes.join(' and ')}, got ${values.fsync}`);
const S = Number(values.services);
const P = Number(values.pods);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const ns = 'bench';

/** The apiserver's histogram of synced commit durations: cumulative counts by upper bound in seconds. */
function storeCommits(text: string, histogram = 'knet_store_commit_duration_seconds'): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`^${histogram}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))) buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  return buckets;
}

function diffCommits(after: Map<number, number>, before: Map<number, number>): { all: number; over(seconds: number): number } {
  const d = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  return { all: d(Infinity), over: (seconds) => d(Infinity) - d(seconds) };
}

/** Endpoints in the bench's slices whose ready condition is not their Pod's Ready condition. */
async function sliceMismatches(client: KubeClient): Promise<number> {
  const pods = await client.list<Pod>(resources.pods, { namespace: ns });
  const ready = new Map(pods.items.map((p) => [p.metadata.name, p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True']));
  let wrong = 0;
  for (const s of (await client.list<EndpointSlice>(resources.endpointslices, { namespace: ns })).items) {
    for (const e of s.endpoints ?? []) if ((e.conditions?.ready ?? false) !== ready.get(e.targetRef?.name ?? '')) wrong++;
  }
  return wrong;
}

/** The apiserver's metrics; one scrape for everything: each resets its event loop lag. */
async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** The apiserver's default Node.js metrics: event loop lag since the last scrape, and GC time by kind. */
function runtimeMetrics(text: string): { lagMaxMs: number; lagP99Ms: number; gc: Map<string, number> } {
  const val = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  const gc = new Map<string, number>();
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count|bucket)\{(?:le="([^"]+)",)?kind="(\w+)"(?:,le="([^"]+)")?\} (\S+)$/gm)) {
    gc.set(`${m[3]} ${m[1]}${m[2] ?? m[4] ? ` ${m[2] ?? m[4]}` : ''}`, Number(m[5]));
  }
  return { lagMaxMs: val('nodejs_eventloop_lag_max_seconds'), lagP99Ms: val('nodejs_eventloop_lag_p99_seconds'), gc };
}

/** Major page faults of a process so far (pages read back from disk: a stalled process). */
function majorFaults(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[9]);
  } catch {
    return NaN;
  }
}

/** Bytes a process has had written to disk so far (/proc/<pid>/io). */
function writeBytes(pid: number | undefined): number {
  try {
    return Number(/^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

const podIP = (k: number) => `127.244.${Math.floor(k / 250)}.${(k % 250) + 1}`;

// KNET_BENCH_PROF=dir: CPU profiles of the apiserver and the controller; KNET_BENCH_DATA=dir keeps the store (its LevelDB LOG).
const profFlags = process.env.KNET_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.KNET_BENCH_PROF}`] : [];
interface Row {
  measure: string;
  value: string;
  target?: string;
  met?: boolean;
}

/** One fsync mode's figures, the latency breakdown, and the load average at its end. */
interface Run {
  rows: Row[];
  stages: string[][];
  load: number;
}

async function measure(fsync: FsyncMode): Promise<Run> {
  const dataDir = process.env.KNET_BENCH_DATA ? `${process.env.KNET_BENCH_DATA}/${fsync}` : undefined;
  const cp = await startControlPlane({ apiserverNodeFlags: [...componentNodeFlags.apiserver, ...profFlags], apiserverArgs: ['--fsync', fsync], ...(dataDir ? { dataDir } : {}) });
  const client = new KubeClient({ server: cp.url }, { connections: 32 });
  console.log(`--- apiserver --fsync ${fsync}`);
  try {
    await client.create(resources.namespaces, undefined, { metadata: { name: ns } });
    const t0 = Date.now();
    await runConcurrently(S, 32, (i) => client.create(resources.services, ns, { metadata: { name: `s${i}` }, spec: { selector: { app: `a${i}` }, ports: [{ port: 80, targetPort: 8080 }] } }));
    await runConcurrently(S * P, 32, async (k) => {
      const pod = await client.create<Pod>(resources.pods, ns, { metadata: { name: `p${Math.floor(k / P)}-${k % P}`, labels: { app: `a${Math.floor(k / P)}` } }, spec: { containers: [{ name: 'c' }] } });
      pod.status = { phase: 'Running', podIP: podIP(k), podIPs: [{ ip: podIP(k) }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] };
      await client.update(resources.pods, ns, pod, { subresource: 'status' });
    });
    console.log(`populated ${S} services, ${S * P} pods in ${Date.now() - t0} ms`);
    // Initial sync: the controller starts over existing Services and Pods and writes every Endpoints and slice.
    // Seen on a watch, not by polling lists: a list of every slice each 20 ms would load the apiserver
    // the controller is writing to, and the bench would measure itself.
    const before = await client.list<EndpointSlice>(resources.endpointslices, { namespace: ns, limit: 1 });
    const syncWatch = new AbortController();
    const fullSlices = new Set<string>();
    let lastFull = 0;
    const syncWatching = (async () => {
      try {
        for await (const ev of client.watch<EndpointSlice>(resources.endpointslices, { namespace: ns, resourceVersion: before.metadata.resourceVersion, signal: syncWatch.signal })) {
          const name = ev.object.metadata?.name ?? '';
          if (ev.type !== 'DELETED' && (ev.object.endpoints ?? []).length === P) {
            if (!fullSlices.has(name)) lastFull = Date.now();
            fullSlices.add(name);
          } else {
            fullSlices.delete(name);
          }
        }
      } catch { /* aborted */ }
    })();
    const t1 = Date.now();
    // At debug level the controller logs the times of each slice update: the latency breakdown
    // (it costs the controller ~0.2 ms CPU per flip; KNET_BENCH_TRACE=0 runs it at info).
    const breakdown = new LatencyBreakdown();
    const traceFlags = process.env.KNET_BENCH_TRACE === '0' ? [] : ['--log-level', 'debug'];
    const ctl = spawn(process.execPath, [...componentNodeFlags.controller, ...profFlags, ...(process.env.KNET_BENCH_TRACE_GC ? ['--trace-gc'] : []), CONTROLLER_MAIN, '--server', cp.url, '--healthz-port', '0', ...traceFlags], { stdio: ['ignore', 'pipe', 'inherit'] });
    ctl.stdout!.on('data', (chunk: Buffer) => breakdown.controllerOutput(chunk));
    try {
      await until('every slice full', () => fullSlices.size >= S || undefined, 300_000);
      const initialSync = lastFull - t1;
      syncWatch.abort();
      await syncWatching;
      console.log(`initial sync of ${S} services / ${S * P} pods: ${initialSync} ms (process start to last slice written)`);

      const latencies: number[] = [];
      const ac = new AbortController();
      const start = await client.list<EndpointSlice>(resources.endpointslices, { namespace: ns, limit: 1 });
      const watching = (async () => {
        try {
          for await (const ev of client.watch<EndpointSlice>(resources.endpointslices, { namespace: ns, resourceVersion: start.metadata.resourceVersion, signal: ac.signal })) {
            const tt = ev.object.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'];
            if (ev.type === 'MODIFIED' && tt) {
              const at = wallMs();
              latencies.push(at - Date.parse(tt));
              breakdown.sliceSeen(ev.object.metadata?.labels?.['kubernetes.io/service-name'] ?? '', Date.parse(tt), at);
            }
          }
        } catch { /* aborted */ }
      })();
      const flips = rate * seconds;
      const metrics0 = await scrape(cp.url);
      const commits0 = storeCommits(metrics0);
      const waits0 = storeCommits(metrics0, 'knet_store_commit_wait_seconds');
      const runtime0 = runtimeMetrics(metrics0);
      const written0 = writeBytes(cp.apiserverPid);
      const faults0 = [cp.apiserverPid, ctl.pid, process.pid].map(majorFaults);
      const benchLag = monitorEventLoopDelay({ resolution: 5 });
      benchLag.enable();
      let benchGcMax = 0;
      const gcObserver = new PerformanceObserver((list) => { for (const e of list.getEntries()) benchGcMax = Math.max(benchGcMax, e.duration); });
      gcObserver.observe({ entryTypes: ['gc'] });
      const cpu0 = [cpuMs(cp.apiserverPid), cpuMs(ctl.pid), process.cpuUsage()] as const;
      const tf = Date.now();
      const inflight: Promise<void>[] = [];
      // GET then PUT of the status. One merge PATCH per flip (as a kubelet sends) was tried: it costs the
      // apiserver as much CPU as GET + PUT, and its p99 came out 59-137 ms against 26-36 ms for GET + PUT
      // in three interleaved pairs, with 2-9 times as many commits over 10 ms.
      for (let k = 0; k < flips; k++) {
        const wait = tf + (k * 1000) / rate - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        inflight.push((async () => {
          const n = Math.floor(Math.random() * S * P);
          const name = `p${Math.floor(n / P)}-${n % P}`;
          const pod = await client.get<Pod>(resources.pods, ns, name);
          const ready = pod.status?.conditions?.[0]?.status === 'True';
          const now = new Date();
          pod.status = { ...pod.status, conditions: [{ type: 'Ready', status: ready ? 'False' : 'True', lastTransitionTime: now.toISOString() }] };
          const flip: Flip = { service: `s${Math.floor(n / P)}`, trigger: now.getTime(), putSent: wallMs() };
          breakdown.flip(flip);
          try {
            await client.update(resources.pods, ns, pod, { subresource: 'status' });
            flip.putAcked = wallMs();
          } catch { /* conflict with a concurrent flip */ }
        })());
      }
      await Promise.all(inflight);
      await until('the last flips', () => latencies.length >= flips * 0.95 || undefined, 10_000).catch(() => undefined);
      // CPU time per flip does not depend on what else the machine runs, unlike the latencies.
      const benchCpu = process.cpuUsage(cpu0[2]);
      const cpuPerFlip = [cpuMs(cp.apiserverPid) - cpu0[0], cpuMs(ctl.pid) - cpu0[1], (benchCpu.user + benchCpu.system) / 1000].map((ms) => fmt(ms / flips, 2));
      const metrics1 = await scrape(cp.url);
      const commits = diffCommits(storeCommits(metrics1), commits0);
      const waits = diffCommits(storeCommits(metrics1, 'knet_store_commit_wait_seconds'), waits0);
      const written = writeBytes(cp.apiserverPid) - written0;
      const runtime = runtimeMetrics(metrics1);
      // Fewer slice writes than flips is fine when flips coalesced (two of one Service in one sync, or a Pod
      // flipped back before its sync); a lost change is not: the slices must end up as the Pods are.
      const mismatches = await until('slices to agree with the Pods', async () => (await sliceMismatches(client)) === 0 || undefined, 10_000, 200).then(() => 0, () => sliceMismatches(client));
      ac.abort();
      await watching;
      const lat = summarize(latencies);
      const rssKB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${ctl.pid}/status`, 'utf8'))?.[1] ?? 0);
      const rows: Row[] = [
        { measure: `initial sync: ${S} Services × ${P} pods, controller start → last slice written (s)`, value: fmt(initialSync / 1000, 2), target: '≤ 3', met: initialSync <= 3000 },
        { measure: `Ready change → EndpointSlice write, ${rate} flips/s for ${seconds} s, p50 / p99 (ms)`, value: `${fmt(lat.p50, 0)} / ${fmt(lat.p99, 0)}`, target: 'p99 ≤ 50', met: lat.p99 <= 50 },
        { measure: 'slice writes seen / flips', value: `${latencies.length} / ${flips}` },
        { measure: 'endpoints whose readiness differs from their Pod\'s after the flips', value: String(mismatches), target: '0', met: mismatches === 0 },
        { measure: 'controller peak RSS (MiB)', value: fmt(rssKB / 1024, 0) },
        { measure: 'CPU time per flip, apiserver / controller / bench (ms)', value: cpuPerFlip.join(' / ') },
        { measure: 'apiserver commits during the flips: all / > 10 ms / > 25 ms / > 50 ms / > 100 ms', value: [commits.all, ...[0.01, 0.025, 0.05, 0.1].map(commits.over)].join(' / ') },
      ];
      console.log(rows.map((r) => `${r.measure}: ${r.value}`).join('\n'));
      console.log(`flips started at ${tf} (epoch ms)`);
      console.log(`slowest flips:\n${breakdown.slowest(15).join('\n')}`);
      const gcDiff = [...runtime.gc].filter(([k]) => !k.includes(' bucket') || /bucket (0\.01|0\.1|\+Inf)$/.test(k)).map(([k, v]) => `${k}=${fmt((v - (runtime0.gc.get(k) ?? 0)) * (k.endsWith('sum') ? 1000 : 1), 0)}`);
      console.log(`apiserver during the flips: event loop lag max ${fmt(runtime.lagMaxMs, 0)} ms, p99 ${fmt(runtime.lagP99Ms, 0)} ms; disk writes ${fmt(written / flips / 1024, 1)} KiB per flip; GC (ms, counts by bucket le) ${gcDiff.join(' ')}`);
      gcObserver.disconnect();
      console.log(`major page faults during the flips, apiserver / controller / bench: ${[cp.apiserverPid, ctl.pid, process.pid].map((p, i) => majorFaults(p) - faults0[i]).join(' / ')}`);
      console.log(`apiserver commits whose oldest write waited > 10 / 25 / 50 / 100 ms to start: ${[0.01, 0.025, 0.05, 0.1].map(waits.over).join(' / ')}`);
      console.log(`bench event loop delay during the flips: p99 ${fmt(benchLag.percentile(99) / 1e6, 0)} ms, max ${fmt(benchLag.max / 1e6, 0)} ms; longest GC pause ${fmt(benchGcMax, 0)} ms`);
      return { rows, stages: breakdown.report(), load: loadavg()[0] };
    } finally {
      ctl.kill('SIGTERM');
      await new Promise((r) => ctl.once('exit', r));
    }
  } finally {
    await client.close();
    await cp.stop();
  }
}

const runs: Run[] = [];
for (const mode of modes) runs.push(await measure(mode));
// Targets are judged on the first mode's column (the default's unless --fsync says otherwise).
const rows = [['measure', ...modes.map((m) => `knet, --fsync ${m}${m === 'interval' ? ' (default)' : ''}`), 'target', `met (${modes[0]})`]];
runs[0].rows.forEach((row, i) => rows.push([row.measure, ...runs.map((r) => r.rows[i].value), row.target ?? '', row.met === undefined ? '' : row.met ? 'yes' : 'no']));
// The machine may be shared: the 1-minute load average says how much the numbers were disturbed.
const body = `Command: \`npm run bench:controller\` · ${new Date().toISOString()} · ${machine()} · load average ${runs.map((r) => r.load.toFixed(1)).join(' / ')}\n\n${table(rows)}\n\n` +
  'Each column is a fresh control plane: the apiserver with `--fsync interval` (the default: a write is acknowledged once the OS has it, so it survives kill -9 and crashes of the apiserver, and it is on disk within 1 s) ' +
  'and with `--fsync always` (acknowledged once fdatasync returns, as etcd does). ' +
  'Initial sync is timed from the controller\'s spawn to the watch event of the last slice to fill (events, not list polling, so the bench does not load the apiserver). ' +
  'Latency is measured from the pod\'s Ready change (the slice\'s `endpoints.kubernetes.io/last-change-trigger-time`) to the slice\'s MODIFIED event on a watch. ' +
  'Fewer slice writes than flips is coalescing (two flips of one Service in one sync, or a Pod flipped back before its sync); the endpoints row checks that no change was lost. ' +
  'Each flip waits for two commits in turn (the Pod\'s status, then the slice), and a write that arrives while a commit is in progress waits for it. With `--fsync always` each commit waits for the disk: ' +
  'one slow cache flush (see the commits row, from the apiserver\'s `knet_store_commit_duration_seconds`) delays every flip in flight.' +
  (runs[0].stages.length === 0 ? '' : `\n\nWhere the time goes, per flip, with \`--fsync ${modes[0]}\`: the bench's timestamps joined with the controller's debug trace of each slice update (Pod event seen, sync started, update sent and answered; \`KNET_BENCH_TRACE=0\` runs the controller at info instead).\n\n${table(runs[0].stages)}`);
console.log(body);
writeSection('bench:controller — endpoints controller', body);
