// Request limits as kube-apiserver's max-in-flight filter: separate budgets for read-only and
// mutating requests, long-running ones (watches) not counted but capped per user; over budget →
// 429 at once with Retry-After (no queue a client could fill). system:masters is exempt, as in
// Kubernetes.
import { MASTERS_GROUP, type UserInfo } from '@knet/pki';

export interface LimitOptions {
  /** 0 = unlimited. */
  maxReadOnly: number;
  maxMutating: number;
  maxWatchesPerUser: number;
}

export type Slot = { release(): void };

const NOOP: Slot = { release: () => {} };

export class RequestLimits {
  private readOnly = 0;
  private mutating = 0;
  private readonly watches = new Map<string, number>();

  constructor(private readonly o: LimitOptions) {}

  get inflight(): { readOnly: number; mutating: number } {
    return { readOnly: this.readOnly, mutating: this.mutating };
  }

  /** A slot, or undefined when the budget is spent (answer 429). */
  acquire(user: UserInfo, kind: 'readOnly' | 'mutating' | 'watch'): Slot | undefined {
    if (user.groups.includes(MASTERS_GROUP)) return NOOP;
    if (kind === 'watch') {
      const n = this.watches.get(user.name) ?? 0;
      if (this.o.maxWatchesPerUser > 0 && n >= this.o.maxWatchesPerUser) return undefined;
      this.watches.set(user.name, n + 1);
      return once(() => {
        const left = (this.watches.get(user.name) ?? 1) - 1;
        if (left <= 0) this.watches.delete(user.name);
        else this.watches.set(user.name, left);
      });
    }
    const max = kind === 'readOnly' ? this.o.maxReadOnly : this.o.maxMutating;
    if (max > 0 && this[kind] >= max) return undefined;
    this[kind]++;
    return once(() => this[kind]--);
  }
}

function once(fn: () => void): Slot {
  let done = false;
  return { release: () => { if (!done) { done = true; fn(); } } };
}
