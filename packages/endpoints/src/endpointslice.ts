// The EndpointSlice controller's reconciler (k8s.io/endpointslice reconciler.go):
// Service + Pods + the slices it already manages → which slices to create, update and
// delete, reusing existing slices and writing only those that change.
import type { AddressType, Endpoint, EndpointSlice, EndpointSlicePort, Pod, Service } from '@knet/api';
import { clone, semanticEqual } from './equal.js';
import {
  AnnotationLastChangeTriggerTime,
  ControllerName,
  DefaultMaxEndpointsPerSlice,
  LabelHeadlessService,
  LabelManagedBy,
  LabelServiceName,
  isServiceIPSet,
} from './labels.js';
import { hasManagedEndpoints, selectPods } from './endpoints.js';
import { findPort, fixedTargetPort, isIPv6, isPodReady, isPodTerminating, podIPs, podReference, shouldPodBeInEndpoints, shouldSetHostname } from './pod.js';
import {
  EndpointSet,
  controllerRef,
  emptyPlan,
  endpointsEqualBeyondKey,
  ownedByUid,
  portMapKey,
  recycleSlices,
  slicePrefix,
  sortPlan,
  sortPorts,
  type SlicePlan,
} from './slice-util.js';
import { formatTriggerTime } from './trigger-time.js';

export interface EndpointSliceOptions {
  /** At most this many endpoints per slice (kube-controller-manager's --max-endpoints-per-slice, 100). */
  maxEndpointsPerSlice?: number;
  /** Published as endpoints.kubernetes.io/last-change-trigger-time on written slices. */
  triggerTime?: Date;
  /** The topology.kubernetes.io/zone of a Node, for endpoint.zone. */
  zoneOf?: (nodeName: string) => string | undefined;
}

/** The address types a Service's slices carry (getAddressTypesForService). */
export function addressTypesForService(svc: Service): AddressType[] {
  const families = svc.spec.ipFamilies ?? [];
  const types = new Set<AddressType>();
  for (const f of families) types.add(f);
  if (types.size > 0) return [...types];
  if (isServiceIPSet(svc.spec.clusterIP)) return [isIPv6(svc.spec.clusterIP!) ? 'IPv6' : 'IPv4'];
  // Headless without families yet: both, as k8s does.
  return ['IPv4', 'IPv6'];
}

/** Labels a controller-managed slice carries: the Service's plus the reserved ones. */
export function sliceLabels(svc: Service, managedBy = ControllerName): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) {
    if (k === LabelServiceName || k === LabelManagedBy || k === LabelHeadlessService) continue;
    labels[k] = v;
  }
  if (!isServiceIPSet(svc.spec.clusterIP)) labels[LabelHeadlessService] = '';
  labels[LabelServiceName] = svc.metadata.name ?? '';
  labels[LabelManagedBy] = managedBy;
  return labels;
}

/** The slice ports a Pod offers for the Service (getEndpointPorts). */
function endpointPorts(svc: Service, pod: Pod): EndpointSlicePort[] {
  const ports: EndpointSlicePort[] = [];
  for (const sp of svc.spec.ports ?? []) {
    const num = findPort(pod, sp);
    if (num === undefined) continue;
    const p: EndpointSlicePort = { name: sp.name ?? '', port: num, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    ports.push(p);
  }
  return sortPorts(ports);
}

function podToEndpoint(pod: Pod, svc: Service, addressType: AddressType, zoneOf?: (n: string) => string | undefined): Endpoint {
  const serving = isPodReady(pod);
  const terminating = isPodTerminating(pod);
  // A terminating Pod is never "ready" unless the Service publishes not-ready addresses.
  const ready = svc.spec.publishNotReadyAddresses === true || (serving && !terminating);
  const v6 = addressType === 'IPv6';
  const ep: Endpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === v6),
    conditions: { ready, serving, terminating },
    targetRef: podReference(pod),
  };
  if (pod.spec?.nodeName) {
    ep.nodeName = pod.spec.nodeName;
    const zone = zoneOf?.(pod.spec.nodeName);
    if (zone) ep.zone = zone;
  }
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec.hostname;
  return ep;
}

function newSlice(svc: Service, addressType: AddressType, ports: EndpointSlicePort[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: slicePrefix(svc.metadata.name ?? ''),
      namespace: svc.metadata.namespace,
      labels: sliceLabels(svc),
      ownerReferences: [controllerRef('Service', svc.metadata.name ?? '', svc.metadata.uid)],
    },
    addressType,
    endpoints: [],
    ports: clone(ports),
  };
}

/** Slices this controller manages for the Service (by label), not being deleted. */
export function managedSlicesFor(svc: Service, slices: EndpointSlice[], managedBy = ControllerName): EndpointSlice[] {
  return slices.filter(
    (s) =>
      s.metadata.namespace === svc.metadata.namespace &&
      s.metadata.labels?.[LabelServiceName] === svc.metadata.name &&
      s.metadata.labels?.[LabelManagedBy] === managedBy &&
      !s.metadata.deletionTimestamp,
  );
}

/**
 * What to write so the Service's controller-managed EndpointSlices match its Pods.
 * `existing` may hold any slices: those not managed by this controller for this
 * Service are ignored. Services without a selector and ExternalName Services get an
 * empty plan (their slices, if any, are someone else's business), as in Kubernetes.
 */
export function desiredEndpointSlices(svc: Service, pods: Pod[], existing: EndpointSlice[], opts: EndpointSliceOptions = {}): SlicePlan {
  if (!hasManagedEndpoints(svc)) return emptyPlan();
  const max = opts.maxEndpointsPerSlice ?? DefaultMaxEndpointsPerSlice;
  // Stored slices are only read; a slice that changes is copied first (writableCopy).
  const mine = managedSlicesFor(svc, existing);
  const types = addressTypesForService(svc);
  const selected = selectPods(svc, pods).filter((p) => shouldPodBeInEndpoints(p, true));

  const plan = emptyPlan();
  for (const s of mine) if (!types.includes(s.addressType)) plan.delete.push(s);
  for (const addressType of types) {
    const p = reconcileByAddressType(svc, selected, mine.filter((s) => s.addressType === addressType), addressType, max, opts);
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
  }
  recycleSlices(plan, (old) => ownedByUid(old, 'Service', svc.metadata.uid));

  const annotate = (s: EndpointSlice) => {
    const ann = { ...(s.metadata.annotations ?? {}) };
    if (opts.triggerTime) ann[AnnotationLastChangeTriggerTime] = formatTriggerTime(opts.triggerTime);
    else delete ann[AnnotationLastChangeTriggerTime];
    s.metadata.annotations = ann;
  };
  plan.create.forEach(annotate);
  plan.update.forEach(annotate);
  // Do not create slices for a Service that is being deleted.
  if (svc.metadata.deletionTimestamp) plan.create = [];
  return sortPlan(plan);
}

function reconcileByAddressType(
  svc: Service,
  pods: Pod[],
  existing: EndpointSlice[],
  addressType: AddressType,
  max: number,
  opts: EndpointSliceOptions,
): SlicePlan {
  const plan = emptyPlan();
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (!ownedByUid(s, 'Service', svc.metadata.uid)) {
      // Left behind by an earlier Service of the same name.
      plan.delete.push(s);
      continue;
    }
    const key = portMapKey(s.ports);
    existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), s]);
  }

  const desired = new Map<string, { ports: EndpointSlicePort[]; set: EndpointSet }>();
  // With numeric targetPorts only, every Pod offers the same ports: built and keyed once, not per Pod.
  const samePorts = (svc.spec.ports ?? []).every((sp) => fixedTargetPort(sp) !== undefined);
  let shared: { ports: EndpointSlicePort[]; key: string } | undefined;
  for (const pod of pods) {
    let ports: EndpointSlicePort[];
    let key: string;
    if (shared) ({ ports, key } = shared);
    else {
      ports = endpointPorts(svc, pod);
      key = portMapKey(ports);
      if (samePorts) shared = { ports, key };
    }
    let d = desired.get(key);
    if (!d) {
      d = { ports, set: new EndpointSet() };
      desired.set(key, d);
    }
    const ep = podToEndpoint(pod, svc, addressType, opts.zoneOf);
    if (ep.addresses.length > 0) d.set.insert(ep);
  }

  for (const key of [...desired.keys()].sort()) {
    const d = desired.get(key)!;
    const p = reconcileByPortMapping(svc, existingByPorts.get(key) ?? [], d.set, d.ports, addressType, max);
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
  }
  for (const [key, slices] of existingByPorts) {
    if (!desired.has(key)) plan.delete.push(...slices);
  }

  // A Service with no endpoints still gets one empty "placeholder" slice.
  if (existing.length === plan.delete.length && plan.create.length === 0) {
    const placeholder = newSlice(svc, addressType, []);
    if (plan.delete.length === 1 && isSamePlaceholder(plan.delete[0], placeholder)) plan.delete = [];
    else plan.create.push(placeholder);
  }
  return plan;
}

function isSamePlaceholder(a: EndpointSlice, b: EndpointSlice): boolean {
  return (
    a.metadata.namespace === b.metadata.namespace &&
    semanticEqual(a.metadata.labels ?? {}, b.metadata.labels ?? {}) &&
    semanticEqual(a.metadata.ownerReferences ?? [], b.metadata.ownerReferences ?? []) &&
    a.addressType === b.addressType &&
    (a.endpoints ?? []).length === 0 &&
    (a.ports ?? []).length === 0
  );
}

function reconcileByPortMapping(
  svc: Service,
  existing: EndpointSlice[],
  desired: EndpointSet,
  ports: EndpointSlicePort[],
  addressType: AddressType,
  max: number,
): SlicePlan {
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();
  const labels = sliceLabels(svc);

  // 1. Drop endpoints no longer desired, refresh those that changed.
  for (const slice of [...existing].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))) {
    const name = slice.metadata.name ?? '';
    byName.set(name, slice);
    const kept: Endpoint[] = [];
    let changed = false;
    for (const ep of slice.endpoints ?? []) {
      const want = desired.take(ep);
      if (!want) continue;
      kept.push(want);
      if (!endpointsEqualBeyondKey(want, ep)) changed = true;
    }
    const labelsChanged = !semanticEqual(slice.metadata.labels ?? {}, labels);
    if (changed || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) {
        toDelete.add(name);
      } else {
        byName.set(name, writableCopy(slice, kept, labels));
        toUpdate.add(name);
      }
    } else if (labelsChanged) {
      byName.set(name, writableCopy(slice, [...(slice.endpoints ?? [])], labels));
      toUpdate.add(name);
    } else {
      unchanged.add(name);
    }
  }

  // 2. Fill slices that are being updated anyway, fullest first.
  if (desired.size > 0 && toUpdate.size > 0) {
    const slices = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
    for (const s of slices) {
      if (desired.size === 0) break;
      s.endpoints.push(...desired.popAll(max - s.endpoints.length));
    }
  }

  // 3. Fit the rest into one unchanged slice with room, else new slices.
  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    let fill: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size > 0) {
      const candidate = sliceToFill([...unchanged].sort().map((n) => byName.get(n)!), desired.size, max);
      if (candidate) {
        fill = writableCopy(candidate, [...(candidate.endpoints ?? [])], candidate.metadata.labels ?? {});
        byName.set(fill.metadata.name ?? '', fill);
      }
    }
    if (!fill) fill = newSlice(svc, addressType, ports);
    fill.endpoints.push(...desired.popAll(max - fill.endpoints.length));
    if (fill.metadata.name) {
      toUpdate.add(fill.metadata.name);
      unchanged.delete(fill.metadata.name);
    } else {
      create.push(fill);
    }
  }

  return {
    create,
    update: [...toUpdate].map((n) => byName.get(n)!),
    delete: [...toDelete].map((n) => byName.get(n)!),
  };
}

/**
 * A stored slice about to be written: its own metadata, labels and endpoint list, so the
 * plan can change those without touching the informer's cached object (cheaper than a deep clone).
 */
function writableCopy(slice: EndpointSlice, endpoints: Endpoint[], labels: Record<string, string>): EndpointSlice {
  return { ...slice, metadata: { ...slice.metadata, labels: { ...labels } }, endpoints };
}

/** The unchanged slice that the remaining endpoints fill most completely (getSliceToFill). */
function sliceToFill(slices: EndpointSlice[], numEndpoints: number, max: number): EndpointSlice | undefined {
  let closestDiff = max;
  let closest: EndpointSlice | undefined;
  for (const s of slices) {
    const diff = max - (numEndpoints + (s.endpoints ?? []).length);
    if (diff >= 0 && diff < closestDiff) {
      closestDiff = diff;
      closest = s;
      if (diff === 0) break;
    }
  }
  return closest;
}
