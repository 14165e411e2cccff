// What `knet up` sets up once the API answers: this machine's Node, and the kube-dns
// Service in front of the DNS server (selector-less, so its Endpoints name the DNS process directly).
import { KubeClient, resources, isAlreadyExists } from '@knet/client';
import type { Endpoints, Service } from '@knet/api';
import { serviceIP, type ClusterOptions } from './components.js';
import { identityConfig } from './kubeconfigs.js';
import { nodePodCIDR } from './node-name.js';
import { registerNode } from './node-registration.js';

export interface KubeDnsTarget {
  /** The Service's ClusterIP: the range's tenth address, as kubeadm and kind set it up. */
  clusterIP: string;
  /** Where the DNS server listens (UDP and TCP), and its metrics. */
  address: string;
  dnsPort: number;
  metricsPort: number;
}

/** kube-system/kube-dns: selector-less, its Endpoints name the DNS server directly. */
export function kubeDnsService(o: KubeDnsTarget): { service: Service; endpoints: Endpoints } {
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' };
  const metadata = { name: 'kube-dns', namespace: 'kube-system', labels };
  return {
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        clusterIP: o.clusterIP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: o.dnsPort },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: o.dnsPort },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: o.metricsPort },
        ],
      },
    },
    endpoints: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata,
      subsets: [
        {
          addresses: [{ ip: o.address }],
          ports: [
            { name: 'dns', port: o.dnsPort, protocol: 'UDP' },
            { name: 'dns-tcp', port: o.dnsPort, protocol: 'TCP' },
            { name: 'metrics', port: o.metricsPort, protocol: 'TCP' },
          ],
        },
      ],
    },
  };
}

export async function ensureKubeDns(client: KubeClient, o: KubeDnsTarget): Promise<void> {
  const { service, endpoints } = kubeDnsService(o);
  try {
    await client.create(resources.services, 'kube-system', service);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    // A restart may have moved the DNS server's ports. (A merge patch replaces the list; a strategic one
    // would merge the UDP and TCP port 53 entries, whose merge key is the port alone, as in Kubernetes.)
    await client.patch(resources.services, 'kube-system', 'kube-dns', { spec: { ports: service.spec.ports } }, 'merge');
  }
  await client.update(resources.endpoints, 'kube-system', endpoints);
}

/** Registers the Node and kube-dns; the kubeconfigs (kubeconfigs.ts) are written before. */
export async function bootstrapCluster(o: ClusterOptions): Promise<void> {
  const client = new KubeClient(identityConfig(o, 'admin'));
  try {
    // independent objects: written concurrently
    await Promise.all([
      registerNode(client, { name: o.nodeName, address: o.nodeAddress, podCIDR: nodePodCIDR(o.clusterCIDR) }),
      ensureKubeDns(client, { clusterIP: serviceIP(o, 10), address: o.host, dnsPort: o.dnsPort, metricsPort: o.dnsMetricsPort }),
    ]);
  } finally {
    await client.close();
  }
}
