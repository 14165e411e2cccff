// Small builders for Services and Pods used by the unit tests.
import type { Container, Pod, Service, ServiceSpec } from '@knet/api';

export interface PodSpecLite {
  name: string;
  ip?: string | string[];
  ready?: boolean;
  labels?: Record<string, string>;
  namespace?: string;
  terminating?: boolean;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  ports?: Container['ports'];
  readySince?: string;
}

export function pod(p: PodSpecLite): Pod {
  const ips = p.ip === undefined ? [] : Array.isArray(p.ip) ? p.ip : [p.ip];
  const out: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace ?? 'default',
      uid: `uid-${p.name}`,
      labels: p.labels ?? { app: 'web' },
    },
    spec: { containers: [{ name: 'c', ports: p.ports }] },
    status: {
      phase: p.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: p.ready === false ? 'False' : 'True', ...(p.readySince ? { lastTransitionTime: p.readySince } : {}) }],
    },
  };
  if (ips.length > 0) {
    out.status!.podIP = ips[0];
    out.status!.podIPs = ips.map((ip) => ({ ip }));
  }
  if (p.terminating) out.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  if (p.nodeName) out.spec.nodeName = p.nodeName;
  if (p.hostname) out.spec.hostname = p.hostname;
  if (p.subdomain) out.spec.subdomain = p.subdomain;
  return out;
}

export function service(spec: Partial<ServiceSpec> = {}, meta: { name?: string; namespace?: string; labels?: Record<string, string>; uid?: string } = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: meta.name ?? 'web',
      namespace: meta.namespace ?? 'default',
      uid: meta.uid ?? 'svc-uid',
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(meta.labels ? { labels: meta.labels } : {}),
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: '127.96.0.20',
      clusterIPs: ['127.96.0.20'],
      ipFamilies: ['IPv4'],
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...spec,
    },
  };
}

/** Pods web-0 … web-(n-1) with IPs 127.244.x.y, all ready. */
export function pods(n: number, extra: Partial<PodSpecLite> = {}): Pod[] {
  return Array.from({ length: n }, (_, i) => pod({ name: `web-${i}`, ip: `127.244.${Math.floor(i / 250)}.${(i % 250) + 1}`, ...extra }));
}
