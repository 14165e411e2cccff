// Watchers of the store, indexed by resource. Committed log entries are
// delivered synchronously in commit order; a watcher starting from an older
// RV first gets its replay (asynchronously, so the caller holds its Watcher
// before the first callback), with live entries queued behind it.

import type { KubeObject } from '@knet/api';
import type { LogEntry } from './event-window.js';
import { withResourceVersion } from './objects.js';
import type { StoreEvent, Watcher } from './types.js';

export interface WatchSpec {
  resource: string;
  namespace?: string;
  filter?: (o: KubeObject) => boolean;
  /** Entries with rv <= this are not delivered. */
  afterRV: number;
}

type OnError = (err: unknown) => void;

class HubWatcher implements Watcher {
  closed = false;
  /** Live entries held back until the replay has been delivered. */
  private held: LogEntry[] | undefined;

  constructor(
    private readonly hub: WatchHub,
    readonly spec: WatchSpec,
    private readonly onEvent: (e: StoreEvent) => void,
    private readonly onError: OnError,
  ) {}

  startReplay(replay: LogEntry[]): void {
    this.held = [];
    queueMicrotask(() => {
      const held = this.held ?? [];
      this.held = undefined;
      for (const e of replay) this.deliver(e);
      for (const e of held) this.deliver(e);
    });
  }

  offer(entry: LogEntry): void {
    if (this.held !== undefined) this.held.push(entry);
    else this.deliver(entry);
  }

  private deliver(entry: LogEntry): void {
    if (this.closed || entry.rv <= this.spec.afterRV) return;
    let event: StoreEvent | undefined;
    try {
      event = toWatchEvent(entry, this.spec);
      if (event !== undefined) this.onEvent(event);
    } catch (err) {
      this.onError(err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    this.hub.remove(this);
  }
}

/**
 * What a watcher with a namespace and filter sees of one write. As the
 * Kubernetes watch cache does, an object modified into the filter is ADDED
 * and one modified out of it is DELETED (its previous state, at the new RV).
 */
export function toWatchEvent(entry: LogEntry, spec: Pick<WatchSpec, 'namespace' | 'filter'>): StoreEvent | undefined {
  const rv = String(entry.rv);
  const inScope = (o: KubeObject | undefined): boolean =>
    o !== undefined &&
    (spec.namespace === undefined || (o.metadata.namespace ?? '') === spec.namespace) &&
    (spec.filter === undefined || spec.filter(o));
  if (entry.type !== 'MODIFIED') {
    return inScope(entry.object) ? { type: entry.type, object: entry.object, resourceVersion: rv } : undefined;
  }
  const now = inScope(entry.object);
  const before = inScope(entry.prev);
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: entry.object, resourceVersion: rv };
  if (before && entry.prev !== undefined) {
    return { type: 'DELETED', object: withResourceVersion(entry.prev, rv), resourceVersion: rv };
  }
  return undefined;
}

export class WatchHub {
  private readonly byResource = new Map<string, Set<HubWatcher>>();

  constructor(private readonly onError: OnError) {}

  add(spec: WatchSpec, onEvent: (e: StoreEvent) => void, replay: LogEntry[]): Watcher {
    const w = new HubWatcher(this, spec, onEvent, this.onError);
    if (replay.length > 0) w.startReplay(replay);
    let set = this.byResource.get(spec.resource);
    if (set === undefined) this.byResource.set(spec.resource, (set = new Set()));
    set.add(w);
    return w;
  }

  remove(w: HubWatcher): void {
    const set = this.byResource.get(w.spec.resource);
    set?.delete(w);
    if (set?.size === 0) this.byResource.delete(w.spec.resource);
  }

  publish(entry: LogEntry): void {
    const set = this.byResource.get(entry.resource);
    if (set === undefined) return;
    // A callback may close watchers (itself or others) while we iterate.
    for (const w of [...set]) w.offer(entry);
  }

  closeAll(): void {
    for (const set of [...this.byResource.values()]) for (const w of [...set]) w.close();
  }

  get size(): number {
    let n = 0;
    for (const set of this.byResource.values()) n += set.size;
    return n;
  }
}
