import type { ServiceEntry } from './types.js';
/**
 * ClientIP session affinity: client address → the backend it last used. Like
 * kube-proxy's `recent` match, the timeout slides: every new connection (or UDP
 * flow) that uses the entry restarts it.
 */
export class AffinityTable {
  private readonly entries = new Map<string, { target: string; expires: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    // Sweep so clients that never come back do not grow the map without bound.
    this.timer = setInterval(() => this.sweep(), Math.min(Math.max(timeoutMs, 1000), 60_000));
    this.timer.unref();
  }

  setTimeout(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
  }

  /** The backend key remembered for this client, if it has not expired. */
  get(client: string): string | undefined {
    const e = this.entries.get(client);
    if (e === undefined) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(client);
      return undefined;
    }
    return e.target;
  }

  set(client: string, target: string): void {
    const expires = this.now() + this.timeoutMs;
    const e = this.entries.get(client);
    if (e === undefined) this.entries.set(client, { target, expires });
    else {
      e.target = target;
      e.expires = expires;
    }
  }

  /** Forgets a client, e.g. when the backend it was just given failed to connect. */
  delete(client: string): void {
    this.entries.delete(client);
  }

  get size(): number {
    return this.entries.size;
  }

  sweep(): void {
    const now = this.now();
    for (const [client, e] of this.entries) if (e.expires <= now) this.entries.delete(client);
  }

  close(): void {
    clearInterval(this.timer);
    this.entries.clear();
  }
}

/**
 * The affinity table an entry's settings call for, keeping `current` (and its clients) when the
 * entry still asks for affinity: shared by the TCP and UDP listeners' in-place updates.
 */
export function reconcileAffinity(
  current: AffinityTable | undefined,
  wanted: ServiceEntry['affinity'],
  now: (() => number) | undefined,
): AffinityTable | undefined {
  if (!wanted) {
    current?.close();
    return undefined;
  }
  if (!current) return new AffinityTable(wanted.timeoutSeconds * 1000, now);
  current.setTimeout(wanted.timeoutSeconds * 1000);
  return current;
}
