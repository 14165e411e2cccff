// Repair, as kube-apiserver's repair controllers do it: compare what is allocated
// with what the Services hold. Pure: the server applies the plan.
import { formatIP, parseIP } from './cidr.js';
import type { Allocation, AllocationKind, ServiceInUse } from './types.js';

/** A leak must be seen in this many consecutive passes before it is released. */
export const DEFAULT_LEAK_THRESHOLD = 2;

export interface RepairOptions {
  leakThreshold?: number;
}

export interface HeldValue {
  kind: AllocationKind;
  value: string;
  owner: string;
}

export interface RepairPlan {
  /** Allocated, held by no Service, in `leakThreshold` consecutive passes: release. */
  release: Allocation[];
  /** Allocated, held by no Service, not long enough yet. */
  pendingLeaks: Allocation[];
  /** Held by a Service but not allocated: record it for that owner. */
  record: HeldValue[];
  /** Allocated to an owner that does not hold it while another Service does: that Service wins. */
  reassign: { allocation: Allocation; owner: string }[];
  /** Held by more than one Service: reported, nothing changes. */
  duplicates: { kind: AllocationKind; value: string; owners: string[] }[];
  /** Values in Services that are not IPs / ports at all. */
  invalid: HeldValue[];
  /** Leak counts to pass to the next pass. */
  leakCounts: Map<string, number>;
}

const keyOf = (kind: AllocationKind, value: string): string => `${kind}/${value}`;

export function planRepair(
  allocations: readonly Allocation[],
  inUse: readonly ServiceInUse[],
  previousLeakCounts: ReadonlyMap<string, number>,
  opts: RepairOptions = {},
): RepairPlan {
  const threshold = Math.max(1, opts.leakThreshold ?? DEFAULT_LEAK_THRESHOLD);
  const plan: RepairPlan = {
    release: [],
    pendingLeaks: [],
    record: [],
    reassign: [],
    duplicates: [],
    invalid: [],
    leakCounts: new Map(),
  };

  const held = new Map<string, { kind: AllocationKind; value: string; owners: string[] }>();
  const hold = (kind: AllocationKind, raw: string, owner: string): void => {
    const value = canonical(kind, raw);
    if (value === null) {
      plan.invalid.push({ kind, value: raw, owner });
      return;
    }
    const k = keyOf(kind, value);
    const h = held.get(k) ?? { kind, value, owners: [] };
    if (!h.owners.includes(owner)) h.owners.push(owner);
    held.set(k, h);
  };
  for (const svc of inUse) {
    // Headless Services hold no IP.
    for (const ip of svc.clusterIPs) if (ip !== '' && ip !== 'None') hold('ClusterIP', ip, svc.owner);
    for (const port of svc.nodePorts) if (port !== 0) hold('NodePort', String(port), svc.owner);
    for (const ip of svc.loadBalancerIPs) if (ip !== '') hold('LoadBalancerIP', ip, svc.owner);
  }

  const allocated = new Set<string>();
  for (const a of allocations) {
    const k = keyOf(a.kind, a.value);
    allocated.add(k);
    const h = held.get(k);
    if (h === undefined) {
      const count = (previousLeakCounts.get(k) ?? 0) + 1;
      if (count >= threshold) plan.release.push(a);
      else {
        plan.pendingLeaks.push(a);
        plan.leakCounts.set(k, count);
      }
    } else if (!h.owners.includes(a.owner)) {
      plan.reassign.push({ allocation: a, owner: h.owners[0]! });
    }
  }
  for (const [k, h] of held) {
    if (h.owners.length > 1) plan.duplicates.push({ kind: h.kind, value: h.value, owners: h.owners });
    if (!allocated.has(k)) plan.record.push({ kind: h.kind, value: h.value, owner: h.owners[0]! });
  }
  return plan;
}

function canonical(kind: AllocationKind, raw: string): string | null {
  if (kind === 'NodePort') {
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 && n <= 65535 ? String(n) : null;
  }
  const ip = parseIP(raw);
  return ip === null ? null : formatIP(ip);
}
