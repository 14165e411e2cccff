// kube-proxy's change trackers, reduced to what a full-table recompute needs: which Services changed since the
// last sync, and the per-Service table parts cached from earlier syncs, so a sync after one endpoint change
// recomputes one Service, not ten thousand.
import type { EndpointSlice, Service } from '@knet/api';
import { assemble, serviceEntries, type DesiredTable, type NodeView } from './desired-table.js';

export class ChangeTracker {
  private readonly dirty = new Set<string>();
  private readonly parts = new Map<string, DesiredTable>();
  private node: NodeView | undefined;

  /** A Service or one of its slices changed ('ns/name'). */
  mark(serviceKey: string): void {
    this.dirty.add(serviceKey);
  }

  get pending(): number {
    return this.dirty.size;
  }

  /**
   * The whole table (in no particular order), recomputing only the Services marked since the last call
   * (all of them when the node view changed). `service(key)` and `slices(key)` read the informer caches.
   */
  table(
    node: NodeView,
    service: (key: string) => Service | undefined,
    slices: (key: string) => readonly EndpointSlice[],
    allServiceKeys: () => Iterable<string>,
  ): DesiredTable {
    const nodeChanged = this.node === undefined || this.node.name !== node.name || this.node.nodePortAddresses.join(',') !== node.nodePortAddresses.join(',');
    this.node = { name: node.name, nodePortAddresses: [...node.nodePortAddresses] };
    const keys = nodeChanged ? new Set([...allServiceKeys(), ...this.parts.keys()]) : new Set(this.dirty);
    this.dirty.clear();
    for (const key of keys) {
      const svc = service(key);
      if (svc === undefined) this.parts.delete(key);
      else this.parts.set(key, serviceEntries(svc, slices(key), node));
    }
    return assemble(this.parts.values(), { sorted: false });
  }
}
