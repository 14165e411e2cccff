// Object builders shared by the tests.
import type { EndpointSlice, Service, ServicePort } from '@knet/api';

export function clusterIPService(ns: string, name: string, ips: string[], ports: ServicePort[] = []): Service {
  return { metadata: { name, namespace: ns }, spec: { type: 'ClusterIP', clusterIP: ips[0], clusterIPs: ips, ports } };
}

export function headlessService(ns: string, name: string, ports: ServicePort[] = [], publishNotReadyAddresses = false): Service {
  return { metadata: { name, namespace: ns }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports, publishNotReadyAddresses } };
}

export function externalNameService(ns: string, name: string, externalName: string): Service {
  return { metadata: { name, namespace: ns }, spec: { type: 'ExternalName', externalName } };
}

export interface EndpointSpec {
  ip: string;
  hostname?: string;
  ready?: boolean;
}

export function slice(ns: string, name: string, service: string, endpoints: EndpointSpec[], ports: { name?: string; port: number; protocol?: 'TCP' | 'UDP' }[] = [], addressType: 'IPv4' | 'IPv6' = 'IPv4'): EndpointSlice {
  return {
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    addressType,
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], hostname: e.hostname, conditions: { ready: e.ready ?? true } })),
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
  };
}
