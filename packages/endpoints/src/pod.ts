// Pod predicates shared by the Endpoints and EndpointSlice computations
// (k8s.io/endpointslice/util and pkg/api/v1/pod).
import type { Pod, Service, ServicePort, ObjectReference } from '@knet/api';

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Succeeded or Failed: the Pod will never run again. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export function isPodTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp;
}

/** The Pod's IPs, podIPs first, falling back to podIP for writers that set only that. */
export function podIPs(pod: Pod): string[] {
  // A loop, not map + filter: called per Pod per sync, and the intermediate arrays fed the GC.
  const list: string[] = [];
  for (const p of pod.status?.podIPs ?? []) if (p.ip) list.push(p.ip);
  if (list.length > 0) return list;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/** The first of podIPs(pod) in the family (IPv6 or not), without building the list. */
export function podIPOfFamily(pod: Pod, v6: boolean): string | undefined {
  let listed = false;
  for (const p of pod.status?.podIPs ?? []) {
    if (!p.ip) continue;
    listed = true;
    if (isIPv6(p.ip) === v6) return p.ip;
  }
  const ip = pod.status?.podIP;
  return !listed && ip && isIPv6(ip) === v6 ? ip : undefined;
}

/** podIPs(pod)[0] without building the list. */
export function firstPodIP(pod: Pod): string | undefined {
  for (const p of pod.status?.podIPs ?? []) if (p.ip) return p.ip;
  return pod.status?.podIP || undefined;
}

/**
 * ShouldPodBeInEndpoints: not terminal, has an IP, and (unless terminating Pods are
 * wanted) not being deleted.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (firstPodIP(pod) === undefined) return false;
  if (!includeTerminating && isPodTerminating(pod)) return false;
  return true;
}

/** A Pod's hostname is published when its subdomain names the Service. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace;
}

/** The target port when it is a number (the same on every Pod), undefined when it names a container port. */
export function fixedTargetPort(sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  return undefined;
}

/**
 * The Pod's port for a Service port (podutil.FindPort): a numeric targetPort as is,
 * a named one from the container port with that name and protocol; undefined when
 * the Pod has no such port.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const fixed = fixedTargetPort(sp);
  if (fixed !== undefined) return fixed;
  const target = String(sp.targetPort);
  const proto = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === proto) return p.containerPort;
    }
  }
  return undefined;
}

export function podReference(pod: Pod): ObjectReference {
  const ref: ObjectReference = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name };
  if (pod.metadata.uid) ref.uid = pod.metadata.uid;
  return ref;
}

export function isIPv6(ip: string): boolean {
  return ip.includes(':');
}

/** A syntactically valid IPv4 or IPv6 address (the mirroring controller skips others). */
export function ipFamilyOf(ip: string): 'IPv4' | 'IPv6' | undefined {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(ip)) return 'IPv4';
  if (isIPv6(ip) && /^[0-9a-fA-F:.]+$/.test(ip) && validIPv6(ip)) return 'IPv6';
  return undefined;
}

function validIPv6(ip: string): boolean {
  const parts = ip.split('::');
  if (parts.length > 2) return false;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const all = parts.flatMap(groups);
  let count = 0;
  for (const [i, g] of all.entries()) {
    if (g.includes('.')) {
      if (i !== all.length - 1 || ipFamilyOf(g) !== 'IPv4') return false;
      count += 2;
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      count += 1;
    }
  }
  return parts.length === 2 ? count < 8 : count === 8;
}

/** The Ready condition's last transition: when the change that matters happened. */
export function podTriggerTime(pod: Pod): number | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready');
  if (!c?.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}
