// `knet up` registers the machine as a Node, as a kubelet does: its address and its pod range.
import { KubeClient, resources, isAlreadyExists } from '@knet/client';
import type { Node } from '@knet/api';

export interface NodeInfo {
  name: string;
  address: string;
  podCIDR: string;
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
