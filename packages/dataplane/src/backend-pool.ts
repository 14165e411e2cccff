import type { Backend } from './types.js';

/** A backend reduced to what the connection path needs, built once per apply. */
export interface Target {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export function targetKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Its key string is made on first use: a cold start builds a pool for every Service, and most targets are
 * never looked up by key (only connections and affinity do).
 */
class PoolTarget implements Target {
  private k: string | undefined;
  readonly family: 4 | 6;

  constructor(
    readonly address: string,
    readonly port: number,
  ) {
    this.family = address.includes(':') ? 6 : 4;
  }

  get key(): string {
    return (this.k ??= targetKey(this.address, this.port));
  }
}

/**
 * The endpoints kube-proxy would send to: ready ones; when none is ready, the
 * serving-and-terminating ones (KEP-1669). `localOnly` first narrows to node-local
 * endpoints (traffic policy Local). Duplicates collapse to one.
 */
export function eligibleBackends(backends: readonly Backend[], localOnly = false): Backend[] {
  const candidate = (b: Backend): boolean => !localOnly || b.nodeLocal === true;
  const anyReady = backends.some((b) => b.ready && candidate(b));
  // One pass, and no Set for the few endpoints most Services have: pools are built for every Service on a cold start.
  const seen = backends.length > 16 ? new Set<string>() : undefined;
  const out: Backend[] = [];
  for (const b of backends) {
    if (!candidate(b) || !(anyReady ? b.ready : b.serving && b.terminating)) continue;
    if (seen !== undefined) {
      const k = targetKey(b.address, b.port);
      if (seen.has(k)) continue;
      seen.add(k);
    } else if (out.some((o) => o.address === b.address && o.port === b.port)) continue;
    out.push(b);
  }
  return out;
}

/**
 * An immutable set of eligible targets with a round-robin cursor. A new pool is
 * built on every change; the cursor carries over so a swap does not reset fairness.
 */
export class BackendPool {
  readonly targets: readonly Target[];
  /** Only for large pools: a scan of a few targets is as fast as a Map and holds no memory. */
  private readonly byKey: ReadonlyMap<string, Target> | undefined;
  private cursor = 0;

  constructor(backends: readonly Backend[], localOnly = false, previous?: BackendPool) {
    this.targets = eligibleBackends(backends, localOnly).map((b) => new PoolTarget(b.address, b.port));
    if (this.targets.length > 16) this.byKey = new Map(this.targets.map((t) => [t.key, t]));
    if (previous && this.targets.length > 0) this.cursor = previous.cursor % this.targets.length;
  }

  get size(): number {
    return this.targets.length;
  }

  get(key: string): Target | undefined {
    if (this.byKey !== undefined) return this.byKey.get(key);
    for (const t of this.targets) if (t.key === key) return t;
    return undefined;
  }

  /** The next target in round-robin order, or undefined when the pool is empty. */
  next(): Target | undefined {
    const n = this.targets.length;
    if (n === 0) return undefined;
    const t = this.targets[this.cursor]!;
    this.cursor = this.cursor + 1 === n ? 0 : this.cursor + 1;
    return t;
  }

  /** For a retry: the first target after `failed` in pool order that is not in `tried`. */
  after(failed: Target, tried: readonly Target[]): Target | undefined {
    const n = this.targets.length;
    const start = this.targets.findIndex((t) => t.key === failed.key);
    for (let i = 1; i <= n; i++) {
      const t = this.targets[(start + i + n) % n]!;
      if (!tried.some((x) => x.key === t.key)) return t;
    }
    return undefined;
  }
}
