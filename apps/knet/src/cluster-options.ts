// What a local cluster is made of: its data dir, addresses, ports and ranges, and their defaults.
import type { FsyncMode } from '@knet/store';
import type { ClusterCredentials } from '@knet/pki';
import type { DataDir } from './data-dir.js';

export interface ClusterOptions {
  dataDir: DataDir;
  host: string;
  apiPort: number;
  ipamPort: number;
  dnsPort: number;
  dnsMetricsPort: number;
  controllerHealthzPort: number;
  proxyHealthzPort: number;
  proxyMetricsPort: number;
  serviceClusterIPRange: string;
  nodePortRange: string;
  loadBalancerIPRange: string;
  clusterCIDR: string;
  clusterDomain: string;
  nodeName: string;
  /** This node's InternalIP: NodePorts listen there. */
  nodeAddress: string;
  /** How often ipam reconciles its allocations with the Services that exist. */
  ipamRepairInterval: string;
  /** When the apiserver acknowledges a write (its --fsync); undefined: its default, 'interval'. */
  fsync?: FsyncMode;
  /** TLS, tokens and ABAC (the default); undefined: plain HTTP, anyone may do anything (loopback only). */
  credentials?: ClusterCredentials;
}

export const defaultClusterOptions = {
  host: '127.0.0.1',
  apiPort: 6443,
  ipamPort: 9091,
  dnsPort: 10053,
  dnsMetricsPort: 9153,
  controllerHealthzPort: 10257,
  proxyHealthzPort: 10256,
  proxyMetricsPort: 10249,
  serviceClusterIPRange: '127.96.0.0/12',
  nodePortRange: '30000-32767',
  loadBalancerIPRange: '127.200.0.0/16',
  ipamRepairInterval: '60s',
  clusterCIDR: '127.244.0.0/16',
  clusterDomain: 'cluster.local',
  nodeAddress: '127.0.0.1',
} as const;
