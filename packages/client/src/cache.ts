// The informer's local copy of a resource: objects by namespace/name, plus user-defined indexes.
import type { KubeObject } from '@knet/api';

export type IndexFunc<T> = (obj: T) => string[];

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : (obj.metadata?.name ?? '');
}

export class IndexedCache<T extends KubeObject> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  /** byKey: the values each object was indexed under, so an update whose values did not change touches nothing. */
  private readonly indexes = new Map<string, { fn: IndexFunc<T>; byValue: Map<string, Set<string>>; byKey: Map<string, string[]> }>();
  private readonly keyed = new Map<string, T>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    for (const [name, fn] of Object.entries(indexers)) this.indexes.set(name, { fn, byValue: new Map(), byKey: new Map() });
  }

  get size(): number {
    return this.keyed.size;
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  getByKey(key: string): T | undefined {
    return this.keyed.get(key);
  }

  keys(): IterableIterator<string> {
    return this.keyed.keys();
  }

  /** All objects, or those of one namespace ('' is the cluster scope). */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.keyed.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  byIndex(index: string, value: string): T[] {
    const idx = this.indexes.get(index);
    if (!idx) throw new Error(`no index named "${index}"`);
    const out: T[] = [];
    for (const key of idx.byValue.get(value) ?? []) {
      const obj = this.keyed.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Inserts or replaces; returns the previous version. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.keyed.get(key);
    this.keyed.set(key, obj);
    const ns = obj.metadata.namespace ?? '';
    let names = this.byNamespace.get(ns);
    if (!names) this.byNamespace.set(ns, (names = new Map()));
    names.set(obj.metadata.name ?? '', obj);
    this.index(key, obj);
    return old;
  }

  /** Removes by the object's key; returns what was stored. */
  remove(obj: KubeObject): T | undefined {
    const key = objectKey(obj);
    const old = this.keyed.get(key);
    if (!old) return undefined;
    this.unindex(key);
    this.keyed.delete(key);
    const ns = old.metadata.namespace ?? '';
    const names = this.byNamespace.get(ns);
    names?.delete(old.metadata.name ?? '');
    if (names && names.size === 0) this.byNamespace.delete(ns);
    return old;
  }

  /** (Re)indexes key under obj's values; most updates (a Pod's status) keep them, and then nothing changes. */
  private index(key: string, obj: T): void {
    for (const idx of this.indexes.values()) {
      const values = safeIndexValues(idx.fn, obj);
      const before = idx.byKey.get(key);
      if (before && sameValues(before, values)) continue;
      if (before) unindexValues(idx.byValue, key, before);
      for (const v of values) {
        let keys = idx.byValue.get(v);
        if (!keys) idx.byValue.set(v, (keys = new Set()));
        keys.add(key);
      }
      if (values.length > 0) idx.byKey.set(key, values);
      else idx.byKey.delete(key);
    }
  }

  private unindex(key: string): void {
    for (const idx of this.indexes.values()) {
      const before = idx.byKey.get(key);
      if (!before) continue;
      unindexValues(idx.byValue, key, before);
      idx.byKey.delete(key);
    }
  }
}

function unindexValues(byValue: Map<string, Set<string>>, key: string, values: string[]): void {
  for (const v of values) {
    const keys = byValue.get(v);
    keys?.delete(key);
    if (keys && keys.size === 0) byValue.delete(v);
  }
}

function sameValues(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An index function that throws or returns junk indexes the object under nothing, rather than breaking the cache. */
function safeIndexValues<T>(fn: IndexFunc<T>, obj: T): string[] {
  try {
    const vs = fn(obj);
    return Array.isArray(vs) ? vs.filter((v) => typeof v === 'string') : [];
  } catch {
    return [];
  }
}
