// LoadBalancer Services get status.loadBalancer.ingress from ipam's pool (as k3s'
// ServiceLB or MetalLB do); Services that stop being LoadBalancers lose it.
import type { LoadBalancerIngress, Service } from '@knet/api';

export type LoadBalancerAction =
  /** Allocate (idempotently) and publish one ingress IP; `ip` is the one asked for, if any. */
  | { kind: 'assign'; ip?: string; current: string[] }
  /** Remove the ingress and release these IPs. */
  | { kind: 'clear'; release: string[] }
  | { kind: 'none' };

export function ingressIPs(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip);
}

/**
 * What the Service's load balancer status needs. A Service with a loadBalancerClass
 * belongs to another implementation and is left alone, as Kubernetes' service controller does.
 */
export function loadBalancerAction(svc: Service): LoadBalancerAction {
  const current = ingressIPs(svc);
  if (svc.spec.type === 'LoadBalancer') {
    if (svc.spec.loadBalancerClass) return { kind: 'none' };
    const ip = svc.spec.loadBalancerIP || current[0];
    return ip ? { kind: 'assign', ip, current } : { kind: 'assign', current };
  }
  if (current.length > 0 && !svc.spec.loadBalancerClass) return { kind: 'clear', release: current };
  return { kind: 'none' };
}

export function ingressFor(ip: string): LoadBalancerIngress[] {
  return [{ ip, ipMode: 'VIP' }];
}

/** Whether the published ingress already is exactly [{ip, ipMode: VIP}]. */
export function ingressIs(svc: Service, ip: string): boolean {
  const ing = svc.status?.loadBalancer?.ingress ?? [];
  return ing.length === 1 && ing[0].ip === ip && ing[0].ipMode === 'VIP' && !ing[0].hostname;
}

/** The Service with its load balancer ingress replaced, for a services/status write. */
export function withIngress(svc: Service, ingress: LoadBalancerIngress[]): Service {
  const next = structuredClone(svc);
  next.status = { ...(next.status ?? {}), loadBalancer: ingress.length > 0 ? { ingress } : {} };
  return next;
}
