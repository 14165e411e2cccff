// Namespace deletion, finalized synchronously: every namespaced object in it goes first
// (Services release their allocations), then the namespace itself.
import { strategies, type Service } from '@knet/api';
import { storeErrorReason, type ObjectStore } from './deps.js';
import { storeKey } from './resources.js';
import { heldBy, type ServiceAllocator } from './service-allocation.js';

export async function emptyNamespace(store: ObjectStore, allocator: ServiceAllocator, ns: string): Promise<void> {
  for (const s of strategies) {
    if (!s.info.namespaced) continue;
    const key = storeKey(s.info);
    const { items } = await store.list(key, { namespace: ns });
    for (const o of items) {
      try {
        const d = await store.delete(key, ns, o.metadata.name!);
        if (s.info.plural === 'services' && s.info.group === '') await allocator.release(heldBy(d as Service));
      } catch (err) {
        if (storeErrorReason(err) !== 'NotFound') throw err;
      }
    }
  }
}
