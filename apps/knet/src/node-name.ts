// This machine as a Node: its name and its pod range (what `knet up` registers).
import { hostname } from 'node:os';

/** The machine's hostname as a valid Node name (DNS-1123 subdomain). */
export function localNodeName(): string {
  const name = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253);
  return name || 'local';
}

/** The first /24 of an IPv4 cluster CIDR: this node's pod range. */
export function nodePodCIDR(clusterCIDR: string): string {
  const [base, bits] = clusterCIDR.split('/');
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(base) || Number(bits) > 24) throw new Error(`--cluster-cidr ${clusterCIDR} must be an IPv4 CIDR of /24 or larger`);
  const o = base.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.0/24`;
}
