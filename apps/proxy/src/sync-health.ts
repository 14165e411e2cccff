// kube-proxy's ProxierHealthServer logic: healthy while changes are programmed in time. Unhealthy when a
// queued change has waited longer than the timeout, or when no sync has completed for that long.

export interface HealthReport {
  healthy: boolean;
  lastUpdated: string;
  currentTime: string;
  /** Why it is unhealthy; absent when healthy. */
  reason?: string;
}

export class SyncHealth {
  private lastUpdated: number;
  /** Oldest change not yet programmed; undefined when none is pending. */
  private oldestQueued: number | undefined;
  private syncedOnce = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    // Starting up counts as an update: a proxy that never manages a first sync turns unhealthy after the timeout.
    this.lastUpdated = now();
  }

  queued(): void {
    this.oldestQueued ??= this.now();
  }

  /** A sync completed that included everything queued before `startedAt`. */
  updated(startedAt: number = this.now()): void {
    this.lastUpdated = this.now();
    this.syncedOnce = true;
    if (this.oldestQueued !== undefined && this.oldestQueued <= startedAt) this.oldestQueued = undefined;
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  report(): HealthReport {
    const now = this.now();
    const base = { lastUpdated: new Date(this.lastUpdated).toISOString(), currentTime: new Date(now).toISOString() };
    if (this.oldestQueued !== undefined && now - this.oldestQueued > this.timeoutMs) {
      return { healthy: false, ...base, reason: `a change queued ${Math.round((now - this.oldestQueued) / 1000)}s ago is not programmed yet` };
    }
    if (now - this.lastUpdated > this.timeoutMs) {
      return {
        healthy: false,
        ...base,
        reason: this.syncedOnce ? `no sync completed for ${Math.round((now - this.lastUpdated) / 1000)}s` : 'no sync has completed since start (is the apiserver reachable?)',
      };
    }
    return { healthy: true, ...base };
  }
}
