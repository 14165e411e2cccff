// Applies a SlicePlan to an in-memory list of slices, as the API server would:
// generated names, resourceVersions. Lets tests run the reconciler repeatedly.
import type { EndpointSlice } from '@knet/api';
import type { SlicePlan } from '../slice-util.js';

let counter = 0;

export function applyPlan(slices: EndpointSlice[], plan: SlicePlan): EndpointSlice[] {
  const byName = new Map(slices.map((s) => [s.metadata.name!, s]));
  for (const d of plan.delete) byName.delete(d.metadata.name!);
  for (const u of plan.update) {
    if (!byName.has(u.metadata.name!)) throw new Error(`update of missing slice ${u.metadata.name}`);
    byName.set(u.metadata.name!, { ...structuredClone(u), metadata: { ...structuredClone(u.metadata), resourceVersion: String(++counter) } });
  }
  for (const c of plan.create) {
    const name = `${c.metadata.generateName}${(++counter).toString(36)}`;
    byName.set(name, { ...structuredClone(c), metadata: { ...structuredClone(c.metadata), name, generateName: undefined, resourceVersion: String(counter), uid: `uid-${name}` } });
  }
  return [...byName.values()];
}
