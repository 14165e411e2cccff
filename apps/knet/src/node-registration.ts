// `knet up` registers the machine as a Node, as a kubelet does: its address and its pod range.
import { hostname } from 'node:os';
import { KubeClient, resources, isAlreadyExists } from '@knet/client';
import type { Node } from '@knet/api';

export interface NodeInfo {
  name: string;
  address: string;
  podCIDR: string;
}

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

export async function registerNode(client: KubeClient, n: NodeInfo): Promise<void> {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' } },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
  };
  try {
    await client.create(resources.nodes, undefined, node);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    await client.patch(resources.nodes, undefined, n.name, { spec: node.spec }, 'merge');
  }
  const now = new Date().toISOString();
  const status: Node['status'] = {
    addresses: [
      { type: 'InternalIP', address: n.address },
      { type: 'Hostname', address: n.name },
    ],
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'knet node is ready', lastTransitionTime: now }],
    nodeInfo: { kubeletVersion: 'v1.32.0-knet', kubeProxyVersion: 'v1.32.0-knet', operatingSystem: 'linux', architecture: process.arch, containerRuntimeVersion: 'knet://process' },
  };
  await client.patch(resources.nodes, undefined, n.name, { status }, 'merge', { subresource: 'status' });
}
