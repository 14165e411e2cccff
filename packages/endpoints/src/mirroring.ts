// The EndpointSlice mirroring controller's reconciler
// (pkg/controller/endpointslicemirroring): for a Service without a selector, the
// Endpoints a user wrote are mirrored into EndpointSlices, one per address type and
// port set, owned by the Endpoints object.
import type { AddressType, Endpoint, EndpointAddress, EndpointSlice, EndpointSlicePort, Endpoints, Service } from '@knet/api';
import { clone, semanticEqual } from './equal.js';
import {
  AnnotationLastApplied,
  AnnotationLastChangeTriggerTime,
  AnnotationLeaderElection,
  DefaultMirroringMaxEndpointsPerSubset,
  LabelManagedBy,
  LabelServiceName,
  LabelSkipMirror,
  MirroringControllerName,
} from './labels.js';
import { ipFamilyOf } from './pod.js';
import { repackSubsets } from './repack.js';
import {
  EndpointSet,
  controllerRef,
  emptyPlan,
  endpointsEqualBeyondKey,
  portMapKey,
  recycleSlices,
  slicePrefix,
  sortPlan,
  sortPorts,
  type SlicePlan,
} from './slice-util.js';

export interface MirroringOptions {
  /** At most this many addresses of one subset are mirrored (default 1000). */
  maxEndpointsPerSubset?: number;
}

/** Whether user-written Endpoints are mirrored: not skip-mirror, not a leader-election lock. */
export function shouldMirror(endpoints: Endpoints | undefined): endpoints is Endpoints {
  if (!endpoints) return false;
  if (endpoints.metadata.labels?.[LabelSkipMirror] === 'true') return false;
  if (endpoints.metadata.annotations?.[AnnotationLeaderElection] !== undefined) return false;
  return true;
}

/** Slices the mirroring controller owns for the Service of this name. */
export function mirroredSlicesFor(namespace: string | undefined, name: string | undefined, slices: EndpointSlice[]): EndpointSlice[] {
  return slices.filter(
    (s) =>
      s.metadata.namespace === namespace &&
      s.metadata.labels?.[LabelServiceName] === name &&
      s.metadata.labels?.[LabelManagedBy] === MirroringControllerName &&
      !s.metadata.deletionTimestamp,
  );
}

function mirroredAnnotations(endpoints: Endpoints): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(endpoints.metadata.annotations ?? {})) {
    if (k === AnnotationLastChangeTriggerTime || k === AnnotationLastApplied) continue;
    out[k] = v;
  }
  return out;
}

function mirroredLabels(endpoints: Endpoints): Record<string, string> {
  return {
    ...(endpoints.metadata.labels ?? {}),
    [LabelServiceName]: endpoints.metadata.name ?? '',
    [LabelManagedBy]: MirroringControllerName,
  };
}

function addressToEndpoint(a: EndpointAddress, ready: boolean): Endpoint {
  const ep: Endpoint = { addresses: [a.ip], conditions: { ready } };
  if (a.targetRef) ep.targetRef = clone(a.targetRef);
  if (a.nodeName) ep.nodeName = a.nodeName;
  if (a.hostname) ep.hostname = a.hostname;
  return ep;
}

/**
 * What to write so the mirrored slices of `svc` match `endpoints`. Services with a
 * selector lose their mirrored slices; missing, skip-mirror or leader-election
 * Endpoints too. ExternalName Services are left alone.
 */
export function mirrorEndpointSlices(
  svc: Service,
  endpoints: Endpoints | undefined,
  existing: EndpointSlice[],
  opts: MirroringOptions = {},
): SlicePlan {
  const mine = mirroredSlicesFor(svc.metadata.namespace, svc.metadata.name, existing).map((s) => ({ ...clone(s), endpoints: clone(s.endpoints ?? []) }));
  if (svc.spec?.type === 'ExternalName') return emptyPlan();
  if (svc.spec?.selector != null || !shouldMirror(endpoints)) return sortPlan({ create: [], update: [], delete: mine });
  const max = opts.maxEndpointsPerSubset ?? DefaultMirroringMaxEndpointsPerSubset;

  // Desired endpoints per (address type, port set).
  const desired = new Map<string, { addressType: AddressType; ports: EndpointSlicePort[]; set: EndpointSet }>();
  for (const subset of repackSubsets(clone(endpoints.subsets ?? []))) {
    const ports = sortPorts(
      (subset.ports ?? []).map((p) => {
        const sp: EndpointSlicePort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
        if (p.appProtocol) sp.appProtocol = p.appProtocol;
        return sp;
      }),
    );
    let added = 0;
    const add = (a: EndpointAddress, ready: boolean) => {
      if (added >= max) return;
      const family = ipFamilyOf(a.ip);
      if (!family) return; // not an IP: not mirrored
      const key = `${family}|${portMapKey(ports)}`;
      let d = desired.get(key);
      if (!d) {
        d = { addressType: family, ports, set: new EndpointSet() };
        desired.set(key, d);
      }
      d.set.insert(addressToEndpoint(a, ready));
      added++;
    };
    for (const a of subset.addresses ?? []) add(a, true);
    for (const a of subset.notReadyAddresses ?? []) add(a, false);
  }

  const existingByKey = new Map<string, EndpointSlice[]>();
  for (const s of [...mine].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))) {
    const key = `${s.addressType}|${portMapKey(s.ports)}`;
    existingByKey.set(key, [...(existingByKey.get(key) ?? []), s]);
  }

  const plan = emptyPlan();
  const labels = mirroredLabels(endpoints);
  const annotations = mirroredAnnotations(endpoints);
  for (const key of [...desired.keys()].sort()) {
    const d = desired.get(key)!;
    const slices = existingByKey.get(key) ?? [];
    if (d.set.size === 0) {
      plan.delete.push(...slices);
      continue;
    }
    // One slice per key: keep the first, delete any others.
    plan.delete.push(...slices.slice(1));
    const first = slices[0];
    if (first && sameEndpoints(first.endpoints, d.set) && semanticEqual(first.metadata.labels ?? {}, labels) && semanticEqual(first.metadata.annotations ?? {}, annotations)) {
      continue;
    }
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        namespace: endpoints.metadata.namespace,
        labels: { ...labels },
        annotations: { ...annotations },
        ownerReferences: [controllerRef('Endpoints', endpoints.metadata.name ?? '', endpoints.metadata.uid)],
      },
      addressType: d.addressType,
      endpoints: d.set.popAll(max),
      ports: clone(d.ports),
    };
    if (first) {
      slice.metadata.name = first.metadata.name;
      if (first.metadata.resourceVersion) slice.metadata.resourceVersion = first.metadata.resourceVersion;
      if (first.metadata.uid) slice.metadata.uid = first.metadata.uid;
      if (first.metadata.creationTimestamp) slice.metadata.creationTimestamp = first.metadata.creationTimestamp;
      plan.update.push(slice);
    } else {
      slice.metadata.generateName = slicePrefix(endpoints.metadata.name ?? '');
      plan.create.push(slice);
    }
  }
  for (const [key, slices] of existingByKey) if (!desired.has(key)) plan.delete.push(...slices);
  recycleSlices(plan, () => true);
  return sortPlan(plan);
}

function sameEndpoints(current: Endpoint[], desired: EndpointSet): boolean {
  if (current.length !== desired.size) return false;
  return current.every((ep) => {
    const want = desired.get(ep);
    return !!want && endpointsEqualBeyondKey(want, ep);
  });
}
