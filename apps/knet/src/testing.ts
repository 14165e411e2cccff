// Start a real local cluster (`knet up` as a child process) for tests and benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { loadKubeconfig, type ClusterConfig } from '@knet/client';
import { dataDir as layout, readState, type ClusterState } from './data-dir.js';
import { PodIPAllocator } from './pod-ip.js';

export { componentNodeFlags } from './components.js';

export const knetBin = fileURLToPath(new URL('../bin/knet.js', import.meta.url));

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** `knet up` flags that put every component on a free port, so test clusters never collide. */
export async function portFlags(): Promise<string[]> {
  const flags: string[] = [];
  // A port closed a moment ago can be handed out again at once: never give two flags the same one.
  const taken = new Set<number>();
  for (const flag of ['--api-port', '--ipam-port', '--dns-port', '--dns-metrics-port', '--controller-healthz-port', '--proxy-healthz-port', '--proxy-metrics-port']) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    flags.push(flag, String(port));
  }
  return flags;
}

/**
 * The sets of address ranges test clusters take, leased machine-wide like pod IPs (pod-ip.ts: a file per
 * lease, created with O_EXCL, reclaimed once the process that took it is gone): clusters of test processes
 * running side by side never share a VIP, pod address or NodePort. (Derived from the process ID, two of
 * them sometimes did: a pod could not bind its address, or DNS answered from another cluster.)
 */
const rangeSets = new PodIPAllocator(join(tmpdir(), 'knet-test-range-sets'), '127.0.0.0/24');

/**
 * Address ranges of their own for each test cluster (a /20 of services, a /24 of pods and of
 * LoadBalancer IPs, a node address for NodePorts), held by this process until it exits.
 */
export function rangeFlags(): string[] {
  // From a random set on: one just given up is not taken again at once, should any of its processes linger.
  const k = Number(rangeSets.allocate(`test cluster of pid ${process.pid}`, randomInt(253)).split('.')[3]);
  return [
    '--service-cluster-ip-range', `127.${96 + (k >> 4)}.${(k & 15) << 4}.0/20`,
    '--cluster-cidr', `127.244.${k}.0/24`,
    '--load-balancer-ip-range', `127.200.${k}.0/24`,
    '--node-address', `127.250.${k}.1`,
  ];
}

export interface TestCluster {
  dataDir: string;
  /** The `knet up` flags it runs with (besides --data-dir). */
  args: string[];
  apiserver: string;
  kubeconfig: string;
  /** The admin's connection: server, CA, token (from the kubeconfig knet up wrote). */
  config: ClusterConfig;
  /** undici options that reach the apiserver as admin: `connect` trusts the cluster CA. */
  connect: { ca?: string };
  authHeaders: Record<string, string>;
  /** An undici dispatcher that trusts the cluster CA. */
  dispatcher: Agent;
  process: ChildProcess;
  state(): ClusterState;
  /** The pid of one component, as the supervisor reports it now. */
  pid(component: string): number | undefined;
  stop(): Promise<void>;
}

/**
 * Runs `knet up` on its own ports and ranges (plus `args`); `reuseArgs` (a previous cluster's `args`)
 * restarts a cluster exactly as it was.
 */
export async function startCluster(opts: { dataDir?: string; args?: string[]; reuseArgs?: string[]; timeoutMs?: number } = {}): Promise<TestCluster> {
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'knet-'));
  const flags = opts.reuseArgs ?? [...(await portFlags()), ...rangeFlags(), ...(opts.args ?? [])];
  const args = [knetBin, 'up', '--data-dir', dir, ...flags];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const paths = layout(dir);
  for (;;) {
    const s = readState(paths);
    if (s && s.pid === child.pid && s.ready) {
      const config = await loadKubeconfig(s.kubeconfig);
      const connect = config.caData ? { ca: config.caData } : {};
      const dispatcher = new Agent({ connect });
      return {
        config,
        connect,
        authHeaders: config.token ? { authorization: `Bearer ${config.token}` } : {},
        dispatcher,
        dataDir: dir,
        args: flags,
        apiserver: s.apiserver,
        kubeconfig: s.kubeconfig,
        process: child,
        state: () => readState(paths)!,
        pid: (name) => readState(paths)?.components.find((c) => c.name === name)?.pid,
        stop: async () => {
          await dispatcher.close();
          await stop();
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`knet up did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The demo backend (answers with its pod name), for `knet run ... -- node <echoServer>`. */
export const echoServer = fileURLToPath(new URL('./demo/echo-server.js', import.meta.url));
