// The local cluster's components: which app each runs, with which flags, and how it shows it is ready.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ComponentSpec } from './supervisor.js';
import type { DataDir } from './data-dir.js';
import { httpReady, tcpReady } from './probe.js';

export interface ClusterOptions {
  dataDir: DataDir;
  host: string;
  apiPort: number;
  ipamPort: number;
  serviceClusterIPRange: string;
  nodePortRange: string;
  loadBalancerIPRange: string;
  clusterCIDR: string;
  nodeName: string;
  /** How often ipam reconciles its allocations with the Services that exist. */
  ipamRepairInterval: string;
}

export const defaultClusterOptions = {
  host: '127.0.0.1',
  apiPort: 6443,
  ipamPort: 9091,
  serviceClusterIPRange: '127.96.0.0/12',
  nodePortRange: '30000-32767',
  loadBalancerIPRange: '127.200.0.0/16',
  ipamRepairInterval: '60s',
  clusterCIDR: '127.244.0.0/16',
} as const;

const appsDir = fileURLToPath(new URL('../../', import.meta.url));

/** The entry point of a sibling app in this monorepo. */
export function appMain(app: string): string {
  return join(appsDir, app, 'dist', 'main.js');
}

export function apiserverURL(o: ClusterOptions): string {
  return `http://${o.host}:${o.apiPort}`;
}

export function clusterComponents(o: ClusterOptions): ComponentSpec[] {
  const api = apiserverURL(o);
  const ipam = `${o.host}:${o.ipamPort}`;
  const node = (app: string, args: string[]) => ({ command: process.execPath, args: [appMain(app), ...args] });
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
      ]),
      ready: () => httpReady(`${api}/readyz`),
    },
  ];
}
