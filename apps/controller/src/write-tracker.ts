// Remembers the writes a sync made until the informers show them, so the next sync
// of that Service does not act on a cache that predates them (client-go's
// EndpointSliceTracker / staleEndpointsTracker): creating a second slice because the
// first is not cached yet, or updating from a stale resourceVersion.

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

export class WriteTracker {
  private readonly pending = new Map<string, Map<string, Expectation>>();

  /** Expectations older than ttlMs are dropped, so an event the informer never saw cannot wedge a Service. */
  constructor(private readonly ttlMs = 10_000) {}

  expectWritten(owner: string, object: string, rv: string | undefined): void {
    this.entries(owner).set(object, { rv, deleted: false, at: Date.now() });
  }

  expectDeleted(owner: string, object: string, rv: string | undefined): void {
    this.entries(owner).set(object, { rv, deleted: true, at: Date.now() });
  }

  /**
   * Feeds an informer event. Returns true when the event is the cache catching up with
   * our own write (no need to sync again), false when it is news.
   */
  observe(owner: string, object: string, rv: string | undefined, deleted: boolean): boolean {
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
