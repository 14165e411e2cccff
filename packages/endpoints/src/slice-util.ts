// Pieces both EndpointSlice reconcilers share: endpoint identity, port-set keys,
// the create/update/delete plan and slice recycling.
import type { Endpoint, EndpointSlice, EndpointSlicePort, OwnerReference } from '@knet/api';
import { semanticEqual } from './equal.js';

export interface SlicePlan {
  /** New slices (metadata.generateName set, no name). */
  create: EndpointSlice[];
  /** Changed slices, carrying the stored resourceVersion (a Conflict means: resync). */
  update: EndpointSlice[];
  /** Slices to delete. */
  delete: EndpointSlice[];
}

export function emptyPlan(): SlicePlan {
  return { create: [], update: [], delete: [] };
}

export function planIsEmpty(p: SlicePlan): boolean {
  return p.create.length === 0 && p.update.length === 0 && p.delete.length === 0;
}

/** An endpoint's identity (hashEndpoint): addresses, hostname and the Pod it refers to. */
export function endpointKey(ep: Endpoint): string {
  // Only strings and arrays of strings: plain JSON is already canonical.
  return JSON.stringify([
    ep.addresses.length < 2 ? ep.addresses : [...ep.addresses].sort(),
    ep.hostname ?? '',
    ep.targetRef?.namespace ?? '',
    ep.targetRef?.name ?? '',
  ]);
}

/** Everything else about an endpoint (EndpointsEqualBeyondHash); targetRef resourceVersion ignored. */
export function endpointsEqualBeyondKey(a: Endpoint, b: Endpoint): boolean {
  return (
    (a.nodeName ?? '') === (b.nodeName ?? '') &&
    (a.zone ?? '') === (b.zone ?? '') &&
    a.conditions?.ready === b.conditions?.ready &&
    a.conditions?.serving === b.conditions?.serving &&
    a.conditions?.terminating === b.conditions?.terminating &&
    semanticEqual(a.hints, b.hints) &&
    semanticEqual(a.targetRef, b.targetRef, refVersion)
  );
}

const refVersion = new Set(['resourceVersion']);

/** A port with defaults filled in, as canonical JSON: keys in sorted order, appProtocol only when set. */
function portKey(p: EndpointSlicePort): string {
  const name = p.name ?? '';
  const protocol = p.protocol ?? 'TCP';
  const { port, appProtocol } = p;
  return JSON.stringify(appProtocol === undefined ? { name, port, protocol } : { appProtocol, name, port, protocol });
}

/** Sorted copy of a port list (NewPortMapKey sorts the ports it keys on). */
export function sortPorts(ports: EndpointSlicePort[]): EndpointSlicePort[] {
  if (ports.length < 2) return [...ports];
  return ports
    .map((p) => ({ p, k: portKey(p) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.p);
}

/** A key for the set of ports a slice serves. */
export function portMapKey(ports: EndpointSlicePort[] | undefined): string {
  return `[${(ports ?? []).map(portKey).sort().join(',')}]`;
}

/**
 * An ordered set of desired endpoints keyed by identity. Pops in key order, so the
 * same inputs always fill slices the same way (k8s pops in random order).
 */
export class EndpointSet {
  private readonly map = new Map<string, Endpoint>();
  insert(ep: Endpoint): void {
    this.map.set(endpointKey(ep), ep);
  }
  get(ep: Endpoint): Endpoint | undefined {
    return this.map.get(endpointKey(ep));
  }
  delete(ep: Endpoint): void {
    this.map.delete(endpointKey(ep));
  }
  /** get + delete with one key computation. */
  take(ep: Endpoint): Endpoint | undefined {
    const k = endpointKey(ep);
    const found = this.map.get(k);
    if (found) this.map.delete(k);
    return found;
  }
  get size(): number {
    return this.map.size;
  }
  popAll(n: number): Endpoint[] {
    const keys = [...this.map.keys()].sort().slice(0, n);
    return keys.map((k) => {
      const ep = this.map.get(k)!;
      this.map.delete(k);
      return ep;
    });
  }
}

export function ownedByUid(slice: EndpointSlice, kind: string, uid: string | undefined): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.kind === kind && o.apiVersion === 'v1' && o.uid === (uid ?? ''));
}

export function controllerRef(kind: 'Service' | 'Endpoints', name: string, uid: string | undefined): OwnerReference {
  return { apiVersion: 'v1', kind, name, uid: uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** A generateName prefix: "<name>-" unless that would be too long for a name. */
export function slicePrefix(name: string): string {
  return name.length + 1 <= 253 - 5 ? `${name}-` : name;
}

/**
 * Turns creates into updates of slices that would be deleted anyway (same address
 * type, reusable), as the reconcilers' finalize step does: fewer objects churned.
 */
export function recycleSlices(plan: SlicePlan, reusable: (old: EndpointSlice) => boolean): SlicePlan {
  const remainingDeletes: EndpointSlice[] = [];
  for (const old of plan.delete) {
    const idx = plan.create.findIndex((c) => c.addressType === old.addressType);
    if (idx >= 0 && reusable(old)) {
      const [slice] = plan.create.splice(idx, 1);
      slice.metadata.name = old.metadata.name;
      delete slice.metadata.generateName;
      if (old.metadata.resourceVersion) slice.metadata.resourceVersion = old.metadata.resourceVersion;
      if (old.metadata.uid) slice.metadata.uid = old.metadata.uid;
      if (old.metadata.creationTimestamp) slice.metadata.creationTimestamp = old.metadata.creationTimestamp;
      plan.update.push(slice);
    } else {
      remainingDeletes.push(old);
    }
  }
  plan.delete = remainingDeletes;
  return plan;
}

/** Sorts the plan's lists by name so equal inputs give equal plans. */
export function sortPlan(plan: SlicePlan): SlicePlan {
  const byName = (a: EndpointSlice, b: EndpointSlice) => {
    const na = a.metadata.name ?? '';
    const nb = b.metadata.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  };
  plan.update.sort(byName);
  plan.delete.sort(byName);
  return plan;
}
