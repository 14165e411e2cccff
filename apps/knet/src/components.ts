// The local cluster's components: which app each runs, with which flags, and how it shows it is ready.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
// The subpath, not the package: the supervisor needs address arithmetic, not gRPC, level and protobufjs.
import { formatIP, parseCIDR } from '@knet/ipam/cidr';
import { apiserverTlsFlags, controllerIpamTlsFlags, ipamTlsFlags } from '@knet/pki';
import type { ComponentSpec } from './supervisor.js';
import type { ClusterOptions } from './cluster-options.js';
import { httpReady, tcpReady } from './probe.js';
import { mallocEnv } from './malloc-env.js';

export { defaultClusterOptions, type ClusterOptions } from './cluster-options.js';

const appsDir = fileURLToPath(new URL('../../', import.meta.url));

/** The entry point of a sibling app in this monorepo. */
export function appMain(app: string): string {
  return join(appsDir, app, 'dist', 'main.js');
}

export function apiserverURL(o: Pick<ClusterOptions, 'host' | 'apiPort' | 'credentials'>): string {
  return `${o.credentials ? 'https' : 'http'}://${o.host}:${o.apiPort}`;
}

/** The n-th address of the primary service range (1: `kubernetes`, 10: `kube-dns`), as Kubernetes numbers them. */
export function serviceIP(o: ClusterOptions, n: number): string {
  const cidr = parseCIDR(o.serviceClusterIPRange.split(',')[0]!);
  return formatIP({ family: cidr.family, value: cidr.network + BigInt(n) });
}

/** Each component's own kubeconfig, in the data dir. */
export function componentKubeconfig(o: ClusterOptions, component: string): string {
  return join(o.dataDir.root, 'kubeconfigs', `${component}.kubeconfig`);
}

/**
 * V8 flags per component. A small young generation: V8 grows each semi-space to 4–8 MiB while the
 * modules load and never gives it back; capped at 1 MiB, ipam and DNS idle ~5 MiB smaller each. The
 * apiserver, the controller and the proxy carry load: 2 MiB (the same idle size as 1 MiB; under 32
 * clients creating Services a 1 MiB cap cost the apiserver 10–15% more CPU per create, and under 200 pod
 * readiness flips/s the controller spent 16% of its time in 400 minor collections per 10 s).
 * One V8 platform thread instead of four: fewer threads, fewer malloc arenas holding freed memory
 * (measured: the idle cluster 399 → 387 MiB; bench:api's CPU per create unchanged or lower on 2 cores).
 * ipam and DNS also run with --optimize-for-size (a heap kept smaller at some CPU): ipam answers one batched
 * call per group of creates and DNS answers repeated questions in C, so neither spends its time in JS
 * (measured: 3–6 MiB less each when idle; DNS also sets it at run time, apps/dns/src/heap.ts, which comes too late
 * for the heap its modules build while loading).
 * --no-icu-timezone-data: V8 takes the local time zone from the C library, not ICU; with ICU the first Date
 * formatting (toISOString too) pages in ~0.6 MiB of ICU's zone tables in each process. Only the zone's display
 * name in Date#toString differs ("UTC" for "Coordinated Universal Time"); knet writes times as ISO 8601.
 * docker-compose.yml sets the same (NODE_OPTIONS, and the node command line for what NODE_OPTIONS refuses);
 * bin/knet.js gives the supervisor itself the light flags through its #! line; the benchmarks start the
 * components they measure with these flags too.
 */
const sharedNodeFlags = ['--v8-pool-size=1', '--no-icu-timezone-data'];
const idleNodeFlags = ['--optimize-for-size', '--max-semi-space-size=1', ...sharedNodeFlags];
const loadedNodeFlags = ['--max-semi-space-size=2', ...sharedNodeFlags];
export const componentNodeFlags = {
  ipam: idleNodeFlags,
  apiserver: loadedNodeFlags,
  controller: loadedNodeFlags,
  dns: idleNodeFlags,
  proxy: loadedNodeFlags,
} as const satisfies Record<string, readonly string[]>;

const node = (app: keyof typeof componentNodeFlags, args: string[]) => ({ command: process.execPath, args: [...componentNodeFlags[app], appMain(app), ...args], env: mallocEnv });

/** ipam and the apiserver: started first; the rest need the API. */
export function controlPlaneComponents(o: ClusterOptions): ComponentSpec[] {
  const api = apiserverURL(o);
  const ipam = `${o.host}:${o.ipamPort}`;
  return [
    {
      name: 'ipam',
      address: ipam,
      ...node('ipam', [
        '--listen', ipam,
        '--data-dir', o.dataDir.component('ipam'),
        '--service-cluster-ip-range', o.serviceClusterIPRange,
        '--node-port-range', o.nodePortRange,
        '--load-balancer-ip-range', o.loadBalancerIPRange,
        '--apiserver', api,
        '--repair-interval', o.ipamRepairInterval,
        ...(o.credentials ? ipamTlsFlags(o.credentials) : []),
      ]),
      ready: () => tcpReady(o.host, o.ipamPort),
    },
    {
      name: 'apiserver',
      address: api,
      ...node('apiserver', [
        '--listen', `${o.host}:${o.apiPort}`,
        '--data-dir', o.dataDir.component('apiserver'),
        '--ipam', ipam,
        '--service-cluster-ip-range', o.serviceClusterIPRange,
        '--advertise-address', o.host,
        ...(o.fsync ? ['--fsync', o.fsync] : []),
        ...(o.credentials ? apiserverTlsFlags(o.credentials) : ['--insecure-plain-http']),
      ]),
      ready: () => httpReady(`${api}/readyz`, { ca: o.credentials?.caPem }),
    },
  ];
}

/** The controller, cluster DNS and this node's proxy: API clients, each with its own kubeconfig. */
export function nodeComponents(o: ClusterOptions): ComponentSpec[] {
  const h = o.host;
  return [
    {
      name: 'controller',
      address: `${h}:${o.controllerHealthzPort}`,
      ...node('controller', [
        '--kubeconfig', componentKubeconfig(o, 'controller'),
        '--ipam', `${h}:${o.ipamPort}`,
        '--healthz-bind-address', h,
        '--healthz-port', String(o.controllerHealthzPort),
        ...(o.credentials ? controllerIpamTlsFlags(o.credentials) : []),
      ]),
      ready: () => httpReady(`http://${h}:${o.controllerHealthzPort}/healthz`),
    },
    {
      name: 'dns',
      address: `${h}:${o.dnsPort}`,
      ...node('dns', [
        '--kubeconfig', componentKubeconfig(o, 'dns'),
        '--listen', `${h}:${o.dnsPort}`,
        '--metrics-listen', `${h}:${o.dnsMetricsPort}`,
        '--cluster-domain', o.clusterDomain,
        '--nameserver-ip', serviceIP(o, 10),
        '--forward-allow', `127.0.0.0/8,::1/128,${o.clusterCIDR}`,
      ]),
      ready: () => httpReady(`http://${h}:${o.dnsMetricsPort}/ready`),
    },
    {
      name: 'proxy',
      address: `${h}:${o.proxyHealthzPort}`,
      ...node('proxy', [
        '--kubeconfig', componentKubeconfig(o, 'proxy'),
        '--hostname-override', o.nodeName,
        '--nodeport-addresses', o.nodeAddress,
        '--healthz-bind-address', `${h}:${o.proxyHealthzPort}`,
        '--metrics-bind-address', `${h}:${o.proxyMetricsPort}`,
      ]),
      ready: () => httpReady(`http://${h}:${o.proxyHealthzPort}/readyz`),
    },
  ];
}
