// Small predicates on Services shared by defaulting, validation, tables and env vars
// (k8s.io/kubernetes/pkg/api/service/util.go and helpers).
import type { Service } from './core.js';

export const ClusterIPNone = 'None';

/** Headless: exactly one clusterIP, "None" (after clusterIP was mirrored into clusterIPs). */
export function isHeadlessService(svc: Service): boolean {
  const ips = svc.spec?.clusterIPs;
  return Array.isArray(ips) && ips.length === 1 && ips[0] === ClusterIPNone;
}

/** A Service with a usable virtual IP. */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== ClusterIPNone;
}

/** NodePort, LoadBalancer, or ClusterIP with externalIPs. */
export function externallyAccessible(svc: Service): boolean {
  const t = svc.spec?.type;
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

/** LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort. */
export function needsHealthCheck(svc: Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local';
}

export function needsClusterIP(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName';
}

/** NodePort, or LoadBalancer unless allocateLoadBalancerNodePorts is false. */
export function needsNodePort(svc: Service): boolean {
  const t = svc.spec?.type;
  return t === 'NodePort' || (t === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false);
}
