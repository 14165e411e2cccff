// The Endpoints controller's computation (kube-controller-manager
// pkg/controller/endpoint): Service + Pods → the desired Endpoints object, and the
// decision whether the stored one must be written.
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service, ServicePort } from '@knet/api';
import { semanticEqual } from './equal.js';
import {
  AnnotationLastChangeTriggerTime,
  AnnotationOverCapacity,
  LabelHeadlessService,
  MaxEndpointsCapacity,
  isServiceIPSet,
  selectorMatches,
} from './labels.js';
import { findPort, firstPodIP, fixedTargetPort, isIPv6, isPodReady, podIPOfFamily, podReference, shouldPodBeInEndpoints, shouldSetHostname } from './pod.js';
import { SubsetPacker } from './repack.js';
import { formatTriggerTime } from './trigger-time.js';

export interface EndpointsOptions {
  /** Published as endpoints.kubernetes.io/last-change-trigger-time; omitted when undefined. */
  triggerTime?: Date;
}

/** Services the endpoints controllers compute endpoints for: not ExternalName, with a selector. */
export function hasManagedEndpoints(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName' && svc.spec?.selector != null;
}

/** The Pods in the Service's namespace its selector matches. */
export function selectPods(svc: Service, pods: Pod[]): Pod[] {
  const selector = svc.spec?.selector;
  if (selector == null) return [];
  return pods.filter((p) => p.metadata.namespace === svc.metadata.namespace && selectorMatches(selector, p.metadata.labels));
}

/** The Pod IP of the Service's primary IP family (podToEndpointAddressForService). */
function podAddressForService(svc: Service, pod: Pod): EndpointAddress | undefined {
  let v6: boolean;
  const families = svc.spec.ipFamilies ?? [];
  if (families.length > 0) v6 = families[0] === 'IPv6';
  else if (isServiceIPSet(svc.spec.clusterIP)) v6 = isIPv6(svc.spec.clusterIP!);
  else v6 = isIPv6(firstPodIP(pod) ?? '');
  const ip = podIPOfFamily(pod, v6);
  if (!ip) return undefined;
  const addr: EndpointAddress = { ip, targetRef: podReference(pod) };
  if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
  if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec.hostname;
  return addr;
}

function endpointPort(sp: ServicePort, port: number): EndpointPort {
  const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
  if (!ep.name) delete ep.name;
  if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
  return ep;
}

/** Service labels minus the headless label, which the controller owns. */
function serviceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  delete labels[LabelHeadlessService];
  return labels;
}

/**
 * The Endpoints a Service with a selector should have, or null when the controller
 * leaves its Endpoints alone (no selector: user-managed; ExternalName: none).
 * Pods are filtered here (namespace + selector), so passing all Pods is fine.
 */
export function desiredEndpoints(svc: Service, pods: Pod[], opts: EndpointsOptions = {}): Endpoints | null {
  if (!hasManagedEndpoints(svc)) return null;
  const publishNotReady = svc.spec.publishNotReadyAddresses === true;
  const ports = svc.spec.ports ?? [];
  const headless = svc.spec.clusterIP === 'None';
  const packer = new SubsetPacker();
  // A numeric targetPort names the same port on every Pod: those ports are built once, not per Pod.
  const fixedPorts = ports.map((sp) => {
    const n = fixedTargetPort(sp);
    return n === undefined ? undefined : endpointPort(sp, n);
  });

  for (const pod of selectPods(svc, pods)) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const addr = podAddressForService(svc, pod);
    if (!addr) continue;
    const ready = publishNotReady || isPodReady(pod);
    if (ports.length === 0) {
      // A headless Service may have no ports; its Endpoints still list the Pods.
      if (headless) packer.add(addr, undefined, ready);
      continue;
    }
    for (let i = 0; i < ports.length; i++) {
      let ep = fixedPorts[i];
      if (!ep) {
        const portNum = findPort(pod, ports[i]);
        if (portNum === undefined) continue;
        ep = endpointPort(ports[i], portNum);
      }
      packer.add(addr, ep, ready);
    }
  }

  const subsets = packer.subsets();
  const annotations: Record<string, string> = {};
  if (opts.triggerTime) annotations[AnnotationLastChangeTriggerTime] = formatTriggerTime(opts.triggerTime);
  if (truncateEndpoints(subsets)) annotations[AnnotationOverCapacity] = 'truncated';
  const labels = serviceLabels(svc);
  if (!isServiceIPSet(svc.spec.clusterIP)) labels[LabelHeadlessService] = '';

  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels, annotations },
    subsets,
  };
}

/**
 * Keeps at most MaxEndpointsCapacity addresses, in proportion per subset and ready ones
 * first, as kube-controller-manager's truncateEndpoints. Returns whether it truncated.
 */
export function truncateEndpoints(subsets: EndpointSubset[], max = MaxEndpointsCapacity): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return false;
  const truncateReady = totalReady > max;
  const limit = truncateReady ? max : max - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = limit;
  for (const s of subsets) {
    const inSubset = truncateReady ? (s.addresses?.length ?? 0) : (s.notReadyAddresses?.length ?? 0);
    const toBeAdded = Math.min(Math.ceil((inSubset / numTotal) * limit), canBeAdded);
    if (truncateReady) {
      s.addresses = (s.addresses ?? []).slice(0, toBeAdded);
      delete s.notReadyAddresses;
      canBeAdded -= s.addresses.length;
    } else {
      s.notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= s.notReadyAddresses.length;
    }
  }
  return true;
}

/** Subsets are compared without the Pods' resourceVersions in targetRef (the only resourceVersion inside subsets). */
const refVersion = new Set(['resourceVersion']);

export type EndpointsWrite = { action: 'create' | 'update'; endpoints: Endpoints } | { action: 'none' };

/**
 * Compares the stored Endpoints with the desired ones and returns the object to write:
 * subsets, labels and the over-capacity marker decide; the trigger-time annotation
 * alone never causes a write. Other annotations and metadata of the stored object are kept.
 * The result shares what it does not change with `current` and its subsets with `desired`
 * (both only read here): serialize it, do not mutate it.
 */
export function reconcileEndpoints(current: Endpoints | undefined, desired: Endpoints): EndpointsWrite {
  const desiredAnn = desired.metadata.annotations ?? {};
  if (current?.metadata.resourceVersion) {
    const sameSubsets = semanticEqual(current.subsets ?? [], desired.subsets ?? [], refVersion);
    const sameLabels = semanticEqual(current.metadata.labels ?? {}, desired.metadata.labels ?? {});
    const curOver = (current.metadata.annotations ?? {})[AnnotationOverCapacity];
    const sameCapacity = curOver === desiredAnn[AnnotationOverCapacity];
    if (sameSubsets && sameLabels && sameCapacity) return { action: 'none' };
  }
  // Copies only what changes: the stored object is an informer cache entry.
  const next: Endpoints = current
    ? { ...current, metadata: { ...current.metadata } }
    : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: desired.metadata.name, namespace: desired.metadata.namespace } };
  next.apiVersion = 'v1';
  next.kind = 'Endpoints';
  next.subsets = desired.subsets ?? [];
  next.metadata.labels = { ...(desired.metadata.labels ?? {}) };
  const ann: Record<string, string> = { ...(next.metadata.annotations ?? {}) };
  for (const key of [AnnotationLastChangeTriggerTime, AnnotationOverCapacity]) {
    if (desiredAnn[key] !== undefined) ann[key] = desiredAnn[key];
    else delete ann[key];
  }
  next.metadata.annotations = ann;
  return { action: current?.metadata.resourceVersion ? 'update' : 'create', endpoints: next };
}
