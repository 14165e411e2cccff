// Remembers the writes a sync made until the informers show them, so the next sync
// of that Service does not act on a cache that predates them (client-go's
// EndpointSliceTracker / staleEndpointsTracker): creating a second slice because the
// first is not cached yet, or updating from a stale resourceVersion.
// During a sync the events of its own writes are held back: the watch event of a write
// usually comes before the write's response, and taken for news it would queue one more
// (empty) sync of the Service per write.

interface Expectation {
  rv?: string;
  deleted: boolean;
  at: number;
}

/** a ≥ b for resourceVersions: numerically when both are integers, else only when equal. */
export function rvAtLeast(a: string | undefined, b: string | undefined): boolean {
  if (!b) return true;
  if (!a) return false;
  if (isDecimal(a) && isDecimal(b)) {
    // Numeric order without BigInt: the longer number (leading zeros aside) is the larger.
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    return x.length !== y.length ? x.length > y.length : x >= y;
  }
  return a === b;
}

function isDecimal(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return s.length > 0;
}

interface Seen {
  object: string;
  rv?: string;
  deleted: boolean;
}

/** A sync in progress: what it wrote and which events of its owner came meanwhile. */
interface SyncRecord {
  written: Map<string, { rv?: string; deleted: boolean }>;
  seen: Seen[];
}

export class WriteTracker {
  private readonly pending = new Map<string, Map<string, Expectation>>();
  private readonly syncing = new Map<string, SyncRecord>();

  /** Expectations older than ttlMs are dropped, so an event the informer never saw cannot wedge a Service. */
  constructor(private readonly ttlMs = 10_000) {}

  /** A sync of owner starts: until endSync its events are judged against the writes it made. */
  beginSync(owner: string): void {
    this.syncing.set(owner, { written: new Map(), seen: [] });
  }

  /**
   * The sync of owner is over. Returns true when an event came meanwhile that was not one
   * of its own writes (news: sync again); its writes not seen yet become expectations.
   */
  endSync(owner: string): boolean {
    const rec = this.syncing.get(owner);
    if (!rec) return false;
    this.syncing.delete(owner);
    let news = false;
    const delivered = new Set<string>();
    for (const e of rec.seen) {
      const w = rec.written.get(e.object);
      if (w && (w.deleted ? e.deleted : !e.deleted && e.rv === w.rv)) {
        delivered.add(e.object);
      } else if (!(w && !w.deleted && !e.deleted && !rvAtLeast(e.rv, w.rv))) {
        // Not ours, and not a version our write replaced (an update succeeds only on the version it read).
        news = true;
      }
    }
    for (const [object, w] of rec.written) {
      if (!delivered.has(object)) this.entries(owner).set(object, { ...w, at: Date.now() });
    }
    return news;
  }

  expectWritten(owner: string, object: string, rv: string | undefined): void {
    const rec = this.syncing.get(owner);
    if (rec) rec.written.set(object, { rv, deleted: false });
    else this.entries(owner).set(object, { rv, deleted: false, at: Date.now() });
  }

  expectDeleted(owner: string, object: string, rv: string | undefined): void {
    const rec = this.syncing.get(owner);
    if (rec) rec.written.set(object, { rv, deleted: true });
    else this.entries(owner).set(object, { rv, deleted: true, at: Date.now() });
  }

  /**
   * Feeds an informer event. Returns true when the event is the cache catching up with
   * our own write (no need to sync again), false when it is news.
   */
  observe(owner: string, object: string, rv: string | undefined, deleted: boolean): boolean {
    const rec = this.syncing.get(owner);
    if (rec) {
      rec.seen.push({ object, rv, deleted });
      return true; // judged by endSync
    }
    const m = this.pending.get(owner);
    const e = m?.get(object);
    if (!m || !e) return false;
    if (e.deleted) {
      if (!deleted) return false; // still there or recreated: news once it outlives the expectation
      this.drop(owner, object);
      return true;
    }
    if (deleted) {
      this.drop(owner, object);
      return false; // someone deleted what we wrote
    }
    if (rvAtLeast(rv, e.rv)) {
      this.drop(owner, object);
      return rv === e.rv;
    }
    return true; // an older version of our write arriving late
  }

  /** Whether writes of this owner are not yet visible in the caches. */
  isStale(owner: string): boolean {
    const m = this.pending.get(owner);
    if (!m) return false;
    const now = Date.now();
    for (const [k, e] of m) if (now - e.at > this.ttlMs) m.delete(k);
    if (m.size === 0) this.pending.delete(owner);
    return m.size > 0;
  }

  forget(owner: string): void {
    this.pending.delete(owner);
    this.syncing.delete(owner);
  }

  private entries(owner: string): Map<string, Expectation> {
    let m = this.pending.get(owner);
    if (!m) this.pending.set(owner, (m = new Map()));
    return m;
  }

  private drop(owner: string, object: string): void {
    const m = this.pending.get(owner);
    m?.delete(object);
    if (m && m.size === 0) this.pending.delete(owner);
  }
}
