// The data model shared by the server, the client and the repair loop.

export type AllocationKind = 'ClusterIP' | 'NodePort' | 'LoadBalancerIP';
export const ALLOCATION_KINDS: readonly AllocationKind[] = ['ClusterIP', 'NodePort', 'LoadBalancerIP'];

export interface Allocation {
  kind: AllocationKind;
  /** An IP address, or a port as a decimal string. */
  value: string;
  /** 'namespace/name' of the Service holding it. */
  owner: string;
  family?: 'IPv4' | 'IPv6';
  /** RFC 3339 time of the allocation. */
  allocatedAt: string;
}

export interface Ranges {
  /** Primary first; at most one per family. */
  serviceCIDRs: string[];
  /** e.g. '30000-32767'. */
  nodePortRange: string;
  loadBalancerCIDRs: string[];
}

/** What one Service holds, as the repair loop reads it from the API. */
export interface ServiceInUse {
  owner: string;
  clusterIPs: string[];
  nodePorts: number[];
  loadBalancerIPs: string[];
}

export function isAllocationKind(s: unknown): s is AllocationKind {
  return typeof s === 'string' && (ALLOCATION_KINDS as readonly string[]).includes(s);
}

/** Kubernetes timestamps are RFC 3339 with second precision. */
export function rfc3339(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
