// The times of each Service's way from a Pod event to its EndpointSlice update, logged at debug
// with the update: bench:controller joins them with its own timestamps for a per-flip latency
// breakdown (where the 99th percentile is spent). A few map operations per sync.

/** Times in ms since the epoch; busyAtPodEvent counts the workers that were in a sync then. */
export interface WriteTrace {
  podEventAt: number | undefined;
  busyAtPodEvent: number | undefined;
  /** When the sync was first put off because the caches did not show this controller's last write. */
  staleAt: number | undefined;
  syncStart: number;
}

/** The wall clock with sub-millisecond resolution, comparable across processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export class SyncTracer {
  /** Workers in a sync now. */
  busyWorkers = 0;
  private readonly podEvents = new Map<string, { at: number; busy: number }>();
  private readonly staleSince = new Map<string, number>();

  /** A Pod event queued the Service key; the first since its last sync counts. */
  podEvent(key: string, at: number): void {
    if (!this.podEvents.has(key)) this.podEvents.set(key, { at, busy: this.busyWorkers });
  }

  /** A sync of key starts: what happened since its last one. */
  begin(key: string): WriteTrace {
    const pod = this.podEvents.get(key);
    return { podEventAt: pod?.at, busyAtPodEvent: pod?.busy, staleAt: this.staleSince.get(key), syncStart: wallMs() };
  }

  /** The sync that began at trace was put off (stale caches): the next one carries the same times. */
  deferred(key: string, trace: WriteTrace): void {
    if (!this.staleSince.has(key)) this.staleSince.set(key, trace.syncStart);
  }

  /** The sync goes ahead: the next one starts afresh. */
  proceed(key: string): void {
    this.podEvents.delete(key);
    this.staleSince.delete(key);
  }
}
