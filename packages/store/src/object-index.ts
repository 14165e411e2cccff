// The in-memory copy of every object, per resource, with a lazily sorted key
// list so paged lists do not re-sort on every page.

import type { KubeObject } from '@knet/api';
import type { LogEntry } from './event-window.js';
import { memKey } from './keys.js';

export class ResourceObjects {
  readonly byKey = new Map<string, KubeObject>();
  private sorted: string[] | undefined;

  get(key: string): KubeObject | undefined {
    return this.byKey.get(key);
  }

  set(key: string, obj: KubeObject): void {
    if (!this.byKey.has(key)) this.sorted = undefined;
    this.byKey.set(key, obj);
  }

  delete(key: string): void {
    if (this.byKey.delete(key)) this.sorted = undefined;
  }

  sortedKeys(): string[] {
    if (this.sorted === undefined) this.sorted = [...this.byKey.keys()].sort(compareKeys);
    return this.sorted;
  }
}

/** Byte order of the keys, as etcd (and so Kubernetes) lists. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function keyOf(obj: KubeObject): string {
  return memKey(obj.metadata.namespace ?? '', obj.metadata.name ?? '');
}

/**
 * The objects of one resource as they were at `rv`, rebuilt from the current
 * state by undoing the later writes (newest first). `later` holds every log
 * entry with a higher rv, oldest first.
 */
export function snapshotAt(current: ResourceObjects, resource: string, later: LogEntry[]): ResourceObjects {
  const snap = new ResourceObjects();
  for (const [k, v] of current.byKey) snap.byKey.set(k, v);
  for (let i = later.length - 1; i >= 0; i--) {
    const e = later[i];
    if (e.resource !== resource) continue;
    const key = keyOf(e.object);
    if (e.type === 'ADDED') snap.byKey.delete(key);
    else if (e.prev !== undefined) snap.byKey.set(key, e.prev);
  }
  return snap;
}

/** First index in sorted keys whose key is > after (or >= from when after is undefined). */
export function lowerBound(keys: string[], bound: string, inclusive: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (inclusive ? keys[mid] < bound : keys[mid] <= bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
